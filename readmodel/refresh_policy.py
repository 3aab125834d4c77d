"""When the read model is rebuilt: on change, not too often, and at least every minute.

What a rebuild reads is summed up by `change_fingerprint()` (storage/change_marks) in a few
index lookups, which also sees results recorded by other processes. It is checked every
`check_every_s` seconds, and soon after a stale notice (a result recorded here, a monitor
edited through the API). The snapshot is rebuilt when it moved, at most once per `min_gap_s`
(badges are cached for 60 s by their visitors anyway), and at least every `max_age_s` for what
time alone changes (the time since a monitor's last result counts in its state, maintenance
starts, days end) and for edits the fingerprint does not see (an incident's new title).
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
    settle_s: float = 0.25  # how often stale notices and the clock are looked at


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
        stopping.wait(policy.settle_s)
