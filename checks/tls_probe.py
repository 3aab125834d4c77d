"""TLS certificate check of host:port, and the certificate facts every https probe reports.

When verification fails, the handshake is repeated without verification to read the
certificate anyway: "certificate expired 2 days ago" helps more than "verify failed".
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import ipaddress
import ssl
import time

from cryptography import x509
from cryptography.x509.oid import NameOID

from checks.happy_eyeballs import Attempts
from checks.tcp_probe import (
    ProbeFailure,
    connect_timed,
    describe_os_error,
    elapsed_ms,
    timed_out_reason,
)
from checks.trust import TrustContext, TrustSetting, trust_context
from checks.trust_stores import default_store
from domain.certificates import certificate_verdict, days_left
from domain.check_options import CertThresholds, TlsOptions
from domain.result import Outcome, ProbeResult

# OpenSSL X509_V_ERR_* codes, as found in SSLCertVerificationError.verify_code.
_NOT_YET_VALID = 9
_EXPIRED = 10
_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNTRUSTED_ISSUER = (2, 20, 21)
_WRONG_HOST = (62, 64)  # hostname mismatch, IP address mismatch


def make_ssl_context(verify: bool = True, cafile: str | None = None) -> ssl.SSLContext:
    """A client context trusting `cafile` only, or the default store (see
    `checks.trust_stores`); build it once and share it (building one costs ~20 ms of CPU)."""
    if cafile is None:
        return trust_context(TrustSetting(verify), default_store()).context
    context = ssl.create_default_context(cafile=cafile)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def default_trust(verify: bool = True) -> TrustContext:
    """The context of a monitor without trust options, over the default store as it is now."""
    return trust_context(TrustSetting(verify), default_store())


def fingerprint(der: bytes) -> str:
    """SHA-256 of the certificate, as browsers show it: colon-separated upper-case hex."""
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def certificate_facts(
    der: bytes, hostname: str, verified: bool | None, trust: TrustContext | None = None,
    address: str | None = None,
) -> dict[str, object]:
    """What people want to know about a certificate, JSON-ready.

    `verified` is None when the chain was not checked (a monitor with verification off);
    `trusted_by` names the store that trusted a verified chain (from `trust`); `address` is the
    one of the host's addresses that answered.
    """
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    sans: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [*names.get_values_for_type(x509.DNSName)]
        sans += [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    common_names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    issuer = cert.issuer.rfc4514_string()
    return {
        "fingerprint": fingerprint(der),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": days_left(not_after, dt.datetime.now(dt.UTC)),
        "issuer": issuer,
        "subject": cert.subject.rfc4514_string(),
        "sans": sans,
        "self_signed": cert.issuer == cert.subject,
        "verified": verified,
        "trusted_by": trust.stores.label(issuer) if verified and trust is not None else None,
        "hostname_matches": hostname_matches(hostname, sans or common_names),
        "address": address,
    }


def hostname_matches(hostname: str, names: list[str]) -> bool:
    """RFC 6125 matching: exact, or a wildcard standing for exactly one leftmost label."""
    hostname = hostname.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    for name in names:
        name = name.lower().rstrip(".")
        if address is not None:
            with contextlib.suppress(ValueError):
                if ipaddress.ip_address(name) == address:
                    return True
            continue
        if name == hostname:
            return True
        wildcard_match = name.startswith("*.") and hostname.partition(".")[2] == name[2:]
        if wildcard_match and "." in hostname:
            return True
    return False


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def expiry_reason(facts: dict[str, object]) -> str:
    not_after = dt.datetime.fromisoformat(str(facts["not_after"]))
    now = dt.datetime.now(dt.UTC)
    if not_after <= now:
        ago = (now - not_after).days
        return "certificate expired today" if ago == 0 else f"certificate expired {_days(ago)} ago"
    left = days_left(not_after, now)
    return "certificate expires today" if left == 0 else f"certificate expires in {_days(left)}"


def evaluate_certificate(
    facts: dict[str, object], thresholds: CertThresholds
) -> tuple[Outcome, str | None]:
    """The expiry verdict of domain.certificates under the monitor's thresholds; a certificate
    not valid yet is down too (an expiry verdict of down explains itself first)."""
    verdict = certificate_verdict(
        int(facts["days_left"]),  # type: ignore[call-overload]
        thresholds.cert_warning_days, thresholds.cert_critical_days,
    )
    if verdict == "down":
        return "down", expiry_reason(facts)
    if dt.datetime.fromisoformat(str(facts["not_before"])) > dt.datetime.now(dt.UTC):
        return "down", "certificate is not valid yet"
    if verdict == "degraded":
        return "degraded", expiry_reason(facts)
    return "up", None


def verification_failure_reason(
    error: ssl.SSLCertVerificationError, facts: dict[str, object] | None
) -> str:
    code = error.verify_code
    if code == _EXPIRED:
        return expiry_reason(facts) if facts else "certificate expired"
    if code == _NOT_YET_VALID:
        return "certificate is not valid yet"
    if code == _SELF_SIGNED:
        return "self-signed certificate"
    if code == _SELF_SIGNED_IN_CHAIN:
        return "self-signed certificate in the chain"
    if code in _WRONG_HOST:
        names = facts["sans"] if facts else []
        shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")  # type: ignore[index, arg-type]
        return f"certificate is for another host ({shown or 'no names'})"
    if code in _UNTRUSTED_ISSUER:
        issuer = f" ({facts['issuer']})" if facts else ""
        return f"certificate issued by an unknown authority{issuer}: add its CA to the " \
            "monitor's CA bundle if you trust it"
    return f"certificate rejected: {error.verify_message}"


# What a server's TLS alert means for the monitor's own certificate (mutual TLS).
_CLIENT_CERTIFICATE_ALERTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the server requires a client certificate: give the "
    "monitor one (client certificate and key)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the server refused the monitor's client certificate",
    "TLSV1_ALERT_UNKNOWN_CA": "the server does not trust the authority of the monitor's client "
    "certificate",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the server says the monitor's client certificate expired",
    "TLSV1_ALERT_ACCESS_DENIED": "the server denied access to the monitor's client certificate",
}


def tls_failure_reason(error: ssl.SSLError) -> str:
    """A failed handshake (not a failed verification) in words; the server's alerts about a
    client certificate say what to do."""
    reason = str(error.reason or "")
    if reason in _CLIENT_CERTIFICATE_ALERTS:
        return _CLIENT_CERTIFICATE_ALERTS[reason]
    return f"TLS handshake failed ({error.reason or error})"


async def fetch_certificate(
    address: str, port: int, server_hostname: str, trust: TrustContext | None = None
) -> bytes:
    """The peer's leaf certificate (DER), read without verifying anything (presenting the
    monitor's client certificate, if it has one, to a server that wants one)."""
    setting = trust.setting.unverified() if trust is not None else TrustSetting(verify=False)
    _, writer = await asyncio.open_connection(
        address,
        port,
        ssl=trust_context(setting, trust.stores.store if trust else default_store()).context,
        server_hostname=server_hostname,
    )
    try:
        return writer.get_extra_info("ssl_object").getpeercert(binary_form=True) or b""
    finally:
        writer.close()


async def explain_verification_failure(
    error: ssl.SSLCertVerificationError,
    address: str,
    port: int,
    hostname: str,
    trust: TrustContext | None = None,
) -> tuple[str, dict[str, object] | None]:
    """Reason for a failed verification, with the certificate's facts when they can be read."""
    facts: dict[str, object] | None = None
    with contextlib.suppress(OSError, ValueError):
        der = await fetch_certificate(address, port, hostname, trust)
        if der:
            facts = certificate_facts(der, hostname, verified=False, address=address)
    return verification_failure_reason(error, facts), facts


async def probe_tls(
    host: str,
    port: int,
    timeout: float,
    options: TlsOptions | None = None,
    ssl_context: ssl.SSLContext | None = None,
    trust: TrustContext | None = None,
) -> ProbeResult:
    """Handshake with host:port, verify the certificate, and judge its expiry.

    `trust` is the monitor's (see `checks.trust`); `ssl_context` replaces it when given.
    """
    options = options or TlsOptions()
    if ssl_context is None:
        trust = trust or default_trust()
        ssl_context = trust.context
    context = ssl_context
    started = time.perf_counter()
    phases: dict[str, float] = {}
    facts: dict[str, object] | None = None
    attempts = Attempts()
    try:
        async with asyncio.timeout(timeout):
            address, writer = await connect_timed(host, port, phases, options.ip_version,
                                                  attempts)
            try:
                tls_started = time.perf_counter()
                await writer.start_tls(context, server_hostname=host)
                phases["tls"] = elapsed_ms(tls_started)
                der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
                facts = certificate_facts(der, host, verified=context.verify_mode
                                          == ssl.CERT_REQUIRED or None, trust=trust,
                                          address=address)
            except ssl.SSLCertVerificationError as error:
                refusal, facts = await explain_verification_failure(
                    error, address, port, host, trust)
                raise ProbeFailure(refusal) from None
            finally:
                writer.close()
    except TimeoutError:
        return _down(attempts.reason(timed_out_reason(timeout)), phases, started, facts)
    except ProbeFailure as failure:
        return _down(failure.reason, phases, started, facts)
    except ssl.SSLError as exc:
        return _down(tls_failure_reason(exc), phases, started, facts)
    except OSError as exc:
        return _down(describe_os_error(exc), phases, started, facts)
    except Exception as exc:  # a probe reports, it never raises
        return _down(f"check failed: {exc!r}", phases, started, facts)
    phases["total"] = elapsed_ms(started)
    outcome, reason = evaluate_certificate(facts, options)
    return ProbeResult(outcome, latency_ms=phases["total"], reason=reason, phases=phases, tls=facts)


def _down(
    reason: str, phases: dict[str, float], started: float, facts: dict[str, object] | None
) -> ProbeResult:
    return ProbeResult(
        "down", reason=reason, phases={**phases, "total": elapsed_ms(started)}, tls=facts
    )
