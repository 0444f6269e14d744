#!/usr/bin/env python
"""Measure the PayPal return page and webhooks on SQLite *without* ``transaction_mode:
IMMEDIATE`` (the README's minimal settings on a fresh ``wagtail start`` project): N shoppers
check out through the offline sandbox, then all come back from PayPal at once while the
sandbox's webhooks arrive. Prints the status codes the shop answered and the lock errors logged.

    .venv/bin/python scripts/dropin_sqlite_concurrency.py [N]

The approvals on the sandbox's own page run one at a time (1.5 s apart): the sandbox is a
development tool and itself needs ``transaction_mode: IMMEDIATE`` under concurrent writes.
"""

import collections
import html
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.dropin_project import build, free_port  # noqa: E402

BUTTON = re.compile(r'<button type="submit" name="action" value="(?P<value>[a-z_]+)"[^>]*>(?P<label>[^<]+)</button>')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="(?P<token>[^"]+)"')


def checkout(project):
    shopper = requests.Session()
    home = shopper.get(project.url("/"), timeout=30)
    key = re.search(r'name="product" value="([^"]+)"', home.text)[1]
    token = CSRF.search(home.text)["token"]
    shopper.post(project.url("/cart/add/"), data={"product": key, "quantity": 1, "csrfmiddlewaretoken": token})
    cart = shopper.get(project.url("/cart/"), timeout=30)
    token = CSRF.search(cart.text)["token"]
    to_paypal = shopper.post(project.url("/cart/checkout/"), data={"csrfmiddlewaretoken": token}, allow_redirects=False)
    approval = shopper.get(to_paypal.headers["Location"], timeout=30)
    buttons = {html.unescape(m["label"]): m["value"] for m in BUTTON.finditer(approval.text)}
    data = {"action": buttons["Pay"], "csrfmiddlewaretoken": CSRF.search(approval.text)["token"]}
    approved = shopper.post(to_paypal.headers["Location"], data=data, allow_redirects=False)
    assert approved.status_code == 302, approved.status_code
    return shopper, approved.headers["Location"]


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory(prefix="lockedcarts-sqlite-") as workdir:
        project, _outputs = build(workdir, free_port(), block="settings-minimal")
        project.serve()
        try:
            returns = []
            for _ in range(count):
                returns.append(checkout(project))
                time.sleep(1.5)
            started = time.monotonic()
            with ThreadPoolExecutor(count) as pool:
                codes = list(pool.map(lambda item: item[0].get(item[1], allow_redirects=False).status_code, returns))
            time.sleep(8)  # the sandbox's webhook threads
            log = (project.dir / "runserver.log").read_text()
            answered = collections.Counter(re.findall(r'"(?:POST|GET) (/cart/paypal/\w+/)[^"]*" (\d{3})', log))
            statuses = project.shell(
                "from collections import Counter; from wagtail_lockedcarts.models import Cart; "
                "print(dict(Counter(Cart.objects.values_list('status', flat=True))))"
            )
            print(f"{count} returns at once: {dict(collections.Counter(codes))} in {time.monotonic() - started:.1f} s")
            print(f"shop answers (path, status): {dict(answered)}")
            print(f"'database is locked' raised (and retried) in the log: {log.count('database is locked')}")
            print(f"carts: {statuses}")
        finally:
            project.stop()


if __name__ == "__main__":
    main()
