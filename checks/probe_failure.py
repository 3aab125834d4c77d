"""How a probe phrases a failure: the exception carrying a reason for a person, and the words
for the operating system's connection errors."""

from __future__ import annotations

import errno
import time


class ProbeFailure(Exception):
    """A check failed for a reason already phrased for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def elapsed_ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.EPIPE: "connection closed by the server",
    errno.EADDRNOTAVAIL: "address not available on this host",
}


def describe_os_error(exc: OSError) -> str:
    if exc.errno in _ERRNO_REASONS:
        return _ERRNO_REASONS[exc.errno]
    return exc.strerror or str(exc) or type(exc).__name__


__all__ = ["ProbeFailure", "describe_os_error", "elapsed_ms"]
