"""System checks: a site is told when django-q2 cannot run the package's background work, when its
settings would fail later (SQLite locking, dotted paths, PayPal credentials, e-mail sender, base
template), and the offline sandbox never loads on a production site."""

import pytest
from django.core import checks

from wagtail_lockedcarts.checks import check_q_cluster

GOOD = {"orm": "default", "timeout": 300, "retry": 600, "max_attempts": 3, "catch_up": False}


def ids(settings, **q_cluster):
    settings.Q_CLUSTER = q_cluster
    return [message.id for message in check_q_cluster()]


def test_a_recommended_configuration_passes(settings):
    assert ids(settings, **GOOD) == []


def test_the_example_site_configuration_passes():
    assert check_q_cluster() == []


def test_missing_q_cluster_warns(settings):
    del settings.Q_CLUSTER

    (warning,) = check_q_cluster()

    assert warning.id == "wagtail_lockedcarts.W001"
    assert warning.level == checks.WARNING
    assert "not set" in warning.msg
    assert '"orm": "default"' in warning.hint


def test_q_cluster_without_a_broker_warns(settings):
    settings.Q_CLUSTER = {"timeout": 300, "retry": 600, "max_attempts": 3}

    (warning,) = check_q_cluster()

    assert warning.id == "wagtail_lockedcarts.W001"
    assert "names no broker" in warning.msg


def test_every_known_broker_key_counts(settings):
    without_broker = {key: value for key, value in GOOD.items() if key != "orm"}
    assert "wagtail_lockedcarts.W001" in ids(settings, **without_broker)
    for key in ("orm", "redis", "django_redis", "sqs", "iron_mq", "mongo", "broker_class"):
        assert "wagtail_lockedcarts.W001" not in ids(settings, **without_broker, **{key: "x"})


def test_retry_not_above_timeout_warns(settings):
    assert ids(settings, **{**GOOD, "retry": 300}) == ["wagtail_lockedcarts.W002"]
    assert ids(settings, **{**GOOD, "retry": 120}) == ["wagtail_lockedcarts.W002"]
    assert ids(settings, **{**GOOD, "retry": 301}) == []


def test_retry_default_of_60_is_compared_with_the_timeout(settings):
    q_cluster = {key: value for key, value in GOOD.items() if key != "retry"}

    assert ids(settings, **q_cluster) == ["wagtail_lockedcarts.W002"]


def test_endless_redelivery_warns_on_brokers_that_redeliver(settings):
    assert ids(settings, **{**GOOD, "max_attempts": 0}) == ["wagtail_lockedcarts.W003"]
    redis = {key: value for key, value in GOOD.items() if key not in ("orm", "max_attempts")}
    assert ids(settings, **redis, redis={"host": "127.0.0.1"}) == []


def test_checks_run_with_manage_py_check(settings):
    del settings.Q_CLUSTER

    messages = checks.run_checks(tags=[checks.Tags.compatibility])

    assert "wagtail_lockedcarts.W001" in [message.id for message in messages]


# ---- drop-in checks: what a site pasting the README into its settings gets told --------------


def check_ids(check):
    return [message.id for message in check()]


def test_sqlite_without_immediate_transactions_warns_with_the_fix(settings):
    from wagtail_lockedcarts.checks import check_sqlite_transaction_mode

    settings.DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
    (warning,) = check_sqlite_transaction_mode()
    assert warning.id == "wagtail_lockedcarts.W010" and warning.level == checks.WARNING
    assert '"transaction_mode": "IMMEDIATE"' in warning.hint

    settings.DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"transaction_mode": "IMMEDIATE"}},
        "pg": {"ENGINE": "django.db.backends.postgresql"},
    }
    assert check_sqlite_transaction_mode() == []


@pytest.mark.parametrize("name", ["ORDER_EXPORTER", "PRODUCT_RESOLVER"])
def test_a_dotted_path_setting_that_cannot_be_imported_is_an_error(settings, name):
    from wagtail_lockedcarts.checks import check_dotted_paths

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, name: "myshop.fulfilment.export_order"}
    (error,) = check_dotted_paths()
    assert error.id == "wagtail_lockedcarts.E011" and error.level == checks.ERROR
    assert name in error.msg and "No module named 'myshop'" in error.msg

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, name: "wagtail_lockedcarts.conf.DEFAULTS"}
    assert "is not callable" in check_dotted_paths()[0].msg

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, name: "tests.exporters.recording"}
    assert check_dotted_paths() == []


def test_empty_paypal_credentials_warn_outside_debug_only(settings, monkeypatch):
    from wagtail_lockedcarts.checks import check_paypal_credentials

    settings.WAGTAIL_LOCKEDCARTS = {"PAYPAL": {"CLIENT_ID": "", "CLIENT_SECRET": "", "WEBHOOK_ID": ""}}
    settings.DEBUG = False
    (warning,) = check_paypal_credentials()
    assert warning.id == "wagtail_lockedcarts.W012"
    assert "CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID are empty" in warning.msg

    settings.DEBUG = True
    assert check_paypal_credentials() == []

    settings.DEBUG = False
    settings.WAGTAIL_LOCKEDCARTS = {"PAYPAL": {"CLIENT_ID": "id", "CLIENT_SECRET": "secret", "WEBHOOK_ID": "WH"}}
    assert check_paypal_credentials() == []


def test_missing_admin_base_url_and_placeholder_sender_warn(settings):
    from wagtail_lockedcarts.checks import check_email_settings

    del settings.WAGTAILADMIN_BASE_URL
    settings.DEFAULT_FROM_EMAIL = "webmaster@localhost"
    assert check_ids(check_email_settings) == ["wagtail_lockedcarts.W013", "wagtail_lockedcarts.W014"]

    settings.WAGTAILADMIN_BASE_URL = "https://shop.example.com"
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "FROM_EMAIL": "shop@example.com"}
    assert check_email_settings() == []


def test_a_base_template_that_does_not_exist_is_an_error(settings):
    from wagtail_lockedcarts.checks import check_base_template

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "BASE_TEMPLATE": "no/such.html"}
    assert check_ids(check_base_template) == ["wagtail_lockedcarts.E015"]
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "BASE_TEMPLATE": "base.html"}
    assert check_base_template() == []


def test_the_example_site_passes_every_drop_in_check(settings):
    from wagtail_lockedcarts import checks as ours

    settings.DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"transaction_mode": "IMMEDIATE"}}
    }
    for check in (
        ours.check_sqlite_transaction_mode,
        ours.check_dotted_paths,
        ours.check_paypal_credentials,
        ours.check_email_settings,
        ours.check_base_template,
    ):
        assert check() == [], check.__name__


# ---- the offline sandbox never loads on a production site ------------------------------------


def test_the_sandbox_refuses_to_load_with_debug_off(settings):
    from django.core.exceptions import ImproperlyConfigured

    from wagtail_lockedcarts.contrib.paypal_sandbox.apps import check_may_load

    settings.DEBUG = False
    settings.PAYPAL_SANDBOX = {}
    with pytest.raises(ImproperlyConfigured, match="ENABLE_WITHOUT_DEBUG"):
        check_may_load()
    settings.PAYPAL_SANDBOX = {"ENABLE_WITHOUT_DEBUG": "yes"}  # only True itself forces it
    with pytest.raises(ImproperlyConfigured):
        check_may_load()

    settings.PAYPAL_SANDBOX = {"ENABLE_WITHOUT_DEBUG": True}
    check_may_load()
    settings.DEBUG, settings.PAYPAL_SANDBOX = True, {}
    check_may_load()


def test_a_fresh_process_with_debug_off_stops_at_setup(tmp_path):
    import subprocess
    import sys

    (tmp_path / "prod_settings.py").write_text(
        "from example_site.settings import *\nDEBUG = False\nPAYPAL_SANDBOX = {}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={"PYTHONPATH": f"{tmp_path}:.:example_site", "DJANGO_SETTINGS_MODULE": "prod_settings", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "must never run on a public site" in result.stderr


def test_an_unknown_webhook_verification_mode_is_an_error(settings):
    from wagtail_lockedcarts.checks import check_webhook_verification

    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "WEBHOOK_VERIFICATION": "none"}
    assert [problem.id for problem in check_webhook_verification()] == ["wagtail_lockedcarts.E020"]


def test_a_plain_http_certificate_prefix_on_a_remote_host_is_warned_about(settings):
    from wagtail_lockedcarts.checks import check_webhook_verification

    prefixes = [
        "https://api.paypal.com/v1/notifications/certs/",
        "http://127.0.0.1:8000/paypal-sandbox/v1/notifications/certs/",
        "http://certs.example.com/v1/notifications/certs/",
    ]
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "WEBHOOK_CERT_URL_PREFIXES": prefixes}
    problems = check_webhook_verification()
    assert [problem.id for problem in problems] == ["wagtail_lockedcarts.W021"]
    assert "certs.example.com" in problems[0].msg
