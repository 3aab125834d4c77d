"""Recording scripted histories and the brute-force answers the stats are checked against."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select

from analytics.uptime import StateSeconds, segments_from_results, uptime_over
from config.settings import get_settings
from domain.decide import Thresholds
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.db import get_engine
from storage.models import CheckResult, Monitor, StateChange, as_utc
from storage.monitors import create_monitor
from storage.recorder import record_batch


def new_monitor(name: str) -> int:
    return create_monitor(parse_monitor_input({"name": name, "url": "http://127.0.0.1:1/"})).id


def record(
    monitor_id: int, results: list[ProbeResult], batch: int = 50,
    limits: Thresholds | None = None,
) -> None:
    """Through the real recorder, in batches as the batch writer sends them."""
    zone = get_settings().zone
    for start in range(0, len(results), batch):
        with get_engine().begin() as connection:
            record_batch(
                connection, [(monitor_id, r) for r in results[start:start + batch]], zone,
                {monitor_id: limits} if limits else None,
            )


def set_paused(monitor_id: int, paused: bool) -> None:
    with get_engine().begin() as connection:
        connection.execute(
            Monitor.__table__.update().where(Monitor.__table__.c.id == monitor_id)
            .values(paused=paused)
        )


def brute_force_seconds(
    monitor_id: int, start: datetime, end: datetime, now: datetime
) -> StateSeconds:
    """The definition, over raw rows: each result's state (the state its result left the
    monitor in) holds until the next result; the last one until now unless paused."""
    with get_engine().connect() as connection:
        results = [as_utc(r[0]) for r in connection.execute(
            select(CheckResult.checked_at).where(CheckResult.monitor_id == monitor_id)
            .order_by(CheckResult.checked_at, CheckResult.id)
        )]
        changes = [(as_utc(at), state) for at, state in connection.execute(
            select(StateChange.at, StateChange.to_state)
            .where(StateChange.monitor_id == monitor_id)
            .order_by(StateChange.at, StateChange.id)
        )]
        paused = connection.execute(
            select(Monitor.paused).where(Monitor.id == monitor_id)
        ).scalar_one()
    points, state, position = [], "pending", 0
    for at in results:
        while position < len(changes) and changes[position][0] <= at:
            state = changes[position][1]
            position += 1
        points.append((at, state))
    if not points:
        return StateSeconds()
    if paused:
        points.append((points[-1][0], "paused"))
    last = max(now, points[-1][0])
    return uptime_over(segments_from_results(points, last), start, min(end, now))


def exact_quantile(samples: list[float], q: float) -> float | None:
    """Nearest rank, as analytics/histogram.py defines it."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]
