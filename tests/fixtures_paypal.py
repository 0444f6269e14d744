"""Fixtures for the PayPal tests: the offline sandbox on pytest-django's live server.

Everything goes over real HTTP: a :class:`Shopper` is a ``requests`` session (cookies, CSRF)
talking to the shop, the shop's PayPal client talks to the sandbox, and the sandbox's webhooks
are POSTed to the shop. Webhooks stay queued until :meth:`SandboxHelper.deliver_webhooks`, so
each test decides when (and whether) PayPal's notifications arrive.

The live server shares the in-memory SQLite connection with the test thread, which is safe as
long as only one of them touches the database at a time: every helper call here is synchronous,
and :meth:`SandboxHelper.wait_idle` waits for sandbox calls a client stopped waiting for.
"""

import html
import re
from urllib.parse import urljoin, urlparse

import pytest
import requests
from django.urls import reverse

BUTTON_PATTERN = re.compile(
    r'<button type="submit" name="action" value="(?P<value>[a-z_]+)"[^>]*>(?P<label>[^<]+)</button>'
)
CSRF_PATTERN = re.compile(r'name="csrfmiddlewaretoken" value="(?P<token>[^"]+)"')


class Shopper:
    """A browser: one cookie jar, CSRF tokens read from the pages it is shown."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def url(self, path):
        return urljoin(self.base_url, path)

    def get(self, path_or_url, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return self.session.get(self.url(path_or_url), **kwargs)

    def post(self, path, data=None, **kwargs):
        if "csrftoken" not in self.session.cookies:
            self.get(reverse("login"))  # any page with a form sets the CSRF cookie
        data = {**(data or {}), "csrfmiddlewaretoken": self.session.cookies["csrftoken"]}
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return self.session.post(self.url(path), data=data, **kwargs)

    def add(self, product_key, quantity=1):
        response = self.post(reverse("wagtail_lockedcarts:add_line"), {"product": product_key, "quantity": quantity})
        assert response.status_code == 302, response.status_code
        return response

    def checkout(self):
        return self.post(reverse("wagtail_lockedcarts:checkout"))

    def cart(self):
        """This shopper's newest cart, read from the database."""
        from wagtail_lockedcarts.models import Cart

        return Cart.objects.filter(session_key=self.session.cookies.get("sessionid")).order_by("-pk").first()

    def messages_on(self, path):
        return [html.unescape(m) for m in re.findall(r'<li class="message[^"]*">([^<]+)</li>', self.get(path).text)]


class SandboxHelper:
    """Drives the sandbox as PayPal's payer and operator would."""

    def __init__(self, live_server_url, settings):
        self.settings = settings
        self._sessions = []
        self.base_url = live_server_url
        self.api_base = live_server_url + "/paypal-sandbox"

    def shopper(self):
        shopper = Shopper(self.base_url)
        self._sessions.append(shopper.session)
        return shopper

    def close(self):
        """Close every keep-alive connection, so no live-server thread outlives the test."""
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    def shopper_at_paypal(self, shop, lines=((0, 1),)):
        """A shopper who filled a cart and was just redirected to the approval page."""
        shopper = self.shopper()
        for index, quantity in lines:
            shopper.add(shop[index].cart_key, quantity)
        response = shopper.checkout()
        assert response.status_code == 302, response.text[:500]
        shopper.approve_url = response.headers["Location"]
        assert shopper.approve_url.startswith(self.api_base), shopper.approve_url
        return shopper

    def buttons(self, approve_url, session=None):
        page = (session or requests).get(approve_url, timeout=30)
        return {html.unescape(m["label"]): m["value"] for m in BUTTON_PATTERN.finditer(page.text)}, page

    def approve(self, approve_url, button, session=None, **fields):
        """Click ``button`` (its visible label) on the approval page like a browser would."""
        if session is None:
            session = requests.Session()
            self._sessions.append(session)
        buttons, page = self.buttons(approve_url, session)
        assert button in buttons, f"no button {button!r} on the approval page: {sorted(buttons)}"
        token = CSRF_PATTERN.search(page.text)["token"]
        data = {"csrfmiddlewaretoken": token, "action": buttons[button], "email": "buyer@example.com", **fields}
        return session.post(approve_url, data=data, allow_redirects=False, timeout=30)

    def pay(self, shopper, button, follow=True, **fields):
        """Approve with ``button``; follow PayPal's redirect back to the shop (return or cancel)."""
        response = self.approve(shopper.approve_url, button, session=shopper.session, **fields)
        if not follow or response.status_code != 302:
            return response
        location = response.headers["Location"]
        assert urlparse(location).netloc == urlparse(self.base_url).netloc
        return shopper.get(location)

    # ---- PayPal's side ----------------------------------------------------------------------

    def _control(self, path, payload=None, expect=200):
        from wagtail_lockedcarts.contrib.paypal_sandbox import conf

        response = requests.post(
            f"{self.api_base}/control/{path}",
            json=payload or {},
            auth=(conf.get("CLIENT_ID"), conf.get("CLIENT_SECRET")),
            timeout=30,
        )
        assert response.status_code == expect, response.text
        return response.json()

    def set_faults(self, fail_next=0, fail_status=500, delay_next=0, delay_seconds=0.0, path_contains=""):
        """The next API calls (whose path contains ``path_contains``) fail or are slow."""
        return self._control(
            "faults",
            {
                "fail_next": fail_next,
                "fail_status": fail_status,
                "delay_next": delay_next,
                "delay_seconds": delay_seconds,
                "path_contains": path_contains,
            },
        )

    def configure_client(self, **overrides):
        """Change the shop's PayPal settings for the rest of the test (e.g. READ_TIMEOUT, API_BASE)."""
        lockedcarts = dict(self.settings.WAGTAIL_LOCKEDCARTS)
        lockedcarts["PAYPAL"] = {**lockedcarts["PAYPAL"], **overrides}
        self.settings.WAGTAIL_LOCKEDCARTS = lockedcarts

    def make_unreachable(self):
        """Point the shop's client at a loopback port nobody listens on."""
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.configure_client(API_BASE=f"http://127.0.0.1:{port}/paypal-sandbox")

    def make_reachable(self):
        self.configure_client(API_BASE=self.api_base)

    def settle(self, order_id):
        return self._control(f"orders/{order_id}/settle")

    def reverse_approval(self, order_id):
        return self._control(f"orders/{order_id}/reverse-approval")

    # Each of these is something PayPal does on its own, with the webhook PayPal would send
    # (queued until deliver_webhooks). ``expect=409`` checks one that does not apply.

    def refund(self, order_id, value=None, currency=None, expect=200):
        """Refund the capture: all that is left, or ``value`` of it (PAYMENT.CAPTURE.REFUNDED)."""
        payload = {"amount": {"value": str(value), "currency_code": currency}} if value is not None else {}
        return self._control(f"orders/{order_id}/refund", payload, expect=expect)

    def reverse(self, order_id, expect=200):
        """A chargeback takes the remaining capture back (PAYMENT.CAPTURE.REVERSED)."""
        return self._control(f"orders/{order_id}/reverse", expect=expect)

    def decline_pending(self, order_id, event="PAYMENT.CAPTURE.DECLINED", expect=200):
        """A pending capture fails after all (PAYMENT.CAPTURE.DECLINED, or DENIED)."""
        return self._control(f"orders/{order_id}/decline", {"event": event}, expect=expect)

    def void(self, order_id, expect=200):
        """PayPal voids an uncaptured order (CHECKOUT.ORDER.VOIDED)."""
        return self._control(f"orders/{order_id}/void", expect=expect)

    def complete(self, order_id, expect=200):
        """PayPal completes an approved order itself (CHECKOUT.ORDER.COMPLETED + the capture event)."""
        return self._control(f"orders/{order_id}/complete", expect=expect)

    def expire(self, order_id, expect=200):
        """Time runs out: an unapproved order disappears (404, no webhook); an approved one is
        reversed (CHECKOUT.PAYMENT-APPROVAL.REVERSED)."""
        return self._control(f"orders/{order_id}/expire", expect=expect)

    def refuse_capture(self, shopper, issue, follow=True):
        """Approve so that the capture is refused with PayPal's 422 ``issue``
        (INSTRUMENT_DECLINED, PAYER_ACTION_REQUIRED, TRANSACTION_REFUSED, PAYER_CANNOT_PAY,
        MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED), or created ``"capture"`` DECLINED / ``"failed"`` FAILED."""
        return self.pay(shopper, "Decline", follow=follow, decline_mode=issue)

    def api(self, method, path, **kwargs):
        """Call the sandbox's API as the merchant (bearer token from the configured credentials)."""
        from wagtail_lockedcarts.contrib.paypal_sandbox import conf

        if not getattr(self, "_token", None):
            answer = requests.post(
                f"{self.api_base}/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(conf.get("CLIENT_ID"), conf.get("CLIENT_SECRET")),
                timeout=30,
            )
            self._token = answer.json()["access_token"]
        url = path if path.startswith("http") else f"{self.api_base}{path}"
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        return requests.request(method, url, headers=headers, timeout=30, **kwargs)

    def order(self, order_id):
        from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxOrder

        return SandboxOrder.objects.get(pk=order_id)

    def webhooks(self, **filters):
        from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxWebhook

        return list(SandboxWebhook.objects.filter(**filters).order_by("pk"))

    def deliver_webhooks(self):
        """Deliver every queued event to the shop; returns [(event_type, http_status)]."""
        from wagtail_lockedcarts.contrib.paypal_sandbox.webhooks import deliver_pending

        return deliver_pending()

    def signed(self, webhook):
        """(body, headers) of a genuine delivery of ``webhook``, to replay or tamper with."""
        from wagtail_lockedcarts.contrib.paypal_sandbox.webhooks import signed_request

        return signed_request(webhook)

    def post_webhook(self, body, headers, method="POST"):
        url = self.base_url + reverse("wagtail_lockedcarts:paypal_webhook")
        return requests.request(method, url, data=body, headers=headers, timeout=30)

    def wait_idle(self, timeout=10.0):
        from wagtail_lockedcarts.contrib.paypal_sandbox.control import wait_idle

        assert wait_idle(timeout), "the sandbox is still serving a request"


@pytest.fixture
def paypal_sandbox(live_server, settings, django_db_serialized_rollback, site):
    """The offline PayPal sandbox on the live server, with the shop's client pointed at it.

    Requests serialized rollback so Wagtail's root page and default site survive the flush
    between these transactional tests.
    """
    from wagtail_lockedcarts.paypal.client import clear_token_cache
    from wagtail_lockedcarts.paypal.verification import certificates

    sandbox = dict(settings.PAYPAL_SANDBOX)
    sandbox.update(
        WEBHOOK_URL=live_server.url + reverse("wagtail_lockedcarts:paypal_webhook"),
        DELIVERY="manual",
        CONTROL_ENABLED=True,
    )
    settings.PAYPAL_SANDBOX = sandbox
    lockedcarts = dict(settings.WAGTAIL_LOCKEDCARTS)
    lockedcarts["PAYPAL"] = {
        **lockedcarts.get("PAYPAL", {}),
        "CLIENT_ID": sandbox["CLIENT_ID"],
        "CLIENT_SECRET": sandbox["CLIENT_SECRET"],
        "WEBHOOK_ID": sandbox["WEBHOOK_ID"],
        "API_BASE": live_server.url + "/paypal-sandbox",
        "CONNECT_TIMEOUT": 2.0,
        "READ_TIMEOUT": 10.0,
    }
    lockedcarts["WEBHOOK_CERT_URL_PREFIXES"] = [f"{live_server.url}/paypal-sandbox/v1/notifications/certs/"]
    settings.WAGTAIL_LOCKEDCARTS = lockedcarts
    clear_token_cache()
    certificates.clear()
    helper = SandboxHelper(live_server.url, settings)
    yield helper
    helper.close()
    helper.wait_idle()
    clear_token_cache()
    certificates.clear()


@pytest.fixture
def paypal_settings(settings):
    """Point the client somewhere without a sandbox (unit tests with a fake transport)."""
    settings.WAGTAIL_LOCKEDCARTS = {
        **settings.WAGTAIL_LOCKEDCARTS,
        "PAYPAL": {
            "CLIENT_ID": "id",
            "CLIENT_SECRET": "secret",
            "WEBHOOK_ID": "WH-TEST",
            "API_BASE": "https://paypal.invalid",
            "CONNECT_TIMEOUT": 1.5,
            "READ_TIMEOUT": 7.0,
        },
    }
    from wagtail_lockedcarts.paypal.client import clear_token_cache

    clear_token_cache()
    yield settings
    clear_token_cache()
