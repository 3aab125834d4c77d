"""Certificates: facts and reasons from https monitors and from the standalone TLS check."""

from __future__ import annotations

import time

import pytest

from checks.http_probe import probe_http
from checks.http_request import make_probe_client
from checks.tls_probe import hostname_matches, make_ssl_context, probe_tls
from domain.check_options import HttpOptions, TlsOptions
from tests.targets import HOST, FaultTarget

pytestmark = pytest.mark.anyio

TIMEOUT = 1.0
SLACK = 0.5


CERT_FAULTS = [
    ("expired", None, "down", "certificate expired 2 days ago"),
    ("self_signed", None, "down", "self-signed certificate"),
    (
        "wrong_host",
        None,
        "down",
        "certificate is for another host (other.example, www.other.example)",
    ),
    # 5 days is under the default critical threshold (7): down. With a lower one: degraded.
    ("expires_in_5_days", None, "down", "certificate expires in 5 days"),
    ("expires_in_5_days", 3, "degraded", "certificate expires in 5 days"),
]


@pytest.mark.parametrize(("kind", "critical_days", "outcome", "reason"), CERT_FAULTS)
async def test_https_monitor_reports_each_certificate_fault(
    target: FaultTarget, client, kind: str, critical_days: int | None, outcome: str, reason: str
) -> None:
    options = HttpOptions(cert_critical_days=critical_days if critical_days is not None else 7)
    started = time.perf_counter()
    result = await probe_http(target.tls_url(kind), TIMEOUT, client, options)

    assert (result.outcome, result.reason) == (outcome, reason)
    assert time.perf_counter() - started < TIMEOUT + SLACK
    assert result.tls is not None  # facts are read even when verification failed


@pytest.mark.parametrize(("kind", "critical_days", "outcome", "reason"), CERT_FAULTS)
async def test_standalone_tls_check_reports_each_certificate_fault(
    target: FaultTarget, kind: str, critical_days: int | None, outcome: str, reason: str
) -> None:
    options = TlsOptions(cert_critical_days=critical_days if critical_days is not None else 7)
    context = make_ssl_context(cafile=target.ca_file)
    started = time.perf_counter()
    result = await probe_tls(HOST, target.tls_ports[kind], TIMEOUT, options, context)

    assert (result.outcome, result.reason) == (outcome, reason)
    assert time.perf_counter() - started < TIMEOUT + SLACK


async def test_a_good_certificate_is_described(target: FaultTarget, client) -> None:
    result = await probe_http(target.tls_url("good"), TIMEOUT, client)

    assert (result.outcome, result.http_status) == ("up", 200)
    assert set(result.phases) == {"dns", "connect", "tls", "ttfb", "transfer", "total"}
    assert result.phases["tls"] > 0
    tls = result.tls
    assert tls is not None
    assert tls["days_left"] == 364
    assert tls["verified"] is True and tls["hostname_matches"] is True
    assert tls["sans"] == ["localhost", "127.0.0.1"]
    assert "CN=Upwatch Test CA" in str(tls["issuer"])
    assert "CN=localhost" in str(tls["subject"])
    assert str(tls["not_after"]).endswith("+00:00")
    assert len(str(tls["fingerprint"]).split(":")) == 32  # SHA-256, as browsers show it


async def test_a_host_name_is_resolved_timed_and_sent_as_sni(target: FaultTarget, client) -> None:
    # The certificate names localhost: this only verifies if SNI/hostname checks use the name,
    # although the probe connects to the resolved address.
    url = target.tls_url("good", host="localhost")
    result = await probe_http(url, TIMEOUT, client)

    assert (result.outcome, result.reason) == ("up", None)
    assert result.phases["dns"] > 0


async def test_with_verification_off_a_self_signed_site_is_up(target: FaultTarget) -> None:
    async with make_probe_client(verify=False) as unverified:
        options = HttpOptions(verify_tls=False)
        result = await probe_http(target.tls_url("self_signed"), TIMEOUT, unverified, options)

    assert result.outcome == "up"
    assert result.tls is not None
    assert result.tls["verified"] is None  # not checked, rather than "failed"
    assert result.tls["self_signed"] is True
    assert result.tls["days_left"] == 364


async def test_expiry_still_counts_with_verification_off(target: FaultTarget) -> None:
    async with make_probe_client(verify=False) as unverified:
        result = await probe_http(target.tls_url("expired"), TIMEOUT, unverified)

    assert (result.outcome, result.reason) == ("down", "certificate expired 2 days ago")


async def test_standalone_check_of_a_good_certificate(target: FaultTarget) -> None:
    context = make_ssl_context(cafile=target.ca_file)
    result = await probe_tls("localhost", target.tls_ports["good"], TIMEOUT, ssl_context=context)

    assert (result.outcome, result.reason) == ("up", None)
    assert {"dns", "connect", "tls", "total"} <= set(result.phases)
    assert result.tls is not None and result.tls["verified"] is True


async def test_standalone_check_of_a_warning_certificate_is_degraded(target: FaultTarget) -> None:
    context = make_ssl_context(cafile=target.ca_file)
    options = TlsOptions(cert_warning_days=400, cert_critical_days=30)
    result = await probe_tls(HOST, target.tls_ports["good"], TIMEOUT, options, context)

    assert (result.outcome, result.reason) == ("degraded", "certificate expires in 364 days")


@pytest.mark.parametrize(
    ("port_of", "reason"),
    [
        (lambda t: t.hang_port, "timed out after 1 s"),
        (lambda t: t.refused_port, "connection refused"),
    ],
    ids=["never answers", "refused"],
)
async def test_standalone_check_network_failures(target: FaultTarget, port_of, reason) -> None:
    started = time.perf_counter()
    result = await probe_tls(HOST, port_of(target), TIMEOUT)

    assert result.outcome == "down"
    assert result.reason is not None and result.reason.startswith(reason)
    assert time.perf_counter() - started < TIMEOUT + SLACK


async def test_https_to_a_port_that_never_answers_times_out(target: FaultTarget, client) -> None:
    url = f"https://{HOST}:{target.hang_port}/"
    started = time.perf_counter()
    result = await probe_http(url, TIMEOUT, client)

    assert (result.outcome, result.reason) == ("down", "timed out after 1 s")
    assert time.perf_counter() - started < TIMEOUT + SLACK


@pytest.mark.parametrize(
    ("hostname", "names", "matches"),
    [
        ("www.example.com", ["www.example.com"], True),
        ("WWW.Example.com.", ["www.example.com"], True),
        ("www.example.com", ["*.example.com"], True),
        ("a.b.example.com", ["*.example.com"], False),
        ("example.com", ["*.example.com"], False),
        ("127.0.0.1", ["127.0.0.1"], True),
        ("127.0.0.1", ["localhost"], False),
        ("other.com", ["example.com", "www.example.com"], False),
    ],
)
def test_hostname_matching(hostname: str, names: list[str], matches: bool) -> None:
    assert hostname_matches(hostname, names) is matches
