"""Build a fresh ``wagtail start`` project and apply the README's install steps to it.

The steps are read out of README.md (the fenced block after each ``<!-- dropin:NAME -->``
marker), so the README and what the install test runs cannot drift apart. Used by
``tests/test_dropin_install.py`` and by ``scripts/dropin_screenshot.py``.
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SNIPPET = re.compile(r"<!-- dropin:(?P<name>[\w-]+) -->\s*```[a-z]*\n(?P<body>.*?)```", re.S)
DEMO_ADDRESS = "127.0.0.1:8000"  # what the README's snippets say; replaced by the test's own port


def readme_snippets():
    return {m["name"]: m["body"] for m in SNIPPET.finditer(README.read_text(encoding="utf-8"))}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Project:
    """A ``wagtail start mysite`` project in ``directory``, run with this interpreter."""

    def __init__(self, directory, port):
        self.dir = Path(directory)
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.snippets = readme_snippets()
        self.server = None

    # ---- building ---------------------------------------------------------------------------

    def run(self, *args, check=True, timeout=300):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.dir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def env(self):
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PAYPAL_"))}
        env["PYTHONPATH"] = f"{self.dir}{os.pathsep}{ROOT}"  # this checkout's wagtail_lockedcarts
        return env

    def snippet(self, name):
        return self.snippets[name].replace(DEMO_ADDRESS, self.address)

    def append(self, relative, text):
        path = self.dir / relative
        path.write_text(path.read_text(encoding="utf-8") + "\n\n" + text, encoding="utf-8")

    def create(self):
        subprocess.run(
            [sys.executable, "-m", "wagtail.bin.wagtail", "start", "mysite", str(self.dir)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def apply_settings(self, block):
        """Paste settings block ``block`` ("settings-minimal" or "settings-complete") into base.py
        and the sandbox block into dev.py, like the README says."""
        base = self.dir / "mysite" / "settings" / "base.py"
        if not hasattr(self, "_pristine_base"):
            self._pristine_base = base.read_text(encoding="utf-8")
        base.write_text(self._pristine_base + "\n\n" + self.snippet(block), encoding="utf-8")

    def apply_rest(self):
        self.append("mysite/settings/dev.py", self.snippet("settings-sandbox"))
        self.append("mysite/urls.py", self.snippet("urls"))
        models = self.dir / "home" / "models.py"
        models.write_text(self.snippet("model"), encoding="utf-8")
        home = self.dir / "home" / "templates" / "home" / "home_page.html"
        text = home.read_text(encoding="utf-8")
        marker = "{% block content %}"
        assert marker in text
        home.write_text(text.replace(marker, marker + "\n" + self.snippet("product-template"), 1), encoding="utf-8")
        base = self.dir / "mysite" / "templates" / "base.html"
        text = base.read_text(encoding="utf-8")
        marker = "{% wagtailuserbar %}"
        assert marker in text
        base.write_text(text.replace(marker, marker + "\n" + self.snippet("base-template"), 1), encoding="utf-8")

    def commands(self):
        """The README's commands, minus the long-running server (started by :meth:`serve`)."""
        return [
            line.split("#")[0].split()[2:]
            for line in self.snippets["commands"].splitlines()
            if line.startswith("python manage.py") and "runserver" not in line
        ]

    # ---- running ----------------------------------------------------------------------------

    def serve(self):
        log = open(self.dir / "runserver.log", "w")  # noqa: SIM115 - closed in stop()
        self.server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", self.address, "--noreload"],
            cwd=self.dir,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._log = log
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.url("/cart/"), timeout=2)
                return
            except requests.ConnectionError:
                if self.server.poll() is not None:
                    break
                time.sleep(0.3)
        self.stop()
        raise AssertionError("runserver did not start:\n" + (self.dir / "runserver.log").read_text())

    def stop(self):
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def url(self, path):
        return f"http://{self.address}{path}"

    def shell(self, code):
        return self.run("shell", "--no-imports", "-c", code).stdout.strip()


def build(directory, port, block="settings-complete"):
    """A project with the README's steps applied, migrated and checked (returns it and the
    output of ``check``)."""
    project = Project(directory, port)
    project.create()
    project.apply_settings(block)
    project.apply_rest()
    outputs = {}
    for command in project.commands():
        outputs[command[0]] = project.run(*command)
    project.shell(
        "from home.models import HomePage; "
        "HomePage.objects.update(price='12.50', sku='WELCOME-1'); "
        "[p.save_revision().publish() for p in HomePage.objects.all()]"
    )
    return project, outputs
