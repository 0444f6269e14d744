"""A thin PayPal Orders v2 client over ``requests`` (no SDK: five calls do not justify its tree).

Every call has an explicit ``(connect, read)`` timeout. The error classes carry the one
distinction that matters for money:

* :class:`PayPalUnavailable` — timeout, connection error or 5xx: PayPal may or may not have acted.
  Callers must treat the result as *unknown* and leave the cart frozen for a later reconcile.
* :class:`PayPalError` — PayPal answered 4xx and said why (``issue``, e.g. ``INSTRUMENT_DECLINED``).

Secrets and raw payloads are never logged: only the HTTP status, PayPal's issue name and its
``debug_id``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time

import requests
from django.utils.translation import gettext_lazy as _

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.money import to_paypal_value
from wagtail_lockedcarts.paypal import budget

logger = logging.getLogger("wagtail_lockedcarts.paypal")

ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,64}$")

WEBHOOK_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}

MAX_CERTIFICATE_BYTES = 64 * 1024

# Refresh a token this many seconds before PayPal says it expires.
TOKEN_MARGIN_SECONDS = 60


class PayPalException(Exception):
    """Base class; ``message`` is safe to show to a shopper or an editor."""

    message = _("PayPal could not be reached.")


class PayPalUnavailable(PayPalException):
    """No definitive answer (timeout, connection error, 5xx). Never means "failed"."""

    def __init__(self, reason="", status_code=None):
        self.reason = reason
        self.status_code = status_code
        super().__init__(reason or "PayPal unavailable")

    message = _("PayPal did not answer in time. Nothing was lost; we will check again.")


class PayPalError(PayPalException):
    """PayPal refused the request (4xx). ``issue`` is PayPal's machine-readable reason."""

    message = _("PayPal refused the request.")

    def __init__(self, status_code, issue="", name="", debug_id=""):
        self.status_code = status_code
        self.issue = issue or name or "UNKNOWN"
        self.name = name
        self.debug_id = debug_id
        super().__init__(f"PayPal {status_code} {self.issue}")


class InvalidOrderId(PayPalError):
    """An order id that PayPal could never have issued; refused before any request is sent."""

    def __init__(self):
        super().__init__(400, issue="INVALID_RESOURCE_ID")


def validate_order_id(order_id):
    """Order ids end up in URL paths: accept PayPal's alphabet only (no ``/``, ``..``, ``?``)."""
    if not isinstance(order_id, str) or not ORDER_ID_PATTERN.match(order_id):
        raise InvalidOrderId()
    return order_id


def approval_url(order):
    """The link to send the shopper to: ``payer-action`` (experience_context) or legacy ``approve``."""
    links = {link.get("rel"): link.get("href") for link in order.get("links") or []}
    return links.get("payer-action") or links.get("approve") or ""


def format_amount(amount, currency):
    """PayPal's ``amount.value``: as many decimals as PayPal allows for ``currency`` (none for JPY)."""
    return to_paypal_value(amount, currency)


_token_cache: dict[tuple[str, str], tuple[str, float]] = {}
_token_lock = threading.Lock()


def clear_token_cache():
    with _token_lock:
        _token_cache.clear()


class PayPalClient:
    """One PayPal REST account, configured from ``WAGTAIL_LOCKEDCARTS["PAYPAL"]`` by default."""

    def __init__(self, config=None, session=None):
        config = config or conf.get("PAYPAL")
        self.api_base = (config.get("API_BASE") or "").rstrip("/")
        self.client_id = config.get("CLIENT_ID") or ""
        self.client_secret = config.get("CLIENT_SECRET") or ""
        self.webhook_id = config.get("WEBHOOK_ID") or ""
        self.brand_name = config.get("BRAND_NAME") or ""
        self.timeout = (float(config.get("CONNECT_TIMEOUT") or 5), float(config.get("READ_TIMEOUT") or 20))
        self.session = session or requests.Session()

    # ---------------------------------------------------------------------------------------
    # transport

    def _request(self, method, url, label, **kwargs):
        """One HTTP call within the request's budget; transport failures are "unknown"."""
        try:
            kwargs["timeout"] = budget.timeouts(*kwargs.get("timeout", self.timeout))
        except budget.BudgetExhausted as error:
            logger.warning("PayPal %s %s not started: the request's PayPal time budget is spent", method, label)
            raise PayPalUnavailable("budget") from error
        try:
            return self.session.request(method, url, **kwargs)
        except requests.Timeout as error:
            logger.warning("PayPal %s %s timed out", method, label)
            raise PayPalUnavailable("timeout") from error
        except requests.RequestException as error:
            logger.warning("PayPal %s %s failed: %s", method, label, type(error).__name__)
            raise PayPalUnavailable("connection") from error

    def _send(self, method, path, **kwargs):
        response = self._request(method, f"{self.api_base}{path}", path, **kwargs)
        if response.status_code >= 500:
            logger.warning("PayPal %s %s answered %s", method, path, response.status_code)
            raise PayPalUnavailable("server error", status_code=response.status_code)
        if response.status_code >= 400:
            raise self._error(method, path, response)
        try:
            return response.json() if response.content else {}
        except ValueError as error:
            # A 2xx that is not JSON is not an answer we can rely on.
            raise PayPalUnavailable("invalid response", status_code=response.status_code) from error

    @staticmethod
    def _error(method, path, response):
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        details = payload.get("details") or [{}]
        issue = (details[0] or {}).get("issue", "") if isinstance(details, list) else ""
        name = payload.get("name") or payload.get("error") or ""
        error = PayPalError(response.status_code, issue=issue, name=name, debug_id=payload.get("debug_id", ""))
        logger.info(
            "PayPal %s %s answered %s %s (debug_id %s)", method, path, response.status_code, error.issue, error.debug_id
        )
        return error

    def _token(self, refresh=False):
        key = (self.api_base, self.client_id)
        with _token_lock:
            cached = _token_cache.get(key)
            if cached and not refresh and cached[1] > time.monotonic():
                return cached[0]
        payload = self._send(
            "POST",
            "/v1/oauth2/token",
            auth=(self.client_id, self.client_secret),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        token = payload.get("access_token")
        if not token:
            raise PayPalUnavailable("no access token")
        lifetime = max(int(payload.get("expires_in") or 0) - TOKEN_MARGIN_SECONDS, 0)
        with _token_lock:
            _token_cache[key] = (token, time.monotonic() + lifetime)
        return token

    def _api(self, method, path, *, json_body=None, data=None, headers=None):
        """An authenticated call; a 401 (token revoked or expired early) refreshes the token once."""
        for attempt in (0, 1):
            all_headers = {
                "Authorization": f"Bearer {self._token(refresh=attempt == 1)}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                **(headers or {}),
            }
            body = data if data is not None else (json.dumps(json_body) if json_body is not None else None)
            try:
                return self._send(method, path, data=body, headers=all_headers)
            except PayPalError as error:
                if error.status_code != 401 or attempt == 1:
                    raise

    # ---------------------------------------------------------------------------------------
    # Orders v2

    def create_order(
        self, *, request_id, amount, currency, reference, invoice_id, return_url, cancel_url, description=""
    ):
        """Create a CAPTURE order. ``request_id`` makes a retried create return the same order."""
        purchase_unit = {
            "reference_id": str(reference),
            "custom_id": str(reference),
            "invoice_id": str(invoice_id),
            "amount": {"currency_code": currency, "value": format_amount(amount, currency)},
        }
        if description:
            purchase_unit["description"] = str(description)[:127]
        experience = {
            "return_url": return_url,
            "cancel_url": cancel_url,
            "user_action": "PAY_NOW",
            "shipping_preference": "NO_SHIPPING",
        }
        if self.brand_name:
            experience["brand_name"] = str(self.brand_name)[:127]
        body = {
            "intent": "CAPTURE",
            "purchase_units": [purchase_unit],
            "payment_source": {"paypal": {"experience_context": experience}},
        }
        return self._api(
            "POST",
            "/v2/checkout/orders",
            json_body=body,
            headers={"PayPal-Request-Id": str(request_id), "Prefer": "return=representation"},
        )

    def get_order(self, order_id):
        return self._api("GET", f"/v2/checkout/orders/{validate_order_id(order_id)}")

    def capture_order(self, order_id, request_id):
        """Capture an approved order; the same ``request_id`` never captures twice."""
        return self._api(
            "POST",
            f"/v2/checkout/orders/{validate_order_id(order_id)}/capture",
            json_body={},
            headers={"PayPal-Request-Id": str(request_id), "Prefer": "return=representation"},
        )

    # ---------------------------------------------------------------------------------------
    # webhooks

    def fetch_certificate(self, url):
        """The PEM at an (already allowlisted) webhook certificate URL; no redirects followed."""
        response = self._request("GET", url, url, allow_redirects=False)
        if response.status_code >= 500:
            raise PayPalUnavailable("server error", status_code=response.status_code)
        if response.status_code != 200 or len(response.content) > MAX_CERTIFICATE_BYTES:
            logger.warning("PayPal certificate %s answered %s", url, response.status_code)
            raise PayPalError(response.status_code, issue="CERTIFICATE_NOT_AVAILABLE")
        return response.content

    def verify_webhook_signature(self, headers, raw_body):
        """Ask PayPal whether a delivery is genuine. Returns True only for ``SUCCESS``.

        ``headers`` is a case-insensitive mapping (``request.headers``). The webhook id is ours,
        from settings. The raw body is embedded unchanged (re-serialising could alter what was
        signed), after checking it is one JSON object so it cannot smuggle extra keys into the
        postback.
        """
        fields = {name: headers.get(header, "") for name, header in WEBHOOK_HEADERS.items()}
        if not all(fields.values()) or not self.webhook_id:
            return False
        try:
            text = raw_body.decode("utf-8")
            if not isinstance(json.loads(text), dict):
                return False
        except (UnicodeDecodeError, ValueError):
            return False
        prefix = json.dumps({**fields, "webhook_id": self.webhook_id})[:-1]
        payload = f'{prefix}, "webhook_event": {text}}}'.encode()
        try:
            answer = self._api("POST", "/v1/notifications/verify-webhook-signature", data=payload)
        except PayPalError:
            return False
        return answer.get("verification_status") == "SUCCESS"


def get_client():
    """A client for the current settings (cheap: the OAuth token is cached per account)."""
    return PayPalClient()
