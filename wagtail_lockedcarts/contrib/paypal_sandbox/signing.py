"""How the sandbox signs webhooks: PayPal's scheme, with a self-signed certificate it serves.

PayPal signs ``transmission_id|transmission_time|webhook_id|crc32(raw body)`` with SHA256withRSA
and names the certificate in ``PAYPAL-CERT-URL``. The sandbox does the same with an RSA key and
a self-signed certificate generated on first use, served at ``/v1/notifications/certs/<name>``,
so a shop's local verification runs end to end offline (and the postback endpoint checks the
same signature).

The key is kept in ``PAYPAL_SANDBOX["SIGNING_KEY_FILE"]`` (created once, mode 0600, atomically,
so every worker process of a server signs with the same key); without that setting it lives in
this process's memory only, which suits a single-process server or a test run.
"""

import base64
import datetime
import hashlib
import json
import os
import threading
import zlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from . import conf

AUTH_ALGO = "SHA256withRSA"
COMMON_NAME = "paypal-sandbox.wagtail-lockedcarts.invalid"
CERT_LIFETIME = datetime.timedelta(days=365)

_lock = threading.Lock()
_identities = {}


class Identity:
    """The sandbox's signing key, its certificate (PEM) and the certificate's name in URLs."""

    def __init__(self, key, certificate_pem):
        self.key = key
        self.certificate_pem = certificate_pem
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
        self.cert_name = f"CERT-{digest[:8]}-{digest[8:16]}-{digest[16:24]}"


def _generate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + CERT_LIFETIME)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem + certificate.public_bytes(serialization.Encoding.PEM)


def _parse(pem):
    key = serialization.load_pem_private_key(pem, password=None)
    start = pem.index(b"-----BEGIN CERTIFICATE-----")
    return Identity(key, pem[start:])


def _load_or_create(path):
    """Read the key file; create it first if missing (the first process to link it wins)."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(_generate())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    with open(path, "rb") as handle:
        return _parse(handle.read())


def identity():
    path = conf.get("SIGNING_KEY_FILE") or ""
    with _lock:
        if path not in _identities:
            _identities[path] = _load_or_create(path) if path else _parse(_generate())
        return _identities[path]


def canonical_body(event):
    """The exact bytes the sandbox sends; verification re-derives them from the parsed event."""
    return json.dumps(event, separators=(",", ":")).encode()


def signed_string(transmission_id, transmission_time, webhook_id, body):
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"


def sign(transmission_id, transmission_time, webhook_id, body):
    message = signed_string(transmission_id, transmission_time, webhook_id, body).encode()
    signature = identity().key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify(transmission_id, transmission_time, webhook_id, body, signature):
    message = signed_string(transmission_id, transmission_time, webhook_id, body).encode()
    try:
        identity().key.public_key().verify(
            base64.b64decode(str(signature), validate=True), message, padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True
