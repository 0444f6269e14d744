"""System checks: a site is told when django-q2 cannot run the package's background work."""

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
