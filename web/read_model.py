"""An in-memory copy of the public status, so badges and status JSON never query per request.

A snapshot is immutable once built. What is derived from it (a rendered badge, the status JSON,
a feed) is computed on first use and kept with the snapshot, so it is computed once per refresh
rather than once per request. The complete answers to exact requests are kept too, so that
web/fast_paths can send them again without routing or parsing anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select

from storage.db import get_engine
from storage.models import (
    CheckResult,
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    Monitor,
    MonitorState,
)
from storage.status import PublicComponent, PublicStatus, public_status

if TYPE_CHECKING:
    from starlette.types import Scope

    from web.prepared import PreparedResponse

log = logging.getLogger(__name__)

T = TypeVar("T")
# Labels come from requests: bound what one snapshot keeps, whatever visitors send.
MAX_DERIVED_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    status: PublicStatus | None = None
    components: dict[str, PublicComponent] = field(default_factory=dict)
    overall: str = "operational"
    built_at: float = 0.0
    _derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # Kept apart from _derived, so that odd query strings cannot crowd out rendered badges.
    _answers: dict[tuple[str, bytes], PreparedResponse] = field(
        default_factory=dict, repr=False, compare=False)

    def derived(self, key: Any, compute: Callable[[], T]) -> T:
        """`compute()` once per snapshot and key (e.g. a badge's rendered bytes)."""
        try:
            return self._derived[key]
        except KeyError:
            value = compute()
            if len(self._derived) < MAX_DERIVED_ENTRIES:
                self._derived[key] = value
            return value

    def remember_answer(self, scope: Scope, answer: PreparedResponse) -> None:
        """Keep what a route answered to this GET (path and raw query string) on this snapshot."""
        if len(self._answers) < MAX_DERIVED_ENTRIES:
            self._answers[(scope["path"], scope["query_string"])] = answer

    def answer_for(self, scope: Scope) -> PreparedResponse | None:
        return self._answers.get((scope["path"], scope["query_string"]))


def build_snapshot() -> StatusSnapshot:
    status = public_status()
    return StatusSnapshot(
        status=status,
        components={c.slug: c for c in status.components},
        overall=status.overall,
        built_at=time.time(),
    )


def change_fingerprint() -> tuple:
    """What a rebuild would read, summed up in a few index lookups (about a millisecond): when it
    is unchanged, so is the snapshot, apart from what time alone moves (see ReadModel)."""
    results, states, monitors = (CheckResult.__table__, MonitorState.__table__,
                                 Monitor.__table__)
    incidents, updates = Incident.__table__, IncidentUpdate.__table__
    maintenance = MaintenanceWindow.__table__
    query = select(
        select(func.max(results.c.id)).scalar_subquery(),
        select(func.max(states.c.last_check_at)).scalar_subquery(),
        select(func.count()).select_from(monitors).scalar_subquery(),
        select(func.max(monitors.c.updated_at)).scalar_subquery(),
        select(func.count()).select_from(incidents).scalar_subquery(),
        select(func.count()).select_from(incidents)
        .where(incidents.c.resolved_at.is_not(None)).scalar_subquery(),
        select(func.max(updates.c.id)).scalar_subquery(),
        select(func.count()).select_from(maintenance).scalar_subquery(),
        select(func.max(maintenance.c.id)).scalar_subquery(),
    )
    with get_engine().connect() as connection:
        return tuple(connection.execute(query).one())


_current: ReadModel | None = None


def running_read_model() -> ReadModel | None:
    """The read model this process keeps fresh, if any (the status page shares it)."""
    return _current


class ReadModel:
    """Rebuilt when what it is built from changed, checked every `check_every_s` seconds with
    `change_fingerprint()` (which also sees results recorded by other processes) and soon after
    `mark_stale()`; and at least every `max_age_s` seconds, for what time alone changes (the
    time since a monitor's last result counts in its state, maintenance starts, days end) and
    for edits the fingerprint does not see (an incident's new title).

    A rebuild holds the GIL for a few hundred milliseconds with a year of history, which stalls
    every request the event loop serves meanwhile: rebuilding only on change, and at most once
    per `min_gap_s`, keeps badge latency low while results keep arriving.
    """

    def __init__(
        self, max_age_s: float = 60.0, check_every_s: float = 2.0, min_gap_s: float = 5.0,
        settle_s: float = 0.25,
    ) -> None:
        self.snapshot = StatusSnapshot()
        self._stale = True
        self._max_age_s = max_age_s
        self._check_every_s = check_every_s
        self._min_gap_s = min_gap_s
        self._settle_s = settle_s
        self._fingerprint: tuple | None = None
        self._confirmed_at = 0.0  # when the snapshot was last known to be current

    def mark_stale(self) -> None:
        """Safe to call from any thread."""
        self._stale = True

    def refresh(self) -> None:
        self._stale = False
        fingerprint = change_fingerprint()
        self.snapshot = build_snapshot()
        self._fingerprint = fingerprint
        self._confirmed_at = self.snapshot.built_at

    def _changed(self) -> bool:
        fingerprint = change_fingerprint()
        if fingerprint == self._fingerprint:
            self._confirmed_at = time.time()
            return False
        return True

    def is_fresh(self, slack_s: float = 20.0) -> bool:
        return time.time() - self._confirmed_at <= self._check_every_s + slack_s

    async def keep_fresh(self) -> None:
        global _current
        _current = self
        try:
            await self._keep_fresh()
        finally:
            if _current is self:  # a stopped model's snapshot goes stale: nobody may read it
                _current = None

    async def _keep_fresh(self) -> None:
        checked = 0.0
        while True:
            now = time.time()
            age = now - self.snapshot.built_at
            try:
                due = age >= self._max_age_s or self.snapshot.status is None
                if not due and age >= self._min_gap_s and (
                    self._stale or now - checked >= self._check_every_s
                ):
                    checked = now
                    due = self._stale or await asyncio.to_thread(self._changed)
                if due:
                    await asyncio.to_thread(self.refresh)
            except Exception:
                log.exception("could not refresh the status read model")
            await asyncio.sleep(self._settle_s)
