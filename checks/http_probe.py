"""HTTP(S) check: the request and the redirects it follows itself, timed phase by phase, and
the body read for `checks.http_verdict` to judge.

The timeout is one deadline around everything (resolution, connect, TLS, headers, body), so a
target trickling its body a byte a second fails on time. Each hop resolves its host itself and
connects to the address (keeping Host and SNI on the name), so DNS time is measured apart from
connect time and the name is looked up once. Reading stops at 1 MiB, counted after decompression
(see `checks.http_body`). What the monitor adds to the request (headers, credentials, cookies)
goes to the URL's own origin only, unless it says to keep them.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field

import httpx

from checks.addresses import resolve_addresses
from checks.happy_eyeballs import Attempts
from checks.http_body import read_capped
from checks.http_certificates import CertificateFacts, closest_to_expiry, peer_certificate
from checks.http_errors import describe_http_error, find_cause
from checks.http_request import auth_headers, probeable_url
from checks.http_transport import phase_marks
from checks.http_verdict import judge_response
from checks.tcp_probe import (
    ProbeFailure,
    describe_os_error,
    elapsed_ms,
    timed_out_reason,
)
from checks.tls_probe import explain_verification_failure
from domain.check_options import HttpOptions
from domain.result import Outcome, ProbeResult

_SEE_OTHER = 303
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class _Check:
    options: HttpOptions
    started: float = field(default_factory=time.perf_counter)
    phases: dict[str, float] = field(default_factory=dict)
    http_status: int | None = None
    certificates: list[CertificateFacts] = field(default_factory=list)
    attempts: Attempts = field(default_factory=Attempts)  # the current hop's addresses

    def add_phase(self, name: str, ms: float | None) -> None:
        if ms is not None:
            self.phases[name] = round(self.phases.get(name, 0.0) + ms, 3)

    def result(self, outcome: Outcome, reason: str | None) -> ProbeResult:
        self.phases["total"] = elapsed_ms(self.started)
        return ProbeResult(
            outcome,
            latency_ms=self.phases["total"],
            http_status=self.http_status,
            reason=reason,
            phases=dict(self.phases),
            tls=closest_to_expiry(self.certificates),
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
        return check.result("down", check.attempts.reason(timed_out_reason(timeout)))
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
    current = probeable_url(url)
    method = options.method
    body = options.body.encode() if options.body is not None else None
    headers = httpx.Headers(auth_headers(options))
    headers.update(options.headers)
    redirects = 0
    while True:
        follow = options.max_redirects > 0
        response, content, truncated = await _exchange(
            check, client, method, current, headers, body, follow
        )
        location = response.headers.get("location")
        if not (follow and response.is_redirect and location):
            return judge_response(
                options, response, content, truncated, check.certificates, check.started
            )
        if redirects == options.max_redirects:
            raise ProbeFailure(f"too many redirects ({options.max_redirects})")
        redirects += 1
        try:
            target = probeable_url(str(current.join(location)))
        except ProbeFailure as failure:
            raise ProbeFailure(f"bad redirect: {failure.reason}") from None
        becomes_get = (response.status_code == _SEE_OTHER and method != "HEAD") or (
            response.status_code in (301, 302) and method == "POST"
        )
        if becomes_get:
            method, body = "GET", None
            for name in ("content-type", "content-length", "transfer-encoding"):
                headers.pop(name, None)
        if _origin(target) != _origin(current) and not options.keep_headers_on_redirect:
            # Another origin gets none of what the monitor added: an API key or a cookie is
            # meant for the service it was written for. Only a body still sent keeps its type.
            content_type = headers.get("content-type") if body is not None else None
            headers = httpx.Headers({"Content-Type": content_type} if content_type else {})
        current = target


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    """Scheme, host and port: a change of any is another origin (as browsers and curl see it)."""
    return url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme]


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
    addresses, dns_ms = await resolve_addresses(host, port, check.options.ip_version)
    check.add_phase("dns", dns_ms)
    check.attempts = attempts = Attempts()
    # The transport connects to the first of these to answer; the URL keeps the name, which
    # is the Host header and the TLS server name.
    extensions: dict[str, object] = {"addresses": addresses, "connect_attempts": attempts}
    request_headers = httpx.Headers({"Host": url.netloc.decode("ascii")})
    request_headers.update(headers)
    request = client.build_request(
        method, url, headers=request_headers, content=body, extensions=extensions,
    )
    try:
        response = await client.send(request, stream=True)
    except httpx.ConnectError as exc:
        error = find_cause(exc, ssl.SSLCertVerificationError)
        if error is None or attempts.answered is None:
            raise
        trust = getattr(client, "trust", None)  # the probe client's (checks.http_request)
        reason, facts = await explain_verification_failure(
            error, attempts.answered, port, host, trust)
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
            facts = peer_certificate(response, host, attempts.answered)
            if facts is not None:
                check.certificates.append(facts)
        content, truncated = b"", False
        if method != "HEAD" and not (redirect_follows and response.is_redirect):
            content, truncated = await read_capped(response)
        check.add_phase("transfer", (time.perf_counter() - headers_read) * 1000)
        return response, content, truncated
    finally:
        await response.aclose()


def _span_ms(start: float | None, end: float | None) -> float | None:
    return (end - start) * 1000 if start is not None and end is not None else None

