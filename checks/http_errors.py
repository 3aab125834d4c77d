"""What a failed HTTP exchange is called: the short reason a person would give, found among
the exceptions httpx and the transport raise (and what they were raised from)."""

from __future__ import annotations

import ssl
from typing import TypeVar

import httpx

from checks.http_transport import ClosedAfterHandshake, ResponseHeadersTooLarge
from checks.tcp_probe import describe_os_error
from checks.tls_probe import tls_failure_reason

_E = TypeVar("_E", bound=BaseException)


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


def find_cause(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of `kind` behind `exc` (itself included), if any."""
    return next((cause for cause in _causes(exc) if isinstance(cause, kind)), None)


def describe_http_error(exc: httpx.HTTPError) -> str:
    """A short reason for a transport failure: what a person would call it."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported URL scheme: use http:// or https://"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, ResponseHeadersTooLarge | ClosedAfterHandshake):
        return str(exc)
    ssl_error = find_cause(exc, ssl.SSLError)
    if ssl_error is not None:
        return tls_failure_reason(ssl_error)
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


__all__ = ["describe_http_error", "find_cause"]
