"""An idle read-model builder sleeps until its next check is due or a notice comes, instead of
looking every `settle_s`; a notice still ends its wait at once."""

from __future__ import annotations

import threading
import time

from readmodel.refresh_policy import RefreshPolicy, keep_building


class CountingEvent(threading.Event):
    """An Event that counts how often it is waited on: each wait is one wake-up of the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        return super().wait(timeout)


def test_an_idle_builder_wakes_once_per_check_and_answers_a_notice_at_once() -> None:
    policy = RefreshPolicy(max_age_s=3600, check_every_s=0.5, min_gap_s=0.0, settle_s=0.01)
    stale, stopping = CountingEvent(), CountingEvent()
    builds: list[float] = []
    confirms: list[float] = []
    worker = threading.Thread(target=keep_building, args=(
        policy, lambda: builds.append(time.monotonic()), confirms.append, stale, stopping))
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while not builds and time.monotonic() < deadline:
            time.sleep(0.01)
        waits_before = stale.waits + stopping.waits
        time.sleep(1.6)
        # Polling every settle_s would be ~160 looks; a look per check is 3 or 4.
        looks = stale.waits + stopping.waits - waits_before
        assert 2 <= looks <= 5, looks
        assert len(confirms) >= 2 and len(builds) == 1  # checked, found current, not rebuilt
        noticed = time.monotonic()
        stale.set()
        while len(builds) < 2 and time.monotonic() < noticed + 5:
            time.sleep(0.005)
        assert len(builds) == 2 and builds[1] - noticed < 0.2  # not at the next check
    finally:
        stopping.set()
        worker.join(5)
    assert not worker.is_alive()
