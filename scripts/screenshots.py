#!/usr/bin/env python
"""Take the README screenshots from the demo shop, in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--port 0] [--keep-db]

A throwaway SQLite database in a temp dir gets the migrations, an admin login and the demo data
(``seed_demo``), so the pictures show exactly what ``make demo`` shows and nothing of anyone's
own demo database. ``runserver`` serves it on a free loopback port; Playwright signs in as the
admin (and as the demo customer Alice, whose cart is locked) and saves 1280x800 PNGs. The server
is stopped by its PID whatever happens.

Never runs ``playwright install``: the browser is ``LOCKEDCARTS_CHROMIUM`` (default
``/usr/bin/chromium``).
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = ROOT / "example_site"
sys.path.insert(0, str(ROOT))
from tests.fixtures_browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402  (one browser setup for tests and pictures)

MAX_PNG_BYTES = 300 * 1024
CUSTOMER = ("alice", "demo")  # seed_demo: Alice's cart is locked (pending eCheck, Visa ••••4242)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DemoServer:
    """The example site on a throwaway database, served by ``runserver`` until :meth:`stop`."""

    def __init__(self, workdir, port):
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.admin_password = secrets.token_urlsafe(12)
        self.process = None
        self.log = open(Path(workdir) / "runserver.log", "w")
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "example_site.settings",
            "LOCKEDCARTS_DB": str(Path(workdir) / "db.sqlite3"),
            "WAGTAILADMIN_BASE_URL": self.base_url,
            "PAYPAL_API_BASE": self.base_url + "/paypal-sandbox",
            "PAYPAL_SANDBOX_WEBHOOK_URL": self.base_url + "/cart/paypal/webhook/",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_DEBUG": "1",
            "PAYPAL_SANDBOX_CONTROL": "1",
            "LOCKEDCARTS_DEMO_DIR": str(Path(workdir) / "demo"),
        }
        self.env.pop("DATABASE_URL_PG_PORT", None)  # always the throwaway SQLite file

    def manage(self, *args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=EXAMPLE_SITE, env=self.env, check=True)

    def prepare(self):
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage(
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth import get_user_model; "
            "get_user_model().objects.create_superuser("
            f"'admin', 'admin@example.com', {self.admin_password!r}, first_name='Shop', last_name='Admin')",
        )
        self.manage("seed_demo")

    def start(self, timeout=30):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=EXAMPLE_SITE,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"runserver exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base_url + "/admin/login/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"runserver did not answer within {timeout} s; see {self.log.name}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def shoot(page, out, name, full_page=False):
    path = out / name
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    size = path.stat().st_size
    if size > MAX_PNG_BYTES:
        raise RuntimeError(f"{name} is {size // 1024} KB, over the {MAX_PNG_BYTES // 1024} KB budget")
    print(f"  {name}: {size // 1024} KB")


def expect_admin(page, base_url):
    """Fail loudly rather than save a picture of the login page."""
    if "/admin/login/" in page.url or page.locator("#id_password").count():
        raise RuntimeError(f"not signed in to the admin at {page.url}")
    assert page.url.startswith(base_url + "/admin/"), page.url


def offline_context(browser, base_url):
    """A browser context that may only talk to the demo server: a picture never depends on,
    or waits for, the internet (anything else is aborted, and shows as broken)."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(15_000)

    def only_the_demo(route):
        if route.request.url.startswith(base_url + "/"):
            route.continue_()
        else:
            print(f"  blocked {route.request.url}")
            route.abort()

    context.route("**/*", only_the_demo)
    return context


def take_screenshots(base_url, admin_password, out):
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            admin = offline_context(browser, base_url).new_page()
            admin.goto(base_url + "/admin/login/")
            admin.fill("#id_username", "admin")
            admin.fill("#id_password", admin_password)
            admin.get_by_role("button", name="Sign in").click()
            admin.wait_for_url(base_url + "/admin/")

            expect_admin(admin, base_url)
            admin.locator("#locked-carts-section").wait_for()
            shoot(admin, out, "dashboard.png")

            admin.goto(base_url + "/admin/lockedcarts/carts/?cart_filter=locked")
            expect_admin(admin, base_url)
            admin.locator("table.listing tbody tr").first.wait_for()
            shoot(admin, out, "cart-management.png")

            # The article's step: "click on the Edit button in the row of the cart in question".
            admin.locator("table.listing tbody tr", has_text="Alice").get_by_role(
                "link", name=re.compile(r"^Edit\b")
            ).first.click()
            admin.wait_for_url(f"{base_url}/admin/lockedcarts/carts/inspect/**")
            expect_admin(admin, base_url)
            details_url = admin.url
            shoot(admin, out, "cart-details.png")

            # Check PayPal now: PayPal (the sandbox) still holds the eCheck, so nothing changes.
            admin.get_by_role("link", name="Check PayPal now", exact=True).first.click()
            admin.wait_for_url(f"{base_url}/admin/lockedcarts/carts/check-paypal/**")
            with admin.expect_navigation():
                admin.get_by_role("button", name="Ask PayPal").click()
            expect_admin(admin, base_url)
            admin.locator(".messages").first.wait_for()
            shoot(admin, out, "check-paypal.png")
            admin.goto(details_url)

            admin.get_by_role("link", name="Confirm Order", exact=True).first.click()
            admin.wait_for_url(f"{base_url}/admin/lockedcarts/carts/confirm/**")
            expect_admin(admin, base_url)
            shoot(admin, out, "confirm-order.png")  # only the GET: nothing is confirmed

            admin.goto(base_url + "/admin/settings/wagtail_lockedcarts/lockedcartsettings/")
            expect_admin(admin, base_url)
            admin.get_by_role("tab", name="Emails").click()
            admin.get_by_text("Email System Messages").first.wait_for()
            shoot(admin, out, "settings.png")

            admin.goto(base_url + "/admin/lockedcarts/orders/")
            expect_admin(admin, base_url)
            admin.locator("table.listing tbody tr").first.wait_for()
            shoot(admin, out, "orders.png")

            shopper = offline_context(browser, base_url).new_page()
            shopper.goto(base_url + "/accounts/login/?next=/cart/")
            shopper.fill("input[name=username]", CUSTOMER[0])
            shopper.fill("input[name=password]", CUSTOMER[1])
            shopper.get_by_role("button", name="Sign in").click()
            shopper.wait_for_url(base_url + "/cart/")
            status = shopper.locator(".lockedcarts-cart").get_attribute("data-cart-status")
            if status != "locked":
                raise RuntimeError(f"Alice's cart is {status!r}, not locked: did seed_demo change?")
            shoot(shopper, out, "shop-cart-locked.png")

            # A guest who went to PayPal and came back with the back button: the frozen cart.
            guest = offline_context(browser, base_url).new_page()
            guest.goto(base_url + "/")
            with guest.expect_navigation():
                guest.get_by_role("button", name="Add to cart").first.click()
            guest.goto(base_url + "/cart/")
            guest.get_by_role("button", name="Pay with PayPal").click()
            guest.wait_for_url(f"{base_url}/paypal-sandbox/**")
            guest.goto(base_url + "/cart/")
            guest.get_by_role("link", name="Return to PayPal").wait_for()
            shoot(guest, out, "shop-cart-awaiting.png")
        finally:
            browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--port", type=int, default=0, help="loopback port for runserver (0: a free one)")
    parser.add_argument("--keep-db", action="store_true", help="keep the temp dir with the database and server log")
    args = parser.parse_args()
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        sys.exit(f"Chromium not found at {CHROMIUM} (set LOCKEDCARTS_CHROMIUM)")

    workdir = tempfile.mkdtemp(prefix="lockedcarts-screenshots-")
    server = DemoServer(workdir, args.port or free_port())
    try:
        print(f"== Demo database in {workdir}")
        server.prepare()
        server.start()
        print(f"== Serving {server.base_url} (pid {server.process.pid}); screenshots into {args.out}")
        take_screenshots(server.base_url, server.admin_password, args.out.resolve())
    finally:
        server.stop()
        if args.keep_db:
            print(f"== Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
