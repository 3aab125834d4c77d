"""TCP port and DNS record checks against local servers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from checks.dns_probe import probe_dns
from checks.tcp_probe import probe_tcp
from domain.check_options import DnsOptions, TcpOptions
from tests.targets import HOST, SILENT_NAME, FaultTarget, serve_dns

pytestmark = pytest.mark.anyio

TIMEOUT = 1.0
SLACK = 0.5

ZONE = {
    ("up.test.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("up.test.", "AAAA"): ["2001:db8::10"],
    ("up.test.", "MX"): ["10 mail.up.test.", "20 backup.up.test."],
    ("up.test.", "TXT"): ['"v=spf1 ip4:192.0.2.0/24 -all"', '"site-verification=abc123"'],
    ("up.test.", "NS"): ["ns1.up.test."],
    ("www.up.test.", "CNAME"): ["up.test."],
    ("only-a.test.", "A"): ["192.0.2.20"],
}


@pytest.fixture(scope="module")
def resolver() -> Iterator[str]:
    with serve_dns(ZONE) as (host, port):
        yield f"{host}:{port}"


async def test_an_open_port_is_up_with_its_connect_time(target: FaultTarget) -> None:
    result = await probe_tcp(HOST, target.http_port, TIMEOUT)

    assert (result.outcome, result.reason) == ("up", None)
    assert result.latency_ms == result.phases["connect"]
    assert 0 < result.phases["connect"] < 100


async def test_a_port_that_accepts_and_never_speaks_is_still_open(target: FaultTarget) -> None:
    assert (await probe_tcp(HOST, target.hang_port, TIMEOUT)).outcome == "up"


async def test_a_closed_port_is_down(target: FaultTarget) -> None:
    result = await probe_tcp(HOST, target.refused_port, TIMEOUT)

    assert (result.outcome, result.reason) == ("down", "connection refused")


async def test_an_unresolvable_host_is_down() -> None:
    result = await probe_tcp("example.invalid", 80, TIMEOUT)

    assert (result.outcome, result.reason) == ("down", "cannot resolve host example.invalid")


async def test_a_host_name_is_resolved_and_timed(target: FaultTarget) -> None:
    result = await probe_tcp("localhost", target.http_port, TIMEOUT)

    assert result.outcome == "up"
    assert result.phases["dns"] > 0


async def test_a_slow_connect_can_be_degraded(target: FaultTarget) -> None:
    options = TcpOptions(degraded_above_ms=0.001)
    result = await probe_tcp(HOST, target.http_port, TIMEOUT, options)

    assert result.outcome == "degraded"
    assert result.reason is not None and result.reason.startswith("slow connect:")


@pytest.mark.parametrize(
    ("name", "record_type", "expected"),
    [
        ("up.test", "A", None),
        ("up.test", "A", "192.0.2.11"),
        ("up.test", "AAAA", "2001:db8:0::10"),
        ("up.test", "MX", "mail.up.test"),
        ("up.test", "MX", "20 backup.up.test."),
        ("up.test", "TXT", "v=spf1"),
        ("up.test", "NS", "ns1.up.test"),
        ("www.up.test", "CNAME", "UP.test."),
    ],
)
async def test_dns_records_that_hold(
    resolver: str, name: str, record_type: str, expected: str | None
) -> None:
    # From a dict: the record type comes from the parameter table as plain text.
    options = DnsOptions.model_validate(
        {"record_type": record_type, "resolver": resolver, "expected": expected})
    result = await probe_dns(name, TIMEOUT, options)

    assert (result.outcome, result.reason) == ("up", None)
    assert result.phases["dns"] > 0


@pytest.mark.parametrize(
    ("name", "record_type", "expected", "reason"),
    [
        (
            "up.test",
            "A",
            "192.0.2.99",
            "expected '192.0.2.99' not in A records (got 192.0.2.10, 192.0.2.11)",
        ),
        ("gone.test", "A", None, "gone.test does not exist (NXDOMAIN)"),
        ("only-a.test", "MX", None, "no MX record for only-a.test"),
        (SILENT_NAME, "A", None, "timed out after 1 s"),
    ],
)
async def test_dns_failures_say_what_is_wrong(
    resolver: str, name: str, record_type: str, expected: str | None, reason: str
) -> None:
    # From a dict: the record type comes from the parameter table as plain text.
    options = DnsOptions.model_validate(
        {"record_type": record_type, "resolver": resolver, "expected": expected})
    started = time.perf_counter()
    result = await probe_dns(name, TIMEOUT, options)

    assert (result.outcome, result.reason) == ("down", reason)
    assert time.perf_counter() - started < TIMEOUT + SLACK


async def test_a_resolver_that_does_not_listen_times_out(target: FaultTarget) -> None:
    options = DnsOptions(resolver=f"{HOST}:{target.refused_port}")
    started = time.perf_counter()
    result = await probe_dns("up.test", TIMEOUT, options)

    assert result.outcome == "down"
    assert time.perf_counter() - started < TIMEOUT + SLACK


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"resolver": "dns.google"}, "is not an IP address"),
        ({"resolver": "9.9.9.9:99999"}, "not a valid port"),
        ({"record_type": "SRV"}, "choose one of A, AAAA"),
    ],
)
def test_dns_option_errors(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DnsOptions.model_validate(fields)

    assert message in caught.value.errors()[0]["msg"]


def test_resolver_addresses_in_every_form() -> None:
    assert DnsOptions(resolver="[::1]:5353").resolver == "[::1]:5353"
    assert DnsOptions(resolver="::1").resolver == "::1"
    assert DnsOptions(resolver=" ").resolver is None
