"""On SQLite, the PayPal return page and webhooks answer instead of failing with a 500 when
another writer holds the database (retried, since both paths are convergent; then 503)."""

import pytest
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import RequestFactory

from wagtail_lockedcarts.sqlite import ATTEMPTS, retry_when_locked
from wagtail_lockedcarts.urls import urlpatterns

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite behaviour")


def flaky(failures, message="database is locked"):
    calls = []

    def view(request):
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError(message)
        return HttpResponse("ok")

    return view, calls


def test_a_locked_database_is_retried_until_the_write_goes_through():
    view, calls = flaky(failures=2)
    response = retry_when_locked(view)(RequestFactory().get("/"))
    assert response.status_code == 200 and len(calls) == 3


def test_a_database_that_stays_locked_answers_503_not_500():
    view, calls = flaky(failures=99)
    response = retry_when_locked(view)(RequestFactory().post("/"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert len(calls) == ATTEMPTS


def test_other_database_errors_are_not_hidden():
    view, calls = flaky(failures=1, message="no such table: x")
    with pytest.raises(OperationalError):
        retry_when_locked(view)(RequestFactory().get("/"))
    assert len(calls) == 1


def test_the_return_page_and_the_webhook_are_the_retried_paths():
    wrapped = {p.name for p in urlpatterns if getattr(p.callback, "__wrapped__", None) is not None}
    assert {"paypal_return", "paypal_webhook"} <= wrapped
    webhook = next(p.callback for p in urlpatterns if p.name == "paypal_webhook")
    assert getattr(webhook, "csrf_exempt", False), "PayPal posts without a CSRF token"
