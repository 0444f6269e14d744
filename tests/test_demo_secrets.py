"""The demo's secrets are generated on first run and kept out of the repository; DEBUG and the
sandbox's fault/settle controls are on only where the demo (or the tests) turn them on."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from example_site import demo_secrets
from wagtail_lockedcarts.contrib.paypal_sandbox import signing

ROOT = Path(__file__).resolve().parent.parent


def test_secrets_are_generated_once_private_and_different_for_each_demo(tmp_path):
    first = demo_secrets.load(tmp_path / "one")
    again = demo_secrets.load(tmp_path / "one")
    other = demo_secrets.load(tmp_path / "two")

    assert first == again and first != other
    assert all(len(value) >= 16 for value in first.values())
    assert stat.S_IMODE(os.stat(tmp_path / "one" / "secrets.json").st_mode) == 0o600


def example_settings(tmp_path, **env):
    """The example site's settings as a fresh process sees them, with only ``env`` set."""
    script = (
        "import json; from example_site import settings as s; print(json.dumps({"
        "'DEBUG': s.DEBUG, 'SECRET_KEY': s.SECRET_KEY, 'SANDBOX': s.PAYPAL_SANDBOX, "
        "'PAYPAL': s.WAGTAIL_LOCKEDCARTS['PAYPAL']}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAYPAL_", "DJANGO_", "LOCKEDCARTS_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT / "example_site",
        env={**clean, "LOCKEDCARTS_DEMO_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_example_site_uses_the_generated_secrets_with_debug_and_controls_off(tmp_path):
    seen = example_settings(tmp_path)
    stored = json.loads((tmp_path / "secrets.json").read_text())

    assert seen["DEBUG"] is False and seen["SANDBOX"]["CONTROL_ENABLED"] is False
    assert seen["SECRET_KEY"] == stored["DJANGO_SECRET_KEY"]
    assert seen["SANDBOX"]["CLIENT_SECRET"] == seen["PAYPAL"]["CLIENT_SECRET"] == stored["PAYPAL_CLIENT_SECRET"]
    assert seen["SANDBOX"]["WEBHOOK_ID"] == seen["PAYPAL"]["WEBHOOK_ID"] == stored["PAYPAL_WEBHOOK_ID"]
    assert Path(seen["SANDBOX"]["SIGNING_KEY_FILE"]).parent == tmp_path
    source = (ROOT / "example_site" / "example_site" / "settings.py").read_text()
    assert stored["PAYPAL_CLIENT_SECRET"] not in source


def test_make_demo_turns_debug_and_the_sandbox_controls_on(tmp_path):
    exported = subprocess.run(
        [
            "bash",
            "-c",
            'source scripts/demo-env.sh; echo "$DJANGO_DEBUG $PAYPAL_SANDBOX_CONTROL $LOCKEDCARTS_DEMO_DIR"',
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PAYPAL_", "LOCKEDCARTS_"))},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert exported == ["1", "1", str(ROOT / ".demo")]

    seen = example_settings(tmp_path, DJANGO_DEBUG="1", PAYPAL_SANDBOX_CONTROL="1")
    assert seen["DEBUG"] is True and seen["SANDBOX"]["CONTROL_ENABLED"] is True


def test_the_sandbox_controls_answer_404_unless_enabled(paypal_sandbox, settings):
    from wagtail_lockedcarts.contrib.paypal_sandbox import conf

    settings.PAYPAL_SANDBOX = {**settings.PAYPAL_SANDBOX, "CONTROL_ENABLED": False}
    response = requests.post(
        f"{paypal_sandbox.api_base}/control/faults",
        json={"fail_next": 5},
        auth=(conf.get("CLIENT_ID"), conf.get("CLIENT_SECRET")),
        timeout=10,
    )
    assert response.status_code == 404


@pytest.mark.parametrize("credentials", [("", ""), ("sandbox-client", "sandbox-secret")])
def test_a_sandbox_without_configured_credentials_authenticates_nobody(paypal_sandbox, settings, credentials):
    settings.PAYPAL_SANDBOX = {**settings.PAYPAL_SANDBOX, "CLIENT_ID": "", "CLIENT_SECRET": ""}

    response = requests.post(
        f"{paypal_sandbox.api_base}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=credentials,
        timeout=10,
    )
    assert response.status_code == 401


def test_the_sandbox_signing_key_file_is_created_once_and_private(tmp_path):
    path = tmp_path / "keys" / "signing.pem"

    first = signing._load_or_create(str(path))
    second = signing._load_or_create(str(path))

    assert first.cert_name == second.cert_name
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
