"""The certificates an HTTPS check saw: read off the response's connection, judged against
the monitor's thresholds, and the one its result shows."""

from __future__ import annotations

import ssl
from collections.abc import Sequence

import httpx

from checks.tls_probe import certificate_facts, evaluate_certificate
from domain.check_options import HttpOptions
from domain.result import Outcome

CertificateFacts = dict[str, object]


def peer_certificate(
    response: httpx.Response, host: str, address: str | None = None
) -> CertificateFacts | None:
    """The facts of the certificate the server presented for `host` at `address`; None over
    plain HTTP."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    # getpeercert() is empty without verification; the binary form is always there.
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    verified = ssl_object.context.verify_mode == ssl.CERT_REQUIRED or None
    trust = stream.get_extra_info("trust")
    return certificate_facts(der, host, verified=verified, trust=trust, address=address)


def closest_to_expiry(certificates: Sequence[CertificateFacts]) -> CertificateFacts | None:
    """The certificate worth showing (and alerting on) among those a check met on its hops."""
    if not certificates:
        return None
    return min(certificates, key=lambda facts: int(facts["days_left"]))  # type: ignore[call-overload]


def judge_certificates(
    certificates: Sequence[CertificateFacts], options: HttpOptions
) -> tuple[Outcome, str | None]:
    """Down at the first certificate that is down, else degraded at the first degraded one."""
    degraded: str | None = None
    for facts in certificates:
        outcome, reason = evaluate_certificate(facts, options)
        if outcome == "down":
            return outcome, reason
        if outcome == "degraded" and degraded is None:
            degraded = reason
    if degraded:
        return "degraded", degraded
    return "up", None


__all__ = ["CertificateFacts", "closest_to_expiry", "judge_certificates", "peer_certificate"]
