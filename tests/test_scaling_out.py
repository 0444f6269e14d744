"""Scaling out: gunicorn with several workers and two ``qcluster`` processes on django-q2's Redis
broker, all on one PostgreSQL database, under a bounded loopback load.

Shoppers check out through the offline sandbox (PayPal's webhooks arrive on their own, from the
sandbox's delivery threads, and PayPal-style redeliveries of every one of them follow), an admin
lists, searches and confirms the carts that locked, and the hourly schedule falls due while both
clusters run their schedulers. What must hold: no 5xx, one order per paid cart, each webhook
applied once, the daily e-mail sent once for the site. The test prints requests/s and the 95th
percentile latency (README, "Scaling out").

Needs PostgreSQL and Debian's ``redis-server`` (started here on 127.0.0.1, stopped by its PID).
Without ``redis-server`` the test skips, unless ``LOCKEDCARTS_REQUIRE_ALL=1`` (CI), where it fails.
"""

import html
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.utils import timezone

from wagtail_lockedcarts.background.schedules import CHECKOUT_SWEEP, DAILY_NOTIFICATION, ensure_schedules

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_ALL = os.environ.get("LOCKEDCARTS_REQUIRE_ALL") == "1"
GUNICORN_WORKERS = 3
SHOPPERS = 16
PENDING_EVERY = 4  # every 4th shopper pays by eCheck: the cart locks and an admin confirms it
CONCURRENCY = 4
DEADLINE_SECONDS = 80
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
BUTTON = re.compile(r'<button type="submit" name="action" value="(?P<value>[a-z_]+)"[^>]*>(?P<label>[^<]+)</button>')


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, log_path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, Path(log_path).read_text()[-3000:]
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}: {Path(log_path).read_text()[-3000:]}")


def start(args, log_path, env=None):
    log = open(log_path, "wb")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return process


def stop(process, timeout=15):
    """TERM, then KILL the process group if it does not end (each was started in its own)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture
def redis_port(tmp_path):
    binary = shutil.which("redis-server")
    if not binary:
        if REQUIRE_ALL:
            pytest.fail("redis-server is missing and LOCKEDCARTS_REQUIRE_ALL=1")
        pytest.skip("needs Debian's redis-server (apt-get install redis-server)")
    port = free_port()
    log_path = tmp_path / "redis.log"
    process = start(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        log_path,
    )
    try:
        wait_for_port(port, process, log_path)
        yield port
    finally:
        stop(process)


class Recorder:
    """Every HTTP request of the load: (seconds, status), thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples = []

    def session(self):
        session = requests.Session()
        recorder = self
        original = session.request

        def request(method, url, **kwargs):
            kwargs.setdefault("timeout", 60)
            kwargs.setdefault("allow_redirects", False)
            started = time.perf_counter()
            response = original(method, url, **kwargs)
            with recorder.lock:
                recorder.samples.append((time.perf_counter() - started, response.status_code, method, url))
            return response

        session.request = request
        return session


def csrf_of(page):
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def shop_and_pay(base, recorder, product_key, button):
    """One shopper: add to cart, check out, approve at the sandbox, come back. Returns the
    session key and the final page."""
    session = recorder.session()
    login = session.get(f"{base}/accounts/login/")
    token = csrf_of(login)
    response = session.post(
        f"{base}/cart/add/", data={"product": product_key, "quantity": 1, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302, response.status_code
    response = session.post(f"{base}/cart/checkout/", data={"csrfmiddlewaretoken": session.cookies["csrftoken"]})
    assert response.status_code == 302, (response.status_code, response.text[:300])
    approve_url = response.headers["Location"]
    page = session.get(approve_url)
    buttons = {html.unescape(m["label"]): m["value"] for m in BUTTON.finditer(page.text)}
    response = session.post(
        approve_url,
        data={"csrfmiddlewaretoken": csrf_of(page), "action": buttons[button], "email": "buyer@example.com"},
    )
    assert response.status_code == 302, (response.status_code, response.text[:300])
    final = session.get(response.headers["Location"])
    return session.cookies.get("sessionid"), final


def redeliver(base, recorder, webhook):
    from wagtail_lockedcarts.contrib.paypal_sandbox.webhooks import signed_request

    body, headers = signed_request(webhook)
    return recorder.session().post(f"{base}/cart/paypal/webhook/", data=body, headers=headers)


def admin_session(base, recorder):
    session = recorder.session()
    page = session.get(f"{base}/admin/login/")
    response = session.post(
        f"{base}/admin/login/",
        data={"username": "ops", "password": "ops-password", "csrfmiddlewaretoken": csrf_of(page)},
    )
    assert response.status_code == 302, response.text[:500]
    return session


def admin_browses(base, recorder, stop_event):
    """An admin keeps Cart Management, a search and the Orders listing open while shoppers pay."""
    session = admin_session(base, recorder)
    while not stop_event.is_set():
        for path in ("/admin/lockedcarts/carts/", "/admin/lockedcarts/carts/?q=buyer", "/admin/lockedcarts/orders/"):
            assert session.get(base + path).status_code == 200
        time.sleep(0.2)


def confirm(base, session, cart_pk):
    url = f"{base}/admin/lockedcarts/carts/confirm/{cart_pk}/"
    page = session.get(url)
    assert page.status_code == 200, page.status_code
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form["csrfmiddlewaretoken"] = csrf_of(page)
    return session.post(url, data=form)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_gunicorn_workers_and_two_clusters_on_redis_serve_a_burst_once_each(
    postgres, redis_port, shop, notify_settings, django_user_model, tmp_path, settings
):
    from django_q.models import Schedule, Success

    from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxWebhook
    from wagtail_lockedcarts.models import Cart, CartStatus, DailyNotificationRun, Order, WebhookEvent

    notify_settings.pending_payment_policy = "lock"
    notify_settings.save()
    django_user_model.objects.create_superuser("ops", "ops@example.com", "ops-password")
    ensure_schedules()
    due = timezone.now() - timedelta(seconds=1)
    Schedule.objects.filter(name__in=[DAILY_NOTIFICATION, CHECKOUT_SWEEP]).update(next_run=due)

    port, paypal_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_multiprocess",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_site")]),
        "LOCKEDCARTS_Q_SYNC": "0",
        "LOCKEDCARTS_MP_DB": connection.settings_dict["NAME"],
        "LOCKEDCARTS_MP_BASE": base,
        "LOCKEDCARTS_MP_PAYPAL_BASE": f"http://127.0.0.1:{paypal_port}",
        "LOCKEDCARTS_MP_REDIS_PORT": str(redis_port),
        "LOCKEDCARTS_MP_SIGNING_KEY": str(tmp_path / "sandbox-signing.pem"),
        "LOCKEDCARTS_MAIL_DIR": str(mail_dir),
    }
    env.pop("Q_CLUSTER_NAME", None)
    # This process signs the redeliveries with the servers' key, as PayPal would.
    settings.PAYPAL_SANDBOX = {**settings.PAYPAL_SANDBOX, "SIGNING_KEY_FILE": env["LOCKEDCARTS_MP_SIGNING_KEY"]}
    web_log = tmp_path / "gunicorn.log"
    processes = []
    started = time.monotonic()
    try:
        web = start(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(GUNICORN_WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--access-logfile",
                "-",
                "example_site.wsgi",
            ],
            web_log,
            env,
        )
        processes.append(web)
        paypal = start(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{paypal_port}",
                "--timeout",
                "60",
                "example_site.wsgi",
            ],
            tmp_path / "paypal.log",
            env,
        )
        processes.append(paypal)
        clusters = [
            start(
                [sys.executable, str(ROOT / "example_site" / "manage.py"), "qcluster"],
                tmp_path / f"qcluster{n}.log",
                env,
            )
            for n in (1, 2)
        ]
        processes += clusters
        wait_for_port(port, web, web_log)
        wait_for_port(paypal_port, paypal, tmp_path / "paypal.log")

        recorder = Recorder()
        stop_browsing = threading.Event()
        keys = [product.cart_key for product in shop]
        buttons = ["Pay – pending (eCheck)" if n % PENDING_EVERY == 0 else "Pay" for n in range(SHOPPERS)]
        load_started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY + 1) as pool:
            browsing = pool.submit(admin_browses, base, recorder, stop_browsing)
            shoppers = [
                pool.submit(shop_and_pay, base, recorder, keys[n % len(keys)], b) for n, b in enumerate(buttons)
            ]
            results = [future.result() for future in shoppers]
            # PayPal redelivers webhooks (retries, duplicates): send every one again, concurrently.
            deadline = time.monotonic() + 30
            while SandboxWebhook.objects.exclude(state=SandboxWebhook.State.DELIVERED).exists():
                assert time.monotonic() < deadline, "the sandbox did not deliver its webhooks"
                time.sleep(0.2)
            webhooks = list(SandboxWebhook.objects.all())
            redelivered = list(pool.map(lambda webhook: redeliver(base, recorder, webhook), webhooks))
            admin = admin_session(base, recorder)
            locked = list(Cart.objects.filter(status=CartStatus.LOCKED).values_list("pk", flat=True))
            confirmations = list(pool.map(lambda pk: confirm(base, admin, pk), locked))
            stop_browsing.set()
            browsing.result()
        load_seconds = time.perf_counter() - load_started

        while time.monotonic() - started < DEADLINE_SECONDS:
            if DailyNotificationRun.objects.filter(sent_at__isnull=False).exists() and list(mail_dir.iterdir()):
                break
            for process in processes:
                assert process.poll() is None, [p.read_text()[-2000:] for p in tmp_path.glob("*.log")]
            time.sleep(0.5)
        time.sleep(2)  # a second sender, if any, would write its e-mail now
        cluster_alive = [cluster.poll() is None for cluster in clusters]
    finally:
        for process in reversed(processes):
            stop(process)

    samples = recorder.samples
    durations = sorted(seconds for seconds, *_ in samples)
    p95 = durations[int(0.95 * (len(durations) - 1))] * 1000
    print(
        f"\nscaling out: {len(samples)} requests in {load_seconds:.1f} s = {len(samples) / load_seconds:.1f} req/s, "
        f"median {statistics.median(durations) * 1000:.0f} ms, p95 {p95:.0f} ms "
        f"({GUNICORN_WORKERS} gunicorn workers for the shop, the sandbox on its own gunicorn, 2 qclusters × 2 workers, {CONCURRENCY} concurrent clients, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})"
    )
    errors = [(status, method, url) for _s, status, method, url in samples if status >= 500]
    assert errors == [], errors
    assert all(alive for alive in cluster_alive), "a cluster died"

    # One order per paid cart: the plain payments at once, the eCheck ones by the admin's confirm.
    assert all(final.status_code == 200 for _key, final in results)
    assert [response.status_code for response in confirmations] == [302] * len(locked)
    assert len(locked) == SHOPPERS // PENDING_EVERY
    assert Order.objects.count() == SHOPPERS
    assert Order.objects.values("cart").distinct().count() == SHOPPERS
    assert Cart.objects.filter(status=CartStatus.ORDERED).count() == SHOPPERS

    # Each webhook applied once, although every one arrived twice.
    assert all(response.status_code < 300 for response in redelivered), [r.status_code for r in redelivered]
    assert WebhookEvent.objects.count() == len({webhook.event_id for webhook in webhooks}) == len(webhooks)

    # The hourly schedule fell due on both clusters; the site's daily e-mail went out once.
    assert len(list(mail_dir.iterdir())) == 1
    assert DailyNotificationRun.objects.filter(sent_at__isnull=False).count() == 1
    assert Success.objects.filter(group=DAILY_NOTIFICATION).count() == 1
