"""The last days of each monitor, one bar per calendar day in the configured zone, for the
90-day strip of the status page: daily rollups, plus the time since each monitor's last result
counted in its current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, String, select, type_coerce

from analytics.uptime import COUNTED_STATES, epoch_seconds, from_epoch, split_span
from config.settings import get_settings
from storage.db import read_connection
from storage.window_basics import ROLLUPS, STATE_INDEX, _Current, _current, _now, among


@dataclass(frozen=True, slots=True)
class DayBar:
    """One calendar day (in the configured zone) of a monitor, for the 90-day bar strip."""

    day: date
    uptime: float | None
    up_s: int
    degraded_s: int
    down_s: int
    maintenance_s: int
    observed_s: int
    checks: int

    @property
    def downtime_minutes(self) -> float:
        return self.down_s / 60


@lru_cache(maxsize=512)
def _local_day(label: str) -> date:
    return date.fromisoformat(label[:10])


def _day_label(value: object, zone: tzinfo) -> date:
    """The calendar day of a daily rollup's bucket_start, whichever way the backend returned it.

    SQLite keeps the local wall time the row was written with (the offset is dropped), so the
    text's date is the local day; PostgreSQL returns an instant.
    """
    if isinstance(value, str):
        return _local_day(value)
    assert isinstance(value, datetime)
    return value.date() if value.tzinfo is None else value.astimezone(zone).date()


def daily_bars(
    monitor_ids: Sequence[int], days: int = 90, now: datetime | None = None
) -> dict[int, list[DayBar]]:
    """The last `days` calendar days (configured zone) of each monitor, oldest first, today last."""
    if days < 1:
        raise ValueError("days must be at least 1")
    now = _now(now)
    ids = list(dict.fromkeys(monitor_ids))
    if not ids:
        return {}
    zone = get_settings().zone
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    low = datetime.combine(first, time(0), tzinfo=zone)
    high = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    with read_connection() as connection:
        current = _current(connection, ids)
        start_column: ColumnElement[Any] = ROLLUPS.c.bucket_start
        if connection.dialect.name == "sqlite":
            start_column = type_coerce(start_column, String)  # skip parsing 90,000 timestamps
        rows = connection.execute(
            select(ROLLUPS.c.monitor_id, start_column, ROLLUPS.c.up_s, ROLLUPS.c.degraded_s,
                   ROLLUPS.c.down_s, ROLLUPS.c.maintenance_s, ROLLUPS.c.checks)
            .where(among(connection, ROLLUPS.c.monitor_id, ids), ROLLUPS.c.period == "day",
                   ROLLUPS.c.bucket_start >= low, ROLLUPS.c.bucket_start < high)
        ).all()
    by_day: dict[int, dict[date, list[int]]] = {m: {} for m in ids}
    for monitor_id, label, up, degraded, down, maintenance, checks in rows:
        by_day[monitor_id][_day_label(label, zone)] = [up, degraded, down, maintenance, checks]
    for monitor_id in ids:
        _add_tail_by_day(by_day[monitor_id], current.get(monitor_id), low, now, zone)
    calendar = [first + timedelta(days=i) for i in range(days)]
    return {m: [_bar(day, by_day[m].get(day)) for day in calendar] for m in ids}


def _add_tail_by_day(
    days: dict[date, list[int]], facts: _Current | None, low: datetime, now: datetime,
    zone: tzinfo,
) -> None:
    if facts is None or facts.last_check_at is None or facts.tail_state not in COUNTED_STATES:
        return
    start = max(epoch_seconds(low), epoch_seconds(facts.last_check_at))
    index = STATE_INDEX[facts.tail_state]
    for day_start, _, seconds in split_span(start, epoch_seconds(now), "day", zone):
        day = from_epoch(day_start, zone).date()
        values = days.setdefault(day, [0, 0, 0, 0, 0])
        values[index] += seconds


_EMPTY_BARS: dict[date, DayBar] = {}


def _bar(day: date, values: list[int] | None) -> DayBar:
    if values is None:
        bar = _EMPTY_BARS.get(day)
        if bar is None:
            bar = _EMPTY_BARS[day] = DayBar(day, None, 0, 0, 0, 0, 0, 0)
        return bar
    up, degraded, down, maintenance, checks = values
    observed = up + degraded + down
    uptime = (up + degraded) / observed if observed else None
    return DayBar(day, uptime, up, degraded, down, maintenance, observed, checks)
