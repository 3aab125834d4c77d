"""When the read model is rebuilt: on change, not too often, and at least every minute.

What a rebuild reads is summed up by `change_fingerprint()` (storage/change_marks) in a few
index lookups, which also sees results recorded by other processes. It is checked every
`check_every_s` seconds, and soon after a stale notice (a result recorded here, a monitor
edited through the API). The snapshot is rebuilt when it moved, at most once per `min_gap_s`
(badges are cached for 60 s by their visitors anyway), and at least every `max_age_s` for what
time alone changes (the time since a monitor's last result counts in its state, maintenance
starts, days end) and for edits the fingerprint does not see (an incident's new title).
Between looks the builder sleeps until the next one is due or a notice comes, not polling.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.change_marks import change_fingerprint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshPolicy:
    max_age_s: float = 60.0
    check_every_s: float = 2.0
    min_gap_s: float = 5.0
    settle_s: float = 0.25  # the shortest wait between two looks, however many notices come


def _next_look_s(policy: RefreshPolicy, now: float, built_at: float, checked: float,
                 stale: bool) -> float:
    """How long to wait before anything could be due: a stale notice is answered once the gap
    after the last build allows; otherwise the next check, or the snapshot's maximum age. A
    notice arriving meanwhile ends the wait (the caller waits on it), so an idle builder wakes
    once per check instead of every `settle_s`. Never longer than `check_every_s`, so a stop
    is noticed within that even by a caller that sets only `stopping`."""
    gap_end = built_at + policy.min_gap_s
    if stale:
        at = gap_end
    else:
        at = min(built_at + policy.max_age_s, max(checked + policy.check_every_s, gap_end))
    return min(max(at - now, policy.settle_s), max(policy.check_every_s, policy.settle_s))


def keep_building(
    policy: RefreshPolicy,
    build: Callable[[], None],
    confirm: Callable[[float], None],
    stale: threading.Event,
    stopping: threading.Event,
) -> None:
    """Call `build()` whenever the policy says so, and `confirm(when)` when a check found the
    last build still current, until `stopping` is set."""
    built_at = checked = 0.0
    fingerprint: tuple[object, ...] | None = None
    while not stopping.is_set():
        now = time.time()
        age = now - built_at
        try:
            due = age >= policy.max_age_s
            if not due and age >= policy.min_gap_s and (
                stale.is_set() or now - checked >= policy.check_every_s
            ):
                checked = now
                due = stale.is_set() or change_fingerprint() != fingerprint
                if not due:
                    confirm(now)
            if due:
                stale.clear()  # a notice during the build is for the next one
                reading, began = change_fingerprint(), time.time()
                build()
                fingerprint, built_at = reading, began
        except Exception:
            log.exception("could not refresh the status read model")
        wait_s = _next_look_s(policy, time.time(), built_at, checked, stale.is_set())
        # Waiting on the notice while there is none wakes at once when one comes; with one
        # already there, only the clock (or a stop) can make the next look worth it.
        (stopping if stale.is_set() else stale).wait(wait_s)
