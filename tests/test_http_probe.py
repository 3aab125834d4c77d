"""probe_http against a real misbehaving server: every fault is a down result with its reason."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from checks.http_probe import probe_http
from domain.check_options import HttpOptions, JsonAssertion
from tests.targets import FaultTarget

pytestmark = pytest.mark.anyio

TIMEOUT = 1.0
SLACK = 0.5  # a result must arrive within timeout + SLACK


def _json(path: str, expected: str, op: str = "==") -> HttpOptions:
    # Validated from a dict: `op` comes from the parameter table as plain text.
    return HttpOptions(
        json_assertion=JsonAssertion.model_validate({"path": path, "op": op, "expected": expected})
    )


FAULTS = [
    # (case id, how to build the URL, options, expected reason)
    ("refused", lambda t: t.refused_url, None, "connection refused"),
    ("never answers", lambda t: t.hang_url, None, "timed out after 1 s"),
    ("headers too late", lambda t: t.url("/slow-headers"), None, "timed out after 1 s"),
    ("body trickled", lambda t: t.url("/trickle"), None, "timed out after 1 s"),
    ("reset mid-request", lambda t: t.url("/reset"), None, "connection reset"),
    ("reset mid-body", lambda t: t.url("/reset-after-headers"), None, "connection reset"),
    ("not HTTP", lambda t: t.url("/garbage"), None, "invalid HTTP response"),
    (
        "200 MB body",
        lambda t: t.url("/huge"),
        HttpOptions(keyword="All systems go"),
        "keyword 'All systems go' not found in the first 1 MiB",
    ),
    ("redirect loop", lambda t: t.url("/redirect-loop"), None, "too many redirects (5)"),
    ("HTTP 500", lambda t: t.url("/status/500"), None, "HTTP 500"),
    ("HTTP 503", lambda t: t.url("/status/503"), None, "HTTP 503"),
    (
        "keyword missing",
        lambda t: t.url("/ok"),
        HttpOptions(keyword="Everything broken"),
        "keyword 'Everything broken' not found",
    ),
    ("not JSON", lambda t: t.url("/not-json"), _json("status", "ok"), "response is not JSON"),
    (
        "JSON assertion",
        lambda t: t.url("/json/bad"),
        _json("status", "ok"),
        "JSON assertion failed: status == 'ok' (got 'bad')",
    ),
    (
        "unresolvable host",
        lambda t: "http://example.invalid/",
        None,
        "cannot resolve host example.invalid",
    ),
]


@pytest.mark.parametrize(
    ("make_url", "options", "reason"),
    [case[1:] for case in FAULTS],
    ids=[case[0] for case in FAULTS],
)
async def test_each_fault_is_down_with_its_reason_on_time(
    target: FaultTarget, client, make_url, options, reason
) -> None:
    started = time.perf_counter()
    result = await probe_http(make_url(target), TIMEOUT, client, options)
    elapsed = time.perf_counter() - started

    assert (result.outcome, result.reason) == ("down", reason)
    assert elapsed < TIMEOUT + SLACK
    # the probe's own total is the time it took, measured inside the call
    assert 0 < result.phases["total"] <= elapsed * 1000


async def test_a_healthy_endpoint_is_up_with_every_phase(target: FaultTarget, client) -> None:
    result = await probe_http(target.url("/ok"), TIMEOUT, client, HttpOptions(keyword="systems"))

    assert (result.outcome, result.http_status, result.reason) == ("up", 200, None)
    assert set(result.phases) == {"dns", "connect", "ttfb", "transfer", "total"}
    assert result.phases["dns"] == 0  # an IP literal needs no lookup
    assert result.latency_ms == result.phases["total"]
    assert result.tls is None


async def test_time_to_first_byte_carries_the_servers_delay(target: FaultTarget, client) -> None:
    result = await probe_http(target.url("/delay/100"), TIMEOUT, client)

    assert result.outcome == "up"
    assert 100 <= result.phases["ttfb"] < 300
    assert result.phases["connect"] < 100
    assert result.phases["total"] >= result.phases["connect"] + result.phases["ttfb"]


async def test_a_slow_answer_is_degraded_above_the_threshold(target: FaultTarget, client) -> None:
    options = HttpOptions(degraded_above_ms=50)
    result = await probe_http(target.url("/delay/100"), TIMEOUT, client, options)

    assert result.outcome == "degraded"
    assert result.reason is not None and result.reason.startswith("slow response: 1")
    assert result.reason.endswith("ms (over 50 ms)")


async def test_a_200_mb_body_is_not_downloaded(target: FaultTarget, client) -> None:
    before = len(target.huge_bytes_sent)
    started = time.perf_counter()
    result = await probe_http(target.url("/huge"), TIMEOUT, client)

    assert result.outcome == "up"  # status is fine; the first 1 MiB is all it needs
    assert time.perf_counter() - started < 0.5
    await asyncio.sleep(0.1)  # let the server notice the closed connection
    assert target.huge_bytes_sent[before] < 32 * 1024 * 1024


async def test_redirects_are_followed_up_to_the_limit(target: FaultTarget, client) -> None:
    followed = await probe_http(target.url("/redirect/3"), TIMEOUT, client)
    too_many = await probe_http(
        target.url("/redirect/3"), TIMEOUT, client, HttpOptions(max_redirects=2)
    )
    not_followed = await probe_http(
        target.url("/redirect/3"), TIMEOUT, client, HttpOptions(max_redirects=0)
    )

    assert (followed.outcome, followed.http_status) == ("up", 200)
    assert (too_many.outcome, too_many.reason) == ("down", "too many redirects (2)")
    assert (not_followed.outcome, not_followed.reason) == ("down", "HTTP 302")


async def test_accepted_status_codes_can_include_errors(target: FaultTarget, client) -> None:
    options = HttpOptions.model_validate({"accepted_status_codes": "200-299, 503"})
    assert (await probe_http(target.url("/status/503"), TIMEOUT, client, options)).outcome == "up"
    refused = await probe_http(target.url("/status/500"), TIMEOUT, client, options)
    assert refused.reason == "HTTP 500"


async def test_a_keyword_that_must_be_absent(target: FaultTarget, client) -> None:
    options = HttpOptions(keyword="systems", keyword_absent=True)
    result = await probe_http(target.url("/ok"), TIMEOUT, client, options)

    assert (result.outcome, result.reason) == ("down", "keyword 'systems' found")


@pytest.mark.parametrize(
    ("path", "op", "expected", "reason"),
    [
        ("checks[0].ok", "==", "true", None),
        ("status", "==", '"ok"', None),
        ("status", "!=", "bad", None),
        ("queue_depth", "<", "100", None),
        ("checks[0].name", "contains", "d", None),
        ("queue_depth", ">", "10", "JSON assertion failed: queue_depth > 10 (got 3)"),
        ("checks[0].ok", "==", "false", "JSON assertion failed: checks[0].ok == false (got true)"),
        (
            "checks[3].ok",
            "==",
            "true",
            "JSON assertion failed: checks[3].ok == true (no value at checks[3].ok)",
        ),
    ],
)
async def test_json_assertions(
    target: FaultTarget, client, path: str, op: str, expected: str, reason: str | None
) -> None:
    result = await probe_http(target.url("/json"), TIMEOUT, client, _json(path, expected, op))

    assert result.reason == reason
    assert result.outcome == ("up" if reason is None else "down")


async def test_method_headers_body_and_auth_reach_the_server(target: FaultTarget, client) -> None:
    def sent(path: str, expected: str, **options: object) -> HttpOptions:
        assertion = JsonAssertion(path=path, expected=expected)
        return HttpOptions.model_validate({"json_assertion": assertion, **options})

    checks = [
        sent("method", "PUT", method="put", body="ping"),
        sent("body", "ping", method="POST", body="ping"),
        sent("headers.x-probe", "yes", headers={"X-Probe": "yes"}),
        sent("headers.host", f"127.0.0.1:{target.http_port}"),
        sent("headers.authorization", "Bearer s3cret", bearer_token="s3cret"),
        sent("headers.authorization", "Basic dTpw", basic_auth_user="u", basic_auth_password="p"),
    ]
    for options in checks:
        result = await probe_http(target.url("/echo"), TIMEOUT, client, options)
        assert (result.outcome, result.reason) == ("up", None), options


async def test_cookies_set_by_one_target_are_never_sent(client) -> None:
    """A Set-Cookie from one monitor's target must not reach any later request."""
    cookies_seen: list[bytes | None] = []

    async def sets_a_cookie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        cookie = [line for line in head.split(b"\r\n") if line.lower().startswith(b"cookie:")]
        cookies_seen.append(cookie[0] if cookie else None)
        writer.write(b"HTTP/1.1 200 OK\r\nSet-Cookie: session=abc; Path=/\r\n"
                     b"Content-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(sets_a_cookie, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for url in (f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/",
                    f"http://localhost:{port}/"):
            result = await probe_http(url, TIMEOUT, client)
            assert result.outcome == "up", result.reason
    finally:
        server.close()
    assert cookies_seen == [None, None, None]
    assert not client.cookies


async def test_a_hanging_target_does_not_delay_the_others(target: FaultTarget, client) -> None:
    started = time.perf_counter()
    finished: dict[str, float] = {}

    async def timed(name: str, url: str) -> None:
        result = await probe_http(url, 2.0, client)
        finished[name] = time.perf_counter() - started
        assert result.outcome == ("down" if name.startswith("hang") else "up")

    async with asyncio.TaskGroup() as group:
        group.create_task(timed("hang", target.hang_url))
        group.create_task(timed("hang-headers", target.url("/slow-headers")))
        group.create_task(timed("hang-trickle", target.url("/trickle")))
        for index in range(10):
            group.create_task(timed(f"fast-{index}", target.url("/delay/100")))

    fast = [elapsed for name, elapsed in finished.items() if name.startswith("fast")]
    assert max(fast) < 0.6
    assert 2.0 <= finished["hang"] < 2.5


@pytest.mark.parametrize(
    ("url", "reason_start"),
    [("ftp://example.com/", "unsupported URL scheme"), ("http://", "invalid URL")],
)
async def test_bad_urls_are_reported_not_raised(client, url: str, reason_start: str) -> None:
    result = await probe_http(url, TIMEOUT, client)

    assert result.outcome == "down"
    assert result.reason is not None and result.reason.startswith(reason_start)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"accepted_status_codes": "200-299, abc"}, "accepted_status_codes", "'abc' is neither"),
        ({"accepted_status_codes": "299-200"}, "accepted_status_codes", "starts above"),
        ({"max_redirects": 50}, "max_redirects", "between 0 (don't follow) and 20"),
        ({"method": "FETCH"}, "method", "choose one of GET"),
        ({"cert_critical_days": 40}, "", "cert_critical_days: the critical threshold"),
        ({"basic_auth_password": "p"}, "", "basic_auth_user: give the user name"),
        ({"json_assertion": {"path": "a..b", "expected": "1"}}, "json_assertion", "like status"),
    ],
)
def test_option_errors_name_the_field_and_the_fix(fields, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        HttpOptions(**fields)

    error = caught.value.errors()[0]
    assert (str(error["loc"][0]) if error["loc"] else "") == field
    assert message in error["msg"]
