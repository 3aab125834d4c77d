"""HTTP(S) check: one request (following redirects itself), judged against the monitor's options.

The timeout is one deadline around everything (resolution, connect, TLS, headers, body), so a
target trickling its body a byte a second fails on time. Each hop resolves its host itself and
connects to the address (keeping Host and SNI on the name), so DNS time is measured apart from
connect time and the name is looked up once. Reading stops at MAX_BODY_BYTES.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import ssl
import time
import typing
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from checks.http_transport import ProbeTransport, ResponseHeadersTooLarge, phase_marks
from checks.tcp_probe import (
    ProbeFailure,
    describe_os_error,
    elapsed_ms,
    resolve_host,
    timed_out_reason,
)
from checks.tls_probe import (
    certificate_facts,
    evaluate_certificate,
    explain_verification_failure,
    shared_ssl_context,
)
from domain.check_options import HttpOptions, JsonAssertion, show_json_value
from domain.result import Outcome, ProbeResult

MAX_BODY_BYTES = 1024 * 1024
USER_AGENT = "Upwatch/0.1 (uptime monitor)"
_SEE_OTHER = 303
_E = TypeVar("_E", bound=BaseException)


def make_probe_client(
    verify: bool = True, *, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    """The client probes share: no keep-alive, no cookie memory, no proxy from the environment.

    A fresh connection per check is what lets connect and TLS time be measured, and it avoids
    the pool contention that made a kept-alive shared client cost 3-4x the CPU. Its transport
    (`ProbeTransport`) skips httpcore (pool, anyio, h11): one connection per request, the
    response parsed by httptools, the phases timed. The SSL context is built once per process
    (see `shared_ssl_context`).
    """
    return _ProbeClient(
        transport=ProbeTransport(ssl_context or shared_ssl_context(verify)),
        timeout=None,  # probe_http enforces one total deadline instead
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


class _NoCookies(httpx.Cookies):
    """A cookie store that never stores: one monitor's Set-Cookie must not reach another
    monitor's requests. Refusing here, rather than through a cookie policy, also skips
    the cookie parsing httpx runs on every response (an eighth of a plain check's CPU)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _ProbeClient(httpx.AsyncClient):
    def __init__(self, **options: typing.Any) -> None:
        super().__init__(**options)
        # Set directly: the `cookies` setter would copy the store into a plain one.
        self._cookies = _NoCookies()


@dataclass
class _Check:
    options: HttpOptions
    started: float = field(default_factory=time.perf_counter)
    phases: dict[str, float] = field(default_factory=dict)
    http_status: int | None = None
    certificates: list[dict[str, object]] = field(default_factory=list)

    def add_phase(self, name: str, ms: float | None) -> None:
        if ms is not None:
            self.phases[name] = round(self.phases.get(name, 0.0) + ms, 3)

    @property
    def tls(self) -> dict[str, object] | None:
        # The certificate closest to expiry is the one worth showing (and alerting on).
        if not self.certificates:
            return None
        return min(self.certificates, key=lambda facts: int(facts["days_left"]))  # type: ignore[call-overload]

    def result(self, outcome: Outcome, reason: str | None) -> ProbeResult:
        self.phases["total"] = elapsed_ms(self.started)
        return ProbeResult(
            outcome,
            latency_ms=self.phases["total"],
            http_status=self.http_status,
            reason=reason,
            phases=dict(self.phases),
            tls=self.tls,
        )


async def probe_http(
    url: str,
    timeout: float,
    client: httpx.AsyncClient,
    options: HttpOptions | None = None,
) -> ProbeResult:
    """Check `url` once. Never raises: every failure is a down result with a reason."""
    check = _Check(options or HttpOptions())
    try:
        async with asyncio.timeout(timeout):
            outcome, reason = await _perform(check, url, client)
    except (TimeoutError, httpx.TimeoutException):
        return check.result("down", timed_out_reason(timeout))
    except ProbeFailure as failure:
        return check.result("down", failure.reason)
    except httpx.HTTPError as exc:
        return check.result("down", describe_http_error(exc))
    except OSError as exc:
        return check.result("down", describe_os_error(exc))
    except Exception as exc:  # a probe reports, it never raises
        return check.result("down", f"check failed: {exc!r}")
    return check.result(outcome, reason)


async def _perform(
    check: _Check, url: str, client: httpx.AsyncClient
) -> tuple[Outcome, str | None]:
    options = check.options
    current = _probeable_url(url)
    method = options.method
    body = options.body.encode() if options.body is not None else None
    headers = httpx.Headers(_auth_headers(options))
    headers.update(options.headers)
    redirects = 0
    while True:
        follow = options.max_redirects > 0
        response, content, truncated = await _exchange(
            check, client, method, current, headers, body, follow
        )
        location = response.headers.get("location")
        if not (follow and response.is_redirect and location):
            return _judge(check, response, content, truncated)
        if redirects == options.max_redirects:
            raise ProbeFailure(f"too many redirects ({options.max_redirects})")
        redirects += 1
        try:
            target = _probeable_url(str(current.join(location)))
        except ProbeFailure as failure:
            raise ProbeFailure(f"bad redirect: {failure.reason}") from None
        becomes_get = (response.status_code == _SEE_OTHER and method != "HEAD") or (
            response.status_code in (301, 302) and method == "POST"
        )
        if becomes_get:
            method, body = "GET", None
            for name in ("content-type", "content-length", "transfer-encoding"):
                headers.pop(name, None)
        if target.host != current.host:
            headers.pop("authorization", None)  # credentials stay with the origin they were for
        current = target


# Parsing a URL is a tenth of a plain check's CPU, and a monitor's URL rarely changes: parsed
# URLs (immutable) are kept for the next run. Failures raise, so they are not kept.
@functools.lru_cache(maxsize=16_384)
def _probeable_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ProbeFailure(f"invalid URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise ProbeFailure("unsupported URL scheme: use http:// or https://")
    if not parsed.host:
        raise ProbeFailure("invalid URL (no host name)")
    return parsed


def _auth_headers(options: HttpOptions) -> dict[str, str]:
    if options.bearer_token is not None:
        return {"Authorization": f"Bearer {options.bearer_token.get_secret_value()}"}
    if options.basic_auth_user:
        password = (
            options.basic_auth_password.get_secret_value() if options.basic_auth_password else ""
        )
        token = base64.b64encode(f"{options.basic_auth_user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {}


async def _exchange(
    check: _Check,
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    headers: httpx.Headers,
    body: bytes | None,
    redirect_follows: bool,
) -> tuple[httpx.Response, bytes, bool]:
    """One request/response on a fresh connection; body read up to the cap unless redirected."""
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    address, dns_ms = await resolve_host(host, port)
    check.add_phase("dns", dns_ms)
    extensions: dict[str, object] = {}
    if url.scheme == "https" and address != host:
        extensions["sni_hostname"] = host
    request_headers = httpx.Headers({"Host": url.netloc.decode("ascii")})
    request_headers.update(headers)
    request = client.build_request(
        method,
        url if address == host else url.copy_with(host=address),
        headers=request_headers,
        content=body,
        extensions=extensions,
    )
    try:
        response = await client.send(request, stream=True)
    except httpx.ConnectError as exc:
        error = _find_cause(exc, ssl.SSLCertVerificationError)
        if error is None:
            raise
        reason, facts = await explain_verification_failure(error, address, port, host)
        if facts is not None:
            check.certificates.append(facts)
        raise ProbeFailure(reason) from None
    try:
        marks = phase_marks(response)
        headers_read = time.perf_counter()
        if marks is not None:
            check.add_phase("connect", _span_ms(marks.connect_started, marks.connected))
            check.add_phase("tls", _span_ms(marks.connected, marks.tls_done))
            # From a connection ready for the request to the response's head, as blackbox_exporter.
            check.add_phase("ttfb", _span_ms(marks.tls_done or marks.connected, headers_read))
        check.http_status = response.status_code
        if url.scheme == "https":
            _note_certificate(check, response, host)
        content, truncated = b"", False
        if method != "HEAD" and not (redirect_follows and response.is_redirect):
            content, truncated = await _read_capped(response)
        check.add_phase("transfer", (time.perf_counter() - headers_read) * 1000)
        return response, content, truncated
    finally:
        await response.aclose()


def _span_ms(start: float | None, end: float | None) -> float | None:
    return (end - start) * 1000 if start is not None and end is not None else None


async def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    content = bytearray()
    async for chunk in response.aiter_bytes():
        content += chunk
        if len(content) >= MAX_BODY_BYTES:
            return bytes(content[:MAX_BODY_BYTES]), True
    return bytes(content), False


def _note_certificate(check: _Check, response: httpx.Response, host: str) -> None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return
    # getpeercert() is empty without verification; the binary form is always there.
    der = ssl_object.getpeercert(binary_form=True)
    if der:
        verified = ssl_object.context.verify_mode == ssl.CERT_REQUIRED or None
        check.certificates.append(certificate_facts(der, host, verified=verified))


def _judge(
    check: _Check, response: httpx.Response, content: bytes, truncated: bool
) -> tuple[Outcome, str | None]:
    options = check.options
    if not options.accepts_status(response.status_code):
        return "down", f"HTTP {response.status_code}"
    if options.keyword is not None:
        text = content.decode(response.charset_encoding or "utf-8", errors="replace")
        found = options.keyword in text
        if found and options.keyword_absent:
            return "down", f"keyword {options.keyword!r} found"
        if not found and not options.keyword_absent:
            where = " in the first 1 MiB" if truncated else ""
            return "down", f"keyword {options.keyword!r} not found{where}"
    if options.json_assertion is not None:
        failure = check_json(options.json_assertion, content, truncated)
        if failure:
            return "down", failure
    degraded: str | None = None
    for facts in check.certificates:
        outcome, reason = evaluate_certificate(facts, options)
        if outcome == "down":
            return outcome, reason
        if outcome == "degraded" and degraded is None:
            degraded = reason
    if degraded:
        return "degraded", degraded
    threshold = options.degraded_above_ms
    latency = elapsed_ms(check.started)
    if threshold is not None and latency > threshold:
        return "degraded", f"slow response: {latency:.0f} ms (over {threshold:g} ms)"
    return "up", None


_MISSING = object()


def check_json(assertion: JsonAssertion, content: bytes, truncated: bool = False) -> str | None:
    """None when the assertion holds, else the reason it does not."""
    try:
        document = json.loads(content)
    except ValueError:
        return "response is not JSON" + (" (first 1 MiB read)" if truncated else "")
    value: object = document
    for step in assertion.steps:
        in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if in_list or in_object:
            value = value[step]  # type: ignore[index]
        else:
            return f"JSON assertion failed: {assertion.describe()} (no value at {assertion.path})"
    if _holds(assertion.op, value, assertion.expected_value, assertion.expected):
        return None
    return f"JSON assertion failed: {assertion.describe()} (got {show_json_value(value)})"


def _holds(op: str, actual: object, expected: object, expected_text: str) -> bool:
    # `expected` was read as JSON where it parsed; a string field compared with `200` should
    # still match "200", so strings also compare with the text as typed.
    if op in ("==", "!="):
        equal = actual == expected or (isinstance(actual, str) and actual == expected_text)
        if isinstance(actual, bool) != isinstance(expected, bool) and not isinstance(actual, str):
            equal = False  # 1 == true in Python, not in JSON
        return equal if op == "==" else not equal
    if op in ("<", ">"):
        numbers = (int, float)
        if not isinstance(actual, numbers) or isinstance(actual, bool):
            return False
        if not isinstance(expected, numbers) or isinstance(expected, bool):
            return False
        return actual < expected if op == "<" else actual > expected
    if op == "contains":
        if isinstance(actual, str):
            return expected_text in actual or str(expected) in actual
        if isinstance(actual, list):
            return expected in actual or expected_text in actual
        if isinstance(actual, dict):
            return expected_text in actual
    return False


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what it was raised from, and the members of any group along the way."""
    found: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return found


def _find_cause(exc: BaseException, kind: type[_E]) -> _E | None:
    return next((cause for cause in _causes(exc) if isinstance(cause, kind)), None)


def describe_http_error(exc: httpx.HTTPError) -> str:
    """A short reason for a transport failure: what a person would call it."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported URL scheme: use http:// or https://"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, ResponseHeadersTooLarge):
        return str(exc)
    ssl_error = _find_cause(exc, ssl.SSLError)
    if ssl_error is not None:
        return f"TLS handshake failed ({ssl_error.reason or ssl_error})"
    # anyio wraps the real error ("refused") in OSError("All connection attempts failed").
    os_errors = [cause for cause in _causes(exc) if isinstance(cause, OSError)]
    if os_errors:
        specific = [error for error in os_errors if error.errno is not None]
        return describe_os_error((specific or os_errors)[0])
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending a response" in str(exc) or "peer closed" in str(exc):
            return "connection closed before the response was complete"
        return "invalid HTTP response"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "connection reset"
    return str(exc) or type(exc).__name__
