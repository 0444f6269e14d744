"""The demo's secrets, generated on first run and kept outside the repository.

Nothing that lets someone forge a webhook, call the sandbox's API or inject faults is a constant
in the source: the Django secret key, the sandbox's client credentials and webhook id are random
values written once to ``<demo dir>/secrets.json`` (mode 0600), and the sandbox's signing key to
``<demo dir>/paypal-sandbox-signing.pem``. The demo directory is ``LOCKEDCARTS_DEMO_DIR``,
by default ``.demo/`` at the top of the checkout (ignored by git).
"""

import json
import os
import secrets
from pathlib import Path


def _new_secrets():
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PAYPAL_CLIENT_ID": f"demo-{secrets.token_hex(12)}",
        "PAYPAL_CLIENT_SECRET": secrets.token_urlsafe(32),
        "PAYPAL_WEBHOOK_ID": secrets.token_hex(9).upper(),
    }


def load(demo_dir):
    """The secrets in ``demo_dir``, created there atomically if missing (first writer wins)."""
    demo_dir = Path(demo_dir)
    path = demo_dir / "secrets.json"
    if not path.exists():
        demo_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = demo_dir / f"secrets.json.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(_new_secrets(), handle, indent=2)
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    return json.loads(path.read_text())
