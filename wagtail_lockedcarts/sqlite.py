"""Keep the PayPal return and webhook paths answering on SQLite when writers collide.

Without ``transaction_mode: IMMEDIATE`` (system check ``wagtail_lockedcarts.W010``), two SQLite
transactions that both read and then write make one fail at once with ``database is locked``;
the busy timeout does not help there. The paths PayPal drives are convergent (running them again
reaches the same state), so they are retried a few times; if the database stays busy the caller
gets a 503, which PayPal retries for webhooks, instead of a 500.
"""

import functools
import random
import time

from django.db import OperationalError, connection
from django.http import HttpResponse

ATTEMPTS = 5


def is_locked_error(error):
    return "database is locked" in str(error) or "database table is locked" in str(error)


def retry_when_locked(view):
    """Decorator for idempotent views: retry on SQLite lock errors, then answer 503."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        for attempt in range(ATTEMPTS):
            try:
                return view(request, *args, **kwargs)
            except OperationalError as error:
                if connection.vendor != "sqlite" or not is_locked_error(error):
                    raise
                time.sleep(0.05 * (2**attempt) + random.random() * 0.05)
        response = HttpResponse("The shop is busy; please try again in a moment.", status=503)
        response["Retry-After"] = "5"
        return response

    return wrapper
