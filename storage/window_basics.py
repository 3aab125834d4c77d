"""What every window read shares: the window names, the rollup and state tables, a window's
state-second totals, and each monitor's current facts, which rollups do not hold yet.

Rollups count a state's time only when the next result arrives: the time after a monitor's last
result is added from `_current` by each read, and while nothing was recorded at or after a
window's end the rollups holding that end may be read whole (`_effective_end`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy import ARRAY, ColumnElement, Connection, Integer, any_, literal, select

from domain.states import effective_state
from storage.models import Monitor, MonitorState, RollupRow, as_utc
from storage.tables import table_of

WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
}
QUANTILES = (0.5, 0.95, 0.99)
STATE_INDEX = {"up": 0, "degraded": 1, "down": 2, "maintenance": 3}

ROLLUPS = table_of(RollupRow)
MONITORS = table_of(Monitor)
STATES = table_of(MonitorState)

# up, degraded, down, maintenance seconds, checks, failures
Totals = list[int]


def _zero() -> Totals:
    return [0, 0, 0, 0, 0, 0]


def window_length(name: str) -> timedelta:
    try:
        return WINDOWS[name]
    except KeyError:
        raise ValueError(f"unknown window {name!r}: use one of {', '.join(WINDOWS)}") from None


def _uptime(totals: Sequence[int]) -> float | None:
    observed = totals[0] + totals[1] + totals[2]
    return (totals[0] + totals[1]) / observed if observed else None


@dataclass(frozen=True, slots=True)
class _Current:
    """What rollups do not hold yet: the state since the last result (`tail_state`)."""

    tail_state: str
    last_check_at: datetime | None


def _current(connection: Connection, monitor_ids: Sequence[int]) -> dict[int, _Current]:
    rows = connection.execute(
        select(MONITORS.c.id, MONITORS.c.paused, STATES.c.state, STATES.c.last_check_at)
        .select_from(MONITORS.outerjoin(STATES, STATES.c.monitor_id == MONITORS.c.id))
        .where(among(connection, MONITORS.c.id, monitor_ids))
    ).all()
    return {
        monitor_id: _Current(effective_state(paused, state), as_utc(last_check_at))
        for monitor_id, paused, state, last_check_at in rows
    }


def among(connection: Connection, column: ColumnElement, ids: Sequence[int]) -> ColumnElement:
    """`column IN ids`. On PostgreSQL as `= ANY(array)`: one parameter to bind and send, not one
    per monitor, which cost more than the query itself for a thousand monitors."""
    if connection.dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def _end_of_local_day(moment: datetime, zone: tzinfo) -> datetime:
    local_day = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(local_day, time(0), tzinfo=zone)


def _effective_end(end: datetime, current: dict[int, _Current], zone: tzinfo) -> datetime:
    """Where rollups may be read up to: past `end` while nothing was recorded at or after `end`
    (a check made exactly at `end` is outside [start, end) but inside its hour's rollup)."""
    if all(c.last_check_at is None or c.last_check_at < end for c in current.values()):
        return _end_of_local_day(end, zone)
    return end
