"""Is a webhook delivery genuine? A cheap gate on the headers, then PayPal's signature.

A forged delivery must cost us less than it costs the sender, so the checks run cheapest first
and nothing leaves the machine until every local check passed:

1. the five ``PAYPAL-*`` headers are present and short;
2. ``PAYPAL-AUTH-ALGO`` is allowlisted (``WEBHOOK_AUTH_ALGOS``);
3. ``PAYPAL-CERT-URL`` starts with an allowlisted prefix (``WEBHOOK_CERT_URL_PREFIXES``: scheme,
   host and port exactly, then a path prefix; no user info, query, fragment or ``..``);
4. ``PAYPAL-TRANSMISSION-TIME`` is within ``WEBHOOK_MAX_AGE_SECONDS`` of our clock;
5. the transmission id was never accepted before (one indexed lookup).

Then the signature: PayPal signs ``transmission_id|transmission_time|webhook_id|crc32(body)``
(CRC32 of the raw body bytes as an unsigned decimal) with SHA256withRSA. ``"local"``
verification checks it here with the certificate from the allowlisted URL, downloaded once and
cached until it expires; ``"postback"`` asks PayPal's ``verify-webhook-signature`` instead.
Trust in the certificate comes from where it was fetched (an allowlisted host over https); its
subject name, validity dates and chain are checked as well, and optionally its root.

An accepted transmission id is recorded, so the same signed headers cannot be replayed with
another body whose CRC32 was forced to match (the event id is not signed).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from wagtail_lockedcarts import conf
from wagtail_lockedcarts.models import WebhookTransmission
from wagtail_lockedcarts.paypal.client import WEBHOOK_HEADERS, PayPalError, PayPalUnavailable, get_client

logger = logging.getLogger("wagtail_lockedcarts.paypal")

MAX_HEADER_LENGTH = 2048
TRANSMISSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,128}$")
# A certificate is re-fetched at the latest after this long, even if it is valid for years.
CERT_CACHE_MAX_SECONDS = 24 * 3600
# A URL whose certificate could not be used is not fetched again for this long.
CERT_FAILURE_SECONDS = 300


class Rejected(Exception):
    """The delivery is refused; ``status`` is the HTTP answer (503 makes PayPal retry later)."""

    def __init__(self, reason, status=400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class InvalidCertificate(Exception):
    pass


@dataclass(frozen=True)
class Transmission:
    auth_algo: str
    cert_url: str
    transmission_id: str
    transmission_sig: str
    transmission_time: str
    sent_at: datetime


def cert_url_allowed(url, prefixes=None):
    """True only for a URL under one of the allowlisted prefixes, compared part by part."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.username or parts.password or parts.query or parts.fragment or "\\" in url:
        return False
    if ".." in parts.path.split("/") or "//" in parts.path:
        return False
    for prefix in conf.get("WEBHOOK_CERT_URL_PREFIXES") if prefixes is None else prefixes:
        allowed = urlsplit(prefix)
        if (
            parts.scheme == allowed.scheme
            and (parts.hostname or "") == (allowed.hostname or "")
            and port == allowed.port
            and parts.path.startswith(allowed.path)
            and len(parts.path) > len(allowed.path)
        ):
            return True
    return False


def parse_transmission_time(value):
    try:
        sent_at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return sent_at if sent_at.tzinfo is not None else None


def check_headers(headers, now=None):
    """The local checks 1–4, in that order; no database, no network. Returns the Transmission."""
    fields = {name: headers.get(header) or "" for name, header in WEBHOOK_HEADERS.items()}
    if not all(fields.values()) or any(len(value) > MAX_HEADER_LENGTH for value in fields.values()):
        raise Rejected("missing or oversized signature headers")
    if fields["auth_algo"] not in conf.get("WEBHOOK_AUTH_ALGOS"):
        raise Rejected("algorithm not allowed")
    if not cert_url_allowed(fields["cert_url"]):
        raise Rejected("certificate URL not allowed")
    sent_at = parse_transmission_time(fields["transmission_time"])
    window = timedelta(seconds=conf.get("WEBHOOK_MAX_AGE_SECONDS"))
    if sent_at is None or abs((now or timezone.now()) - sent_at) > window:
        raise Rejected("transmission time outside the accepted window")
    if not TRANSMISSION_ID_PATTERN.match(fields["transmission_id"]):
        raise Rejected("malformed transmission id")
    return Transmission(sent_at=sent_at, **fields)


def gate(headers, now=None):
    """Checks 1–5: everything that is decided without PayPal."""
    transmission = check_headers(headers, now)
    if WebhookTransmission.objects.filter(transmission_id=transmission.transmission_id).exists():
        raise Rejected("transmission replayed")
    return transmission


def signed_message(transmission_id, transmission_time, webhook_id, body):
    """What PayPal signs: note the CRC32 of the *raw* body as an unsigned decimal."""
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()


# ---------------------------------------------------------------------------------------------
# certificates


def _common_names(certificate):
    from cryptography.x509.oid import NameOID

    return [attribute.value for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def _trusted_roots():
    from cryptography import x509

    path = conf.get("WEBHOOK_CERT_TRUST_ROOTS")
    if not path:
        return None
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificates(handle.read())


def _issued_by(child, parent):
    from cryptography.exceptions import InvalidSignature

    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def load_certificate_chain(pem, now=None):
    """The leaf's public key and the time the chain stops being valid; raises InvalidCertificate.

    Checks: PEM parses; the leaf's common name is allowlisted (``WEBHOOK_CERT_NAMES``); every
    certificate is within its validity dates; each one is issued by the next; the leaf key is
    RSA of at least 2048 bits; with ``WEBHOOK_CERT_TRUST_ROOTS``, the chain ends at a trusted root.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    now = now or timezone.now()
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError as error:
        raise InvalidCertificate("not a PEM certificate") from error
    leaf = chain[0]
    if not set(_common_names(leaf)) & set(conf.get("WEBHOOK_CERT_NAMES")):
        raise InvalidCertificate("unexpected certificate subject")
    for certificate in chain:
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise InvalidCertificate("certificate outside its validity dates")
    if not all(_issued_by(child, parent) for child, parent in zip(chain, chain[1:])):
        raise InvalidCertificate("broken certificate chain")
    roots = _trusted_roots()
    if roots is not None and not any(chain[-1] == root or _issued_by(chain[-1], root) for root in roots):
        raise InvalidCertificate("certificate chain does not end at a trusted root")
    key = leaf.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise InvalidCertificate("the certificate's key is not RSA of 2048 bits or more")
    return key, min(certificate.not_valid_after_utc for certificate in chain)


class CertificateCache:
    """Per-process cache of signing keys by certificate URL, with a bound on downloads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keys = {}
        self._failures = {}
        self._fetches = deque()
        self._url_locks = {}

    def clear(self):
        with self._lock:
            self._url_locks.clear()
            self._keys.clear()
            self._failures.clear()
            self._fetches.clear()

    def public_key(self, url):
        """The key for ``url``, downloading it at most once at a time per URL (concurrent
        deliveries in other threads wait for that one download instead of starting their own)."""
        key = self._cached(url)
        if key is not None:
            return key
        with self._lock:
            url_lock = self._url_locks.setdefault(url, threading.Lock())
        with url_lock:
            key = self._cached(url)
            if key is not None:
                return key
            self._count_download()
            return self._download(url)

    def _cached(self, url):
        now = time.monotonic()
        with self._lock:
            cached = self._keys.get(url)
            if cached and cached[1] > now:
                return cached[0]
            if self._failures.get(url, 0) > now:
                raise Rejected("certificate unusable")
        return None

    def _count_download(self):
        now = time.monotonic()
        with self._lock:
            while self._fetches and self._fetches[0] < now - 60:
                self._fetches.popleft()
            if len(self._fetches) >= conf.get("WEBHOOK_CERT_FETCHES_PER_MINUTE"):
                raise Rejected("too many certificate downloads", status=503)
            self._fetches.append(now)

    def _download(self, url):
        try:
            pem = get_client().fetch_certificate(url)
            key, not_after = load_certificate_chain(pem)
        except PayPalUnavailable as error:
            raise Rejected("certificate not downloadable", status=503) from error
        except (InvalidCertificate, PayPalError) as error:
            logger.warning("Rejected the webhook signing certificate at %s: %s", url, error)
            with self._lock:
                self._failures[url] = time.monotonic() + CERT_FAILURE_SECONDS
            raise Rejected("certificate unusable") from error
        lifetime = min((not_after - timezone.now()).total_seconds(), CERT_CACHE_MAX_SECONDS)
        with self._lock:
            self._keys[url] = (key, time.monotonic() + lifetime)
        return key


certificates = CertificateCache()


def verify_locally(transmission, body, webhook_id):
    """SHA256withRSA over PayPal's signed string, with the (cached) certificate's key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if not webhook_id:
        return False
    try:
        signature = base64.b64decode(transmission.transmission_sig, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = certificates.public_key(transmission.cert_url)
    message = signed_message(transmission.transmission_id, transmission.transmission_time, webhook_id, body)
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def authenticate(headers, body):
    """Gate, then signature, then remember the transmission. Returns it; raises Rejected."""
    transmission = gate(headers)
    if conf.get("WEBHOOK_VERIFICATION") == "postback":
        try:
            genuine = get_client().verify_webhook_signature(headers, body)
        except PayPalUnavailable as error:
            raise Rejected("PayPal unavailable", status=503) from error
    else:
        genuine = verify_locally(transmission, body, conf.get("PAYPAL")["WEBHOOK_ID"])
    if not genuine:
        raise Rejected("invalid signature")
    if not remember(transmission):
        raise Rejected("transmission replayed")
    return transmission


def remember(transmission):
    """Record an accepted transmission id; False if another request recorded it first."""
    try:
        with transaction.atomic():
            WebhookTransmission.objects.create(
                transmission_id=transmission.transmission_id, transmission_time=transmission.sent_at
            )
    except IntegrityError:
        return False
    cutoff = timezone.now() - timedelta(seconds=2 * conf.get("WEBHOOK_MAX_AGE_SECONDS"))
    WebhookTransmission.objects.filter(received_at__lt=cutoff).delete()
    return True


def forget(transmission):
    """Processing failed (503): PayPal's retry of this very transmission must be accepted."""
    WebhookTransmission.objects.filter(transmission_id=transmission.transmission_id).delete()
