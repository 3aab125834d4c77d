"""How close to expiry a TLS certificate is, and what that means for the check, the notices
and the badge.

Three thresholds of days left, one rule each:
- a monitor's check turns degraded under its warning threshold and down under its critical one
  (per monitor; CERT_WARNING_DAYS and CERT_CRITICAL_DAYS are the defaults);
- a notice is sent once at each of NOTICE_DAYS, the same for every monitor;
- the certificate badge changes colour at the same NOTICE_DAYS, so its colour says how many
  notices have gone out.

Also the rules for the PEM a monitor may carry (a CA bundle to trust, a client certificate and
key for mutual TLS): refused at input with a sentence that says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, TypeVar, get_args

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from domain.tables import one_per

CERT_WARNING_DAYS = 30
CERT_CRITICAL_DAYS = 7
NOTICE_DAYS: tuple[int, ...] = (CERT_WARNING_DAYS, 14, CERT_CRITICAL_DAYS)  # furthest first

CertVerdict = Literal["up", "degraded", "down"]
# How urgent a certificate is: before any notice, after each of NOTICE_DAYS, and expired.
CertBand = Literal["valid", "expiring", "expiring_soon", "critical", "expired"]
CERT_BANDS: tuple[CertBand, ...] = get_args(CertBand)

Value = TypeVar("Value")


def days_left(not_after: datetime, now: datetime) -> int:
    """Whole days until `not_after`, rounded down; negative once it has passed."""
    return (not_after - now).days


def days_left_if_known(not_after: datetime | None, now: datetime) -> int | None:
    """`days_left`, or None when no certificate (or no expiry) is known."""
    return None if not_after is None else days_left(not_after, now)


def certificate_verdict(
    days: int, warning_days: int = CERT_WARNING_DAYS, critical_days: int = CERT_CRITICAL_DAYS
) -> CertVerdict:
    """Down when expired or under the critical threshold, degraded under the warning one."""
    if days < 0 or days < critical_days:
        return "down"
    if days < warning_days:
        return "degraded"
    return "up"


def notices_due(days: int) -> tuple[int, ...]:
    """The NOTICE_DAYS a certificate with `days` left has reached (all of them once expired)."""
    return tuple(threshold for threshold in NOTICE_DAYS if days <= threshold)


def certificate_band(days: int) -> CertBand:
    """How urgent a certificate with `days` left is: one band per notice reached."""
    if days < 0:
        return "expired"
    return CERT_BANDS[len(notices_due(days))]


def for_every_cert_band(values: Mapping[CertBand, Value]) -> dict[str, Value]:
    """`values` (colours) checked to hold one entry per band: fails on import when a band is
    added without one."""
    return one_per(CERT_BANDS, values, "certificate band")


# --- PEM given with a monitor (a CA bundle, a client certificate and its key) ---------------

_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def _pem_certificates(text: str, what: str) -> list[x509.Certificate]:
    if _PEM_CERTIFICATE not in text:
        raise ValueError(
            f"{what} must be PEM: paste the certificates including their "
            "-----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines")
    try:
        return x509.load_pem_x509_certificates(text.encode("ascii", "replace"))
    except ValueError:
        raise ValueError(
            f"{what} holds a certificate that cannot be read: paste each one whole, from its "
            "BEGIN line to its END line, without changing the text between them") from None


def check_ca_bundle(text: str) -> str:
    """`text` when it holds PEM certificates of authorities (or self-signed ones), else
    ValueError saying what to fix."""
    for certificate in _pem_certificates(text, "the CA bundle"):
        constraints = _basic_constraints(certificate)
        # A self-signed server certificate may be trusted as itself; one signed by someone
        # else is trusted through that signer.
        self_signed = certificate.issuer == certificate.subject
        if constraints is not None and not constraints.ca and not self_signed:
            subject = certificate.subject.rfc4514_string()[:80]
            raise ValueError(
                f"the CA bundle holds a server certificate ({subject}), not a certificate "
                "authority: paste the certificate of the authority that signed it")
    return text


def _basic_constraints(certificate: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def check_client_certificate(text: str) -> str:
    """`text` when it is a PEM certificate (its chain may follow), else ValueError."""
    _pem_certificates(text, "the client certificate")
    if "PRIVATE KEY-----" in text:
        raise ValueError("the client certificate holds a private key: paste the key in its "
                         "own field (it is kept sealed and never shown again)")
    return text


def check_client_key(text: str) -> str:
    """`text` when it is an unencrypted PEM private key, else ValueError saying what to fix."""
    if "PRIVATE KEY-----" not in text:
        raise ValueError("the client key must be a PEM private key, from its "
                         "-----BEGIN PRIVATE KEY----- line to its END line")
    try:
        serialization.load_pem_private_key(text.encode("ascii", "replace"), password=None)
    except TypeError:
        raise ValueError("the client key is encrypted: give it without a passphrase "
                         "(openssl pkey -in key.pem -out plain.pem)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("the client key cannot be read: paste it whole, from its BEGIN line "
                         "to its END line") from None
    return text


def key_matches_certificate(certificate_pem: str, key_pem: str) -> bool:
    """Whether the private key belongs to the (first) certificate."""
    certificate = x509.load_pem_x509_certificates(certificate_pem.encode("ascii", "replace"))[0]
    key = serialization.load_pem_private_key(key_pem.encode("ascii", "replace"), password=None)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    return bool(certificate.public_key().public_bytes(encoding, public)
                == key.public_key().public_bytes(encoding, public))
