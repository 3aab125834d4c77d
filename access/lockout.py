"""Wrong passwords per client address: 5 within 5 minutes lock that address out for 15 minutes.

Kept in a dict in this process, under a lock: each web process counts on its own (behind a
load balancer with N web processes a client may try up to 5 per process). Failures and lockouts
are logged with the address, never with the password.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime

log = logging.getLogger("upwatch")

MAX_FAILURES = 5
WINDOW_S = 5 * 60
LOCK_S = 15 * 60
MAX_CLIENTS = 10_000  # beyond this, the oldest entries are dropped


class Lockout:
    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S,
                 lock_s: float = LOCK_S) -> None:
        self.max_failures, self.window_s, self.lock_s = max_failures, window_s, lock_s
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def locked_until(self, client: str, now: float | None = None) -> float | None:
        """When `client`'s lockout ends, or None if it is not locked out."""
        now = time.time() if now is None else now
        with self._lock:
            until = self._locked_until.get(client)
            if until is None:
                return None
            if until <= now:
                del self._locked_until[client]
                return None
            return until

    def failed(self, client: str, now: float | None = None) -> float | None:
        """Count a wrong password from `client`; the end of its lockout if this one locks it."""
        now = time.time() if now is None else now
        with self._lock:
            failures = self._failures.setdefault(client, deque())
            failures.append(now)
            while failures and failures[0] <= now - self.window_s:
                failures.popleft()
            log.warning("sign-in: wrong password from %s (%d within %d minutes)", client,
                        len(failures), int(self.window_s // 60))
            if len(failures) < self.max_failures:
                self._trim()
                return None
            del self._failures[client]
            until = now + self.lock_s
            self._locked_until[client] = until
            log.warning("sign-in: %s locked out until %s after %d wrong passwords", client,
                        clock(until), self.max_failures)
            return until

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _trim(self) -> None:
        while len(self._failures) > MAX_CLIENTS:
            del self._failures[next(iter(self._failures))]


def clock(moment: float) -> str:
    """HH:MM UTC of `moment`, rounded up to the minute (the lockout is over by then)."""
    return datetime.fromtimestamp(moment + 59, UTC).strftime("%H:%M")


def locked_message(until: float) -> str:
    return f"Too many wrong passwords. Try again after {clock(until)} UTC."


LOCKOUT = Lockout()  # this process's count
