"""Maintenance windows: one-off (start, end) or recurring (cron in a time zone + a duration).

Recurring windows are expanded into occurrences on read; nothing is materialised, so editing a
window's cron expression changes every future occurrence at once. The cron expression is read in
the window's own zone (a 02:00 Europe/Berlin window stays at 02:00 across DST changes) and the
duration is wall-clock time from each start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import Connection, or_, select
from sqlalchemy.engine import Engine

from domain.limits import parse_time_zone
from storage.models import MaintenanceWindow, Monitor, as_utc
from storage.tables import table_of, utc

WINDOWS = table_of(MaintenanceWindow)
MONITORS = table_of(Monitor)

# A cron expression that fires more often than this is a mistake, not a maintenance plan.
MAX_OCCURRENCES_PER_QUERY = 2_000


@dataclass(frozen=True, slots=True)
class MaintenanceView:
    """One occurrence of a window, as the status page and the dashboard show it."""

    id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    monitor_id: int | None
    group_name: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A stored window, detached from the database (what the expansion needs)."""

    id: int
    title: str
    description: str
    monitor_id: int | None
    group_name: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    cron: str | None
    timezone: str
    duration_minutes: int | None
    notify: bool = False

    @classmethod
    def from_row(cls, row: dict) -> WindowSpec:
        return cls(
            row["id"], row["title"], row["description"] or "", row["monitor_id"],
            row["group_name"], as_utc(row["starts_at"]), as_utc(row["ends_at"]), row["cron"],
            row["timezone"] or "UTC", row["duration_minutes"], bool(row.get("notify")),
        )

    def applies_to(self, monitor_id: int, group_name: str | None) -> bool:
        if self.monitor_id is not None:
            return self.monitor_id == monitor_id
        if self.group_name is not None:
            return self.group_name == group_name
        return True  # neither set: every monitor


def occurrences(
    window: WindowSpec, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The window's (starts, ends) intervals that overlap [start, end), in UTC, in time order."""
    if window.cron is None:
        if window.starts_at is None or window.ends_at is None:
            return []
        if window.starts_at < end and window.ends_at > start:
            return [(window.starts_at, window.ends_at)]
        return []
    if not window.duration_minutes or window.duration_minutes <= 0:
        return []
    duration = timedelta(minutes=window.duration_minutes)
    try:
        zone = parse_time_zone(window.timezone)
    except ValueError:
        zone = ZoneInfo("UTC")
    # An occurrence that began up to one duration before `start` may still be running.
    cursor = croniter(window.cron, (start - duration).astimezone(zone))
    found: list[tuple[datetime, datetime]] = []
    for _ in range(MAX_OCCURRENCES_PER_QUERY):
        begins = cursor.get_next(datetime).astimezone(UTC)
        if begins >= end:
            break
        if window.starts_at is not None and begins < window.starts_at:
            continue  # a recurring window may have a first day
        if window.ends_at is not None and begins >= window.ends_at:
            break  # ... and a last one
        ends = begins + duration
        if ends > start:
            found.append((begins, ends))
    return found


def is_active(window: WindowSpec, at: datetime) -> bool:
    return bool(occurrences(window, at, at + timedelta(microseconds=1)))


def monitors_covered(
    windows: Iterable[WindowSpec], monitors: Iterable[tuple[int, str | None]], at: datetime
) -> set[int]:
    """Which of `monitors` ((id, group name) pairs) are inside an active window at `at`."""
    active = [window for window in windows if is_active(window, at)]
    if not active:
        return set()
    return {
        monitor_id for monitor_id, group_name in monitors
        if any(window.applies_to(monitor_id, group_name) for window in active)
    }


def validate_cron(expression: str) -> str | None:
    """None when `expression` is a valid five-field cron expression, else what to fix."""
    if len(expression.split()) != 5:
        return "use five fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * 0'"
    if not croniter.is_valid(expression):
        return f"{expression!r} is not a valid cron expression"
    return None


# --- reading from the database -----------------------------------------------------------------


def load_windows(connection: Connection) -> list[WindowSpec]:
    rows = connection.execute(select(WINDOWS)).mappings()
    return [WindowSpec.from_row(dict(row)) for row in rows]


def load_monitor_groups(connection: Connection) -> list[tuple[int, str | None]]:
    rows = connection.execute(select(MONITORS.c.id, MONITORS.c.group_name))
    return [(row.id, row.group_name) for row in rows]


def _engine(engine: Engine | None) -> Engine:
    if engine is not None:
        return engine
    from storage.db import get_engine  # late: db imports every model module

    return get_engine()


def expand(
    windows: Sequence[WindowSpec], now: datetime, horizon: timedelta
) -> list[MaintenanceView]:
    """Occurrences running at `now` or starting before `now + horizon`, soonest first."""
    views = [
        MaintenanceView(
            window.id, window.title, window.description, begins, ends,
            window.monitor_id, window.group_name, active=begins <= now < ends,
        )
        for window in windows
        for begins, ends in occurrences(window, now, now + horizon)
    ]
    return sorted(views, key=lambda view: (view.starts_at, view.id))


def scheduled_maintenance(
    now: datetime | None = None, horizon_days: int = 7, engine: Engine | None = None
) -> list[MaintenanceView]:
    """Every window occurrence active now or starting within `horizon_days`, soonest first."""
    now = utc(now) if now is not None else datetime.now(UTC)
    with _engine(engine).connect() as connection:
        windows = load_windows(connection)
    return expand(windows, now, timedelta(days=horizon_days))


def monitors_in_maintenance(
    now: datetime | None = None, engine: Engine | None = None
) -> set[int]:
    """IDs of the monitors inside an active maintenance window at `now`."""
    now = utc(now) if now is not None else datetime.now(UTC)
    with _engine(engine).connect() as connection:
        windows = load_windows(connection)
        if not windows:
            return set()
        return monitors_covered(windows, load_monitor_groups(connection), now)


def windows_between(connection: Connection, start: datetime, end: datetime
                    ) -> list[WindowSpec]:
    """Every recurring window, and the one-off windows overlapping [start, end)."""
    rows = connection.execute(
        select(WINDOWS).where(or_(
            WINDOWS.c.cron.is_not(None),
            WINDOWS.c.starts_at.is_not(None) & WINDOWS.c.ends_at.is_not(None)
            & (WINDOWS.c.starts_at < end) & (WINDOWS.c.ends_at > start)))
    ).mappings().all()
    return [WindowSpec.from_row(dict(row)) for row in rows]
