"""A flood of forged webhooks is cheap to refuse and does not crowd out genuine ones.

A real multi-worker gunicorn on 127.0.0.1 serves the shop, and a second one serves "PayPal" (the
offline sandbox), both on the test's PostgreSQL database: PayPal is another service, as in
production, so a worker downloading PayPal's certificate never waits for a worker of its own shop. 500 forged deliveries arrive at concurrency 20 — the reported attack (five
``PAYPAL-*`` headers set to ``x``), a genuine delivery dated 2019, a disallowed algorithm, a
foreign certificate host, a replayed transmission and a wrong signature with PayPal's genuine
certificate URL — while five genuine deliveries arrive in their midst. The gunicorn access log
of the PayPal server shows every call the shop made to it: none may be caused by a forgery.
"""

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.urls import reverse

from tests.fixtures_paypal import SandboxHelper, Shopper

ROOT = Path(__file__).resolve().parent.parent
FORGED = 500
CONCURRENCY = 20
GENUINE = 5
WORKERS = 3


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(name, port, workers, env, tmp_path):
    access_log = tmp_path / f"{name}-access.log"
    with open(tmp_path / f"{name}.log", "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "example_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--access-logfile",
                str(access_log),
                "--access-logformat",
                "%(m)s %(U)s %(s)s %(M)s",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for _ in range(150):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)
            break
        except requests.RequestException:
            assert process.poll() is None, (tmp_path / f"{name}.log").read_text()
            time.sleep(0.2)
    return process, access_log


def stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def gunicorn(postgres, tmp_path, settings):
    """(shop URL, its access log, PayPal URL, PayPal's access log): two servers, one database."""
    shop_port, paypal_port = free_port(), free_port()
    base, paypal_base = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{paypal_port}"
    key_file = tmp_path / "sandbox-signing.pem"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_flood",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'example_site'}",
        "LOCKEDCARTS_FLOOD_BASE": base,
        "LOCKEDCARTS_FLOOD_PAYPAL": paypal_base,
        "LOCKEDCARTS_FLOOD_DB": connection.settings_dict["NAME"],
        "LOCKEDCARTS_SANDBOX_KEY_FILE": str(key_file),
    }
    processes = []
    try:
        paypal, paypal_log = start_gunicorn("paypal", paypal_port, 2, env, tmp_path)
        processes.append(paypal)
        shop, shop_log = start_gunicorn("shop", shop_port, WORKERS, env, tmp_path)
        processes.append(shop)
        # The test process signs deliveries with the same key as the sandbox in the workers.
        settings.PAYPAL_SANDBOX = {**settings.PAYPAL_SANDBOX, "SIGNING_KEY_FILE": str(key_file)}
        yield base, shop_log, paypal_base, paypal_log
    finally:
        for process in processes:
            stop(process)


def forged_deliveries(genuine_body, genuine_headers, replayed_headers):
    """The six kinds of forgery, in turn."""
    x_headers = {
        h: "x" for h in ("PAYPAL-AUTH-ALGO", "PAYPAL-CERT-URL", "PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-SIG")
    }
    kinds = [
        ("five headers x", {**x_headers, "PAYPAL-TRANSMISSION-TIME": "x"}),
        ("dated 2019", {**genuine_headers, "PAYPAL-TRANSMISSION-TIME": "2019-11-13T16:15:44Z"}),
        ("algorithm", {**genuine_headers, "PAYPAL-AUTH-ALGO": "HS256"}),
        ("foreign cert host", {**genuine_headers, "PAYPAL-CERT-URL": "https://evil.example/v1/notifications/certs/C"}),
        ("replayed transmission", replayed_headers),
        ("wrong signature", genuine_headers),  # a fresh transmission id, but signed for another one
    ]
    for index in range(FORGED):
        name, headers = kinds[index % len(kinds)]
        headers = dict(headers)
        if name == "wrong signature":
            headers["PAYPAL-TRANSMISSION-ID"] = f"00000000-0000-4000-8000-{index:012d}"
        yield name, genuine_body, headers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_500_forged_deliveries_at_concurrency_20_cost_no_call_to_paypal_and_genuine_ones_still_apply(
    gunicorn, shop, cart_settings
):
    from wagtail_lockedcarts.contrib.paypal_sandbox.webhooks import signed_request
    from wagtail_lockedcarts.models import Cart, CartStatus

    base, access_log, paypal_base, paypal_log = gunicorn
    webhook_url = base + reverse("wagtail_lockedcarts:paypal_webhook")
    helper = SandboxHelper(paypal_base, settings=None)
    shoppers = []
    for _ in range(GENUINE + 1):
        shopper = Shopper(base)
        shopper.add(shop[0].cart_key)
        response = shopper.checkout()
        assert response.status_code == 302, response.text[:300]
        helper.approve(response.headers["Location"], "Pay and close the window (never return)", session=shopper.session)
        shoppers.append(shopper)
    webhooks = helper.webhooks(event_type="CHECKOUT.ORDER.APPROVED")
    assert len(webhooks) == GENUINE + 1

    # One genuine delivery before the flood: its transmission is then replayed by the attacker.
    first_body, first_headers = signed_request(webhooks[0])
    assert requests.post(webhook_url, data=first_body, headers=first_headers, timeout=30).status_code == 200
    attacker_body, attacker_headers = signed_request(webhooks[0])
    attacker_headers["PAYPAL-TRANSMISSION-SIG"] = first_headers["PAYPAL-TRANSMISSION-SIG"]
    forgeries = list(forged_deliveries(first_body, attacker_headers, first_headers))
    before_flood = len(access_log.read_text().splitlines())
    paypal_before_flood = len(paypal_log.read_text().splitlines())

    local = threading.local()

    def post(body, headers):
        local.session = getattr(local, "session", None) or requests.Session()
        started = time.perf_counter()
        status = local.session.post(webhook_url, data=body, headers=headers, timeout=30).status_code
        return status, time.perf_counter() - started

    genuine_statuses = []

    def deliver_genuine():
        time.sleep(0.5)  # in the midst of the flood
        for webhook in webhooks[1:]:
            genuine_statuses.append(post(*signed_request(webhook))[0])

    started = time.perf_counter()
    genuine_thread = threading.Thread(target=deliver_genuine)
    genuine_thread.start()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(lambda item: post(item[1], item[2]), forgeries))
    genuine_thread.join(60)
    flood_seconds = time.perf_counter() - started

    latencies = sorted(seconds * 1000 for _status, seconds in results)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"\n{FORGED} forged deliveries at concurrency {CONCURRENCY} on {WORKERS} gunicorn workers: "
        f"{flood_seconds:.1f} s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms"
    )
    assert [status for status, _seconds in results] == [400] * FORGED
    assert genuine_statuses == [200] * GENUINE
    assert all(shopper.cart().status == CartStatus.ORDERED for shopper in shoppers)
    assert Cart.objects.filter(status=CartStatus.ORDERED).count() == GENUINE + 1

    log_lines = [line.split() for line in access_log.read_text().splitlines()[before_flood:]]
    served = sorted(
        int(ms) for method, path, status, ms in log_lines if path == webhook_url[len(base) :] and status == "400"
    )
    print(
        f"server-side time of the refusals (gunicorn access log): p50 {statistics.median(served)} ms, "
        f"p99 {served[int(len(served) * 0.99) - 1]} ms"
    )

    # Every call to "PayPal" during the flood served a genuine delivery.
    genuine_orders = {webhook.order_id for webhook in webhooks}
    paypal_lines = [line.split() for line in paypal_log.read_text().splitlines()[paypal_before_flood:]]
    sandbox_calls = [path for _method, path, _status, _ms in paypal_lines if "/paypal-sandbox/" in path]
    print(f"calls to PayPal during the flood: {len(sandbox_calls)}, all for the {GENUINE} genuine deliveries")
    for path in sandbox_calls:
        order = re.search(r"/v2/checkout/orders/([^/]+)", path)
        assert (
            path.endswith("/v1/oauth2/token")
            or "/v1/notifications/certs/" in path
            or (order and order.group(1) in genuine_orders)
        ), path
    assert len([path for path in sandbox_calls if "/certs/" in path]) <= WORKERS
    assert p99 < 5000  # generous: a shared 2-core machine under load; the figures are printed
