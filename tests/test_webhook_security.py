"""Webhook forgery and replay: a forged delivery is refused by local checks, cheaply and without
any call to PayPal; a genuine one is verified locally against the certificate PayPal serves."""

import datetime
import json
import statistics
import time
import zlib

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from wagtail_lockedcarts.models import CartStatus, Order, WebhookEvent, WebhookTransmission
from wagtail_lockedcarts.paypal import verification
from wagtail_lockedcarts.paypal.webhooks import paypal_webhook


@pytest.fixture
def outbound(monkeypatch):
    """Every HTTP request made from now on (the shop's calls to PayPal), except the test's own
    deliveries to the webhook URL."""
    calls = []
    send = requests.Session.send
    webhook_path = reverse("wagtail_lockedcarts:paypal_webhook")

    def counting_send(session, prepared, **kwargs):
        if webhook_path not in prepared.url:
            calls.append(prepared.url)
        return send(session, prepared, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting_send)
    return calls


@pytest.fixture
def approved(paypal_sandbox, shop, cart_settings):
    shopper = paypal_sandbox.shopper_at_paypal(shop)
    paypal_sandbox.pay(shopper, "Pay and close the window (never return)")
    return shopper, paypal_sandbox.webhooks(event_type="CHECKOUT.ORDER.APPROVED")[0]


def assert_not_applied(shopper):
    assert shopper.cart().status == CartStatus.AWAITING_PAYMENT
    assert not Order.objects.exists()
    assert not WebhookEvent.objects.exists()


def force_crc32(body, target):
    """``body`` with its 48-character ``"pad"`` value changed so that crc32(body) == target.

    CRC32 is affine over GF(2) for a fixed length, so choosing 'A' or 'B' at 48 positions and
    solving a linear system reaches any CRC — what an attacker does to reuse a signature."""
    base = body.replace(b'"pad":"', b'"pad":"' + b"A" * 48, 1)
    start = base.index(b'"pad":"') + 7
    base_crc = zlib.crc32(base)
    rows = []
    for index in range(48):
        flipped = bytearray(base)
        flipped[start + index] = ord("B")
        rows.append((zlib.crc32(bytes(flipped)) ^ base_crc, 1 << index))
    wanted, basis = target ^ base_crc, {}
    for delta, combo in rows:
        for bit in reversed(range(32)):
            if not delta >> bit & 1:
                continue
            if bit not in basis:
                basis[bit] = (delta, combo)
                break
            delta, combo = delta ^ basis[bit][0], combo ^ basis[bit][1]
    chosen = 0
    for bit in reversed(range(32)):
        if wanted >> bit & 1:
            assert bit in basis, "the 48 positions do not span every CRC"
            wanted, chosen = wanted ^ basis[bit][0], chosen ^ basis[bit][1]
    forged = bytearray(base)
    for index in range(48):
        if chosen >> index & 1:
            forged[start + index] = ord("B")
    assert zlib.crc32(bytes(forged)) == target
    return bytes(forged)


# ---- replay -------------------------------------------------------------------------------


def test_a_replayed_transmission_is_refused_even_with_the_same_body(paypal_sandbox, approved, outbound):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    assert paypal_sandbox.post_webhook(body, headers).status_code == 200
    calls_after_first = len(outbound)

    assert paypal_sandbox.post_webhook(body, headers).status_code == 400
    assert len(outbound) == calls_after_first
    assert WebhookTransmission.objects.count() == 1


def test_genuine_headers_reused_with_another_event_and_a_forced_crc_are_refused(paypal_sandbox, approved, outbound):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    assert paypal_sandbox.post_webhook(body, headers).status_code == 200
    event = json.loads(body)
    event["id"] = "WH-FORGED-0000000000000000"
    event["pad"] = ""
    forged = force_crc32(json.dumps(event, separators=(",", ":")).encode(), zlib.crc32(body))
    calls_before = len(outbound)

    assert paypal_sandbox.post_webhook(forged, headers).status_code == 400
    assert not WebhookEvent.objects.filter(event_id="WH-FORGED-0000000000000000").exists()
    assert len(outbound) == calls_before


def test_a_genuinely_signed_delivery_dated_2019_is_refused(paypal_sandbox, approved, outbound):
    from wagtail_lockedcarts.contrib.paypal_sandbox.webhooks import signed_request

    shopper, webhook = approved
    body, headers = signed_request(webhook, transmission_time="2019-11-13T16:15:44Z")

    assert paypal_sandbox.post_webhook(body, headers).status_code == 400
    assert_not_applied(shopper)
    assert outbound == []


def test_a_retry_after_a_503_is_accepted_although_its_transmission_was_seen(paypal_sandbox, approved):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    paypal_sandbox.set_faults(fail_next=1, path_contains="/v2/checkout/orders/")

    assert paypal_sandbox.post_webhook(body, headers).status_code == 503
    assert paypal_sandbox.post_webhook(body, headers).status_code == 200
    assert shopper.cart().status == CartStatus.ORDERED


# ---- the gate: cheap, local, before anything else ----------------------------------------


def _tamper(headers, **changes):
    tampered = dict(headers)
    for name, value in changes.items():
        header = "PAYPAL-" + name.replace("_", "-").upper()
        if value is None:
            tampered.pop(header)
        else:
            tampered[header] = value
    return tampered


BAD_CERT_URLS = [
    "http://api.paypal.com/v1/notifications/certs/CERT-1",
    "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1",
    "https://evil.example/v1/notifications/certs/CERT-1",
    "https://user@api.paypal.com/v1/notifications/certs/CERT-1",
    "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
    "https://api.paypal.com/v1/notifications/certs/CERT-1?x=1",
    "https://api.paypal.com/v1/notifications/certs/../../oauth2/token",
    "https://api.paypal.com/v1/notifications/other/CERT-1",
    "https://api.paypal.com/v1/notifications/certs/",
]


def forged_variants(headers):
    old = (timezone.now() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = (timezone.now() + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    yield "five headers set to x", {h: "x" for h in headers if h.startswith("PAYPAL-")}
    for header in ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time"):
        yield f"no {header}", _tamper(headers, **{header: None})
    yield "algorithm HS256", _tamper(headers, auth_algo="HS256")
    yield "algorithm none", _tamper(headers, auth_algo="none")
    for url in BAD_CERT_URLS:
        yield f"cert url {url}", _tamper(headers, cert_url=url)
    yield "an hour old", _tamper(headers, transmission_time=old)
    yield "an hour ahead", _tamper(headers, transmission_time=future)
    yield "not a time", _tamper(headers, transmission_time="yesterday")
    yield "transmission id with a slash", _tamper(headers, transmission_id="../1")
    yield "oversized signature", _tamper(headers, transmission_sig="A" * 5000)


def test_each_forged_delivery_is_refused_locally_in_under_5_ms_without_calling_paypal(
    paypal_sandbox, approved, outbound, settings
):
    """Timed in-process on the view itself (no HTTP), median of 5 tries of each forgery."""
    from wagtail_lockedcarts.conf import DEFAULTS

    shopper, webhook = approved
    lockedcarts = settings.WAGTAIL_LOCKEDCARTS
    prefixes = [*DEFAULTS["WEBHOOK_CERT_URL_PREFIXES"], *lockedcarts["WEBHOOK_CERT_URL_PREFIXES"]]
    settings.WAGTAIL_LOCKEDCARTS = {**lockedcarts, "WEBHOOK_CERT_URL_PREFIXES": prefixes}
    body, headers = paypal_sandbox.signed(webhook)
    factory = RequestFactory()
    url = reverse("wagtail_lockedcarts:paypal_webhook")
    slowest = {}
    for name, forged in forged_variants(headers):
        meta = {"HTTP_" + key.upper().replace("-", "_"): value for key, value in forged.items()}
        timings = []
        for _ in range(5):
            request = factory.post(url, data=body, content_type="application/json", **meta)
            started = time.perf_counter()
            response = paypal_webhook(request)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 400, name
        slowest[name] = statistics.median(timings) * 1000

    print(f"\nslowest refusal (median of 5): {max(slowest.values()):.2f} ms over {len(slowest)} forgeries")
    assert outbound == []
    assert max(slowest.values()) < 5, slowest
    assert_not_applied(shopper)


def test_a_forged_signature_with_the_genuine_certificate_costs_one_certificate_download_in_all(
    paypal_sandbox, approved, outbound
):
    shopper, webhook = approved
    body, headers = paypal_sandbox.signed(webhook)
    for _ in range(10):
        _body, fresh = paypal_sandbox.signed(webhook)
        fresh["PAYPAL-TRANSMISSION-SIG"] = headers["PAYPAL-TRANSMISSION-SIG"]  # signed for another id
        assert paypal_sandbox.post_webhook(body, fresh).status_code == 400

    assert len(outbound) == 1 and "/v1/notifications/certs/" in outbound[0]
    assert_not_applied(shopper)


def test_certificate_urls_paypal_does_not_serve_are_remembered_and_downloads_are_bounded(
    paypal_sandbox, approved, outbound, settings
):
    shopper, webhook = approved
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "WEBHOOK_CERT_FETCHES_PER_MINUTE": 3}
    body, headers = paypal_sandbox.signed(webhook)
    prefix = settings.WAGTAIL_LOCKEDCARTS["WEBHOOK_CERT_URL_PREFIXES"][0]
    statuses = []
    for index in range(6):
        _body, fresh = paypal_sandbox.signed(webhook)
        statuses.append(
            paypal_sandbox.post_webhook(body, {**fresh, "PAYPAL-CERT-URL": f"{prefix}CERT-{index % 4}"}).status_code
        )

    # CERT-0..2 are downloaded once each (404: refused and remembered); CERT-3 is over the bound
    # (503, so PayPal would retry a genuine one); CERT-0 and CERT-1 again are answered from memory.
    assert statuses == [400, 400, 400, 503, 400, 400]
    assert len(outbound) == 3
    assert_not_applied(shopper)


# ---- local verification, end to end with the sandbox's own certificate --------------------


@pytest.mark.parametrize("mode", ["local", "postback"])
def test_a_genuine_delivery_is_verified_and_applied(paypal_sandbox, approved, outbound, settings, mode):
    shopper, webhook = approved
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "WEBHOOK_VERIFICATION": mode}

    assert paypal_sandbox.deliver_webhooks() == [("CHECKOUT.ORDER.APPROVED", 200)]

    assert shopper.cart().status == CartStatus.ORDERED
    verifying = [url for url in outbound if "/v1/notifications/" in url]
    if mode == "local":
        assert len(verifying) == 1 and "/certs/" in verifying[0]
    else:
        assert len(verifying) == 1 and verifying[0].endswith("/verify-webhook-signature")


def test_the_certificate_is_downloaded_once_for_many_deliveries(paypal_sandbox, approved, outbound):
    shopper, webhook = approved
    for _ in range(5):
        assert paypal_sandbox.post_webhook(*paypal_sandbox.signed(webhook)).status_code == 200

    assert len([url for url in outbound if "/certs/" in url]) == 1


def test_the_signed_string_uses_the_unsigned_decimal_crc32_of_the_raw_body():
    body = b'{"id":"WH-30"}'  # its CRC32 has the top bit set: a signed CRC would be negative
    assert zlib.crc32(body) > 2**31
    assert verification.signed_message("tid", "2026-01-01T00:00:00Z", "WH-ID", body) == (
        f"tid|2026-01-01T00:00:00Z|WH-ID|{zlib.crc32(body)}".encode()
    )


# ---- certificate checks ---------------------------------------------------------------------


def _certificate(common_name, issuer_key=None, issuer_name=None, key=None, days=(-1, 30), key_size=2048):
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=days[0]))
        .not_valid_after(now + datetime.timedelta(days=days[1]))
        .sign(issuer_key or key, hashes.SHA256())
    )
    return certificate, key


def _pem(*certificates):
    from cryptography.hazmat.primitives.serialization import Encoding

    return b"".join(certificate.public_bytes(Encoding.PEM) for certificate in certificates)


PAYPAL_NAME = "messageverificationcerts.paypal.com"


def test_a_certificate_chain_to_its_issuer_is_accepted_and_cached_until_it_expires(db):
    ca, ca_key = _certificate("Test CA")
    leaf, _key = _certificate(PAYPAL_NAME, issuer_key=ca_key, issuer_name=ca.subject, days=(-1, 2))

    key, not_after = verification.load_certificate_chain(_pem(leaf, ca))

    assert key.public_numbers() == leaf.public_key().public_numbers()
    assert not_after == leaf.not_valid_after_utc


@pytest.mark.parametrize(
    "case",
    ["other subject", "expired", "not yet valid", "chain not issued by the next", "small key", "untrusted root"],
)
def test_unusable_certificates_are_refused(db, settings, tmp_path, case):
    ca, ca_key = _certificate("Test CA")
    other_ca, other_key = _certificate("Other CA")
    options = {
        "other subject": dict(common_name="messageverificationcerts.paypal.com.evil.example"),
        "expired": dict(days=(-30, -1)),
        "not yet valid": dict(days=(1, 30)),
        "chain not issued by the next": dict(issuer_key=other_key),
        "small key": dict(key=rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        "untrusted root": {},
    }[case]
    leaf, _ = _certificate(
        options.pop("common_name", PAYPAL_NAME), issuer_name=ca.subject, **{"issuer_key": ca_key, **options}
    )
    if case == "untrusted root":
        roots = tmp_path / "roots.pem"
        roots.write_bytes(_pem(other_ca))
        settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "WEBHOOK_CERT_TRUST_ROOTS": str(roots)}

    with pytest.raises(verification.InvalidCertificate):
        verification.load_certificate_chain(_pem(leaf, ca))


def test_a_chain_ending_at_a_configured_root_is_accepted(db, settings, tmp_path):
    root, root_key = _certificate("Test Root")
    leaf, _ = _certificate(PAYPAL_NAME, issuer_key=root_key, issuer_name=root.subject)
    roots = tmp_path / "roots.pem"
    roots.write_bytes(_pem(root))
    settings.WAGTAIL_LOCKEDCARTS = {**settings.WAGTAIL_LOCKEDCARTS, "WEBHOOK_CERT_TRUST_ROOTS": str(roots)}

    assert verification.load_certificate_chain(_pem(leaf))[0] is not None


def test_the_sandbox_serves_only_its_current_certificate(paypal_sandbox):
    from wagtail_lockedcarts.contrib.paypal_sandbox.signing import COMMON_NAME, identity

    good = requests.get(f"{paypal_sandbox.api_base}/v1/notifications/certs/{identity().cert_name}", timeout=10)
    other = requests.get(f"{paypal_sandbox.api_base}/v1/notifications/certs/CERT-00000000", timeout=10)

    certificate = x509.load_pem_x509_certificate(good.content)
    assert good.status_code == 200 and other.status_code == 404
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == COMMON_NAME
