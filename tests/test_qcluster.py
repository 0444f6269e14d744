"""A real ``qcluster`` process picks up the package's schedule and sends the daily e-mail.

django-q2 1.11.1 runs its scheduler every 30 s of the cluster's guard loop (not at start-up), so
this test takes about 30–35 s; it gives up after 75 s. It needs PostgreSQL: the cluster is a
separate process that must see the rows this test commits.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from wagtail_lockedcarts.background.schedules import (
    CHECKOUT_SWEEP,
    DAILY_NOTIFICATION,
    ensure_schedules,
)
from wagtail_lockedcarts.models import CartStatus, DailyNotificationRun

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_SECONDS = 75


def start_cluster(mail_dir, log_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_qcluster",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_site")]),
        "LOCKEDCARTS_Q_SYNC": "0",
        "LOCKEDCARTS_PG_PORT": os.environ["LOCKEDCARTS_PG_PORT"],
        "LOCKEDCARTS_QCLUSTER_DB": connection.settings_dict["NAME"],
        "LOCKEDCARTS_MAIL_DIR": str(mail_dir),
    }
    env.pop("Q_CLUSTER_NAME", None)
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "example_site" / "manage.py"), "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return process


def stop_cluster(process):
    """TERM (the cluster stops its workers), then KILL its process group if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_qcluster_runs_the_schedule_and_sends_the_email_once(postgres, notify_settings, make_cart, tmp_path):
    from django_q.models import Schedule, Success

    ensure_schedules()
    cart = make_cart(status=CartStatus.LOCKED)
    Schedule.objects.filter(name=DAILY_NOTIFICATION).update(next_run=timezone.now() - timedelta(seconds=1))
    Schedule.objects.filter(name=CHECKOUT_SWEEP).update(next_run=timezone.now() + timedelta(days=1))
    mail_dir, log_path = tmp_path / "mail", tmp_path / "qcluster.log"
    mail_dir.mkdir()

    started = time.monotonic()
    process = start_cluster(mail_dir, log_path)
    try:
        while time.monotonic() - started < DEADLINE_SECONDS:
            if DailyNotificationRun.objects.filter(sent_at__isnull=False).exists() and list(mail_dir.iterdir()):
                break
            assert process.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.5)
        elapsed = time.monotonic() - started
    finally:
        stop_cluster(process)

    log = log_path.read_text()
    print(f"qcluster sent the daily e-mail after {elapsed:.1f} s")
    (message_file,) = mail_dir.iterdir()
    message = message_file.read_text()
    assert "Subject: [localhost] Carts and orders need attention: 1 locked cart" in message
    assert f"http://testserver/admin/lockedcarts/carts/inspect/{cart.pk}/" in message
    assert "Content-Type: text/html" in message
    assert "To: shop-admin@example.com, ops@example.com" in message
    run = DailyNotificationRun.objects.get()
    assert run.recipients == 2
    assert f"from schedule [{DAILY_NOTIFICATION}]" in log
    assert Success.objects.filter(group=DAILY_NOTIFICATION).count() == 1
    assert Schedule.objects.get(name=DAILY_NOTIFICATION).next_run > timezone.now()
    assert process.returncode is not None
