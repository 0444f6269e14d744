"""Fixtures for the browser tests: Debian's Chromium driven by Python Playwright.

The browser is never downloaded (no ``playwright install``): ``LOCKEDCARTS_CHROMIUM`` (default
``/usr/bin/chromium``) is launched directly. Without it the tests skip, unless
``LOCKEDCARTS_REQUIRE_ALL=1`` (CI), where a missing browser is a failure.

One Chromium process serves a whole test module; every test gets fresh, isolated browser
contexts (cookie jars), so a shopper and an admin can act side by side like two real people.

Playwright's sync API runs its asyncio loop in a greenlet of this thread, which has two effects
on Django while the browser lives:

- a loop counts as running here, so Django refuses ORM calls from the test ("async context").
  The tests only touch the database between browser steps, never concurrently with them, so
  ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for exactly as long as the browser lives;
- the test code comes back from Playwright in another ``contextvars`` context, and Django's
  connection handler (an asgiref ``Local``) would hand it brand-new connection objects. Those lack
  the test database's serialized contents (so ``serialized_rollback`` silently restores
  nothing: Wagtail's default site vanishes after the first test) and on SQLite they are a second
  connection beside the one the live server shares. :func:`browser` therefore puts the
  original connection objects back into the new context.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LOCKEDCARTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 800}
#: Every wait is bounded: a hung page fails the test in seconds, not at the CI's timeout.
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 20_000
ADMIN_PASSWORD = "password"  # the conftest ``superuser`` fixture's password
FAILURE_SCREENSHOTS = Path(os.environ.get("LOCKEDCARTS_BROWSER_ARTIFACTS", "/tmp/lockedcarts-browser"))


def chromium_available():
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def chromium_or_skip():
    if chromium_available():
        return CHROMIUM
    message = f"Chromium not found at {CHROMIUM} (set LOCKEDCARTS_CHROMIUM)"
    if os.environ.get("LOCKEDCARTS_REQUIRE_ALL") == "1":
        pytest.fail(message + " and LOCKEDCARTS_REQUIRE_ALL=1")
    pytest.skip(message)


def pytest_collection_modifyitems(config, items):
    """Without Chromium, skip browser tests before their fixtures build a test database."""
    if chromium_available() or os.environ.get("LOCKEDCARTS_REQUIRE_ALL") == "1":
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (set LOCKEDCARTS_CHROMIUM)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    from django.db import connections
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        originals = {alias: connections[alias] for alias in connections}
        with sync_playwright() as playwright:
            for alias, connection in originals.items():
                connections[alias] = connection
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, timeout=30_000)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_context(browser, request):
    """new_context() -> a fresh browser context (own cookies) with bounded timeouts.

    On a failing test each open page is saved as a PNG under ``LOCKEDCARTS_BROWSER_ARTIFACTS``.
    """
    contexts = []

    def factory():
        context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield factory
    from playwright.sync_api import Error as PlaywrightError

    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for number, context in enumerate(contexts):
        if failed:
            FAILURE_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for page_number, page in enumerate(context.pages):
                name = f"{request.node.name}-{number}-{page_number}.png".replace("/", "_")
                try:
                    page.screenshot(path=str(FAILURE_SCREENSHOTS / name), full_page=True)
                except PlaywrightError as error:  # a crashed page must not hide the test's own failure
                    print(f"no screenshot of {name}: {error}")
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, so fixtures can tell a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def admin_login(page, base_url, username="admin", password=ADMIN_PASSWORD):
    """Sign in through Wagtail's own login form, as an admin would."""
    page.goto(base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/admin/")
