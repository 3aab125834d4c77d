"""Rollups: folded one point at a time or rebuilt from scratch, they give the same numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.histogram import LatencyHistogram, merge_histograms
from analytics.rollup import Rollup, RollupTable, TimelinePoint
from analytics.rollup_folding import (
    RollupFolder,
    apply_increments,
    point_increments,
    rebuild_rollups,
    time_increments,
)
from analytics.rollup_windows import (
    histogram_from_rollups,
    percentiles_from_rollups,
    plan_window,
    uptime_from_rollups,
)
from analytics.uptime import epoch_seconds, segments_from_results, uptime_over

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZONES = [UTC, ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]
ANCHORS = [datetime(2024, 3, 30, tzinfo=UTC), datetime(2024, 10, 26, tzinfo=UTC),
           datetime(2024, 3, 9, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)]
TOLERANCE = 0.01 + 1e-9


@st.composite
def points(draw: st.DrawFn) -> tuple[list[TimelinePoint], datetime]:
    """Checks (whose outcome may lag the state, as thresholds allow), pauses, maintenance."""
    t = epoch_seconds(draw(st.sampled_from(ANCHORS))) * 1_000_000
    t += draw(st.integers(0, 30 * 3_600_000_000))
    gaps = st.one_of(st.integers(0, 1_500_000), st.integers(0, 300_000_000),
                     st.integers(0, 12 * 3_600_000_000))
    timeline = []
    for _ in range(draw(st.integers(1, 25))):
        t += draw(gaps)
        state = draw(st.sampled_from(["up", "up", "degraded", "down", "maintenance", "paused"]))
        outcome = draw(st.sampled_from([None, "up", "degraded", "down"]))
        if state in ("up", "degraded", "down") and outcome is None:
            outcome = state
        latency = draw(st.one_of(st.none(), st.floats(0, 20_000, allow_nan=False)))
        timeline.append(TimelinePoint(EPOCH + timedelta(microseconds=t), state, outcome, latency))
    return timeline, EPOCH + timedelta(microseconds=t + draw(gaps))


def fold_all(timeline: list[TimelinePoint], tz: tzinfo, until: datetime) -> RollupTable:
    table: RollupTable = {}
    folder = RollupFolder(table, tz)
    for point in timeline:
        folder.add(point)
    last = timeline[-1]
    apply_increments(table, time_increments(last.state, last.at, until, tz))
    return table


def successful_latencies(
    timeline: list[TimelinePoint], start: datetime, end: datetime
) -> list[float]:
    low, high = epoch_seconds(start), epoch_seconds(end)
    return [
        p.latency_ms for p in timeline
        if low <= epoch_seconds(p.at) < high
        and p.outcome in ("up", "degraded") and p.latency_ms is not None
    ]


def of_period(table: RollupTable, period: str) -> list[Rollup]:
    return [r for r in table.values() if r.period == period]


@given(points(), st.sampled_from(ZONES))
def test_rebuilt_rollups_equal_incrementally_folded_ones(
    generated: tuple[list[TimelinePoint], datetime], tz: tzinfo
) -> None:
    timeline, now = generated
    assert fold_all(timeline, tz, now) == rebuild_rollups(timeline, tz, until=now)
    assert fold_all(timeline, tz, timeline[-1].at) == rebuild_rollups(timeline, tz)
    # The increments form (for upserts into stored rows) adds up to the same table.
    from_increments: RollupTable = {}
    for previous, point in zip([None, *timeline], timeline, strict=False):
        apply_increments(from_increments, point_increments(previous, point, tz))
    assert from_increments == rebuild_rollups(timeline, tz)


@given(points(), st.sampled_from(ZONES))
def test_a_folder_resumed_from_the_last_recorded_point_continues_the_same_table(
    generated: tuple[list[TimelinePoint], datetime], tz: tzinfo
) -> None:
    # The recorder starts each batch from the monitor's last check in the database.
    timeline, _ = generated
    table: RollupTable = {}
    RollupFolder(table, tz).add(timeline[0])
    resumed = RollupFolder(table, tz, previous=timeline[0])
    for point in timeline[1:]:
        resumed.add(point)
    assert table == rebuild_rollups(timeline, tz)


@given(points(), st.sampled_from(ZONES), st.data())
def test_any_window_from_days_hours_and_raw_edges_equals_the_raw_answer(
    generated: tuple[list[TimelinePoint], datetime], tz: tzinfo, data: st.DataObject
) -> None:
    timeline, now = generated
    table = rebuild_rollups(timeline, tz, until=now)
    segments = segments_from_results([(p.at, p.state) for p in timeline], now)
    low = epoch_seconds(timeline[0].at) - 7200
    high = epoch_seconds(now) + 7200
    start_us = data.draw(st.integers(low * 1_000_000, high * 1_000_000))
    end_us = data.draw(st.integers(start_us, high * 1_000_000))
    start = EPOCH + timedelta(microseconds=start_us)
    end = EPOCH + timedelta(microseconds=end_us)

    plan = plan_window(start, end, tz)
    totals = uptime_over(segments, start, start)  # zero
    latencies = LatencyHistogram()
    for a, b in plan.days:
        totals += uptime_from_rollups(of_period(table, "day"), a, b)
        latencies.merge(histogram_from_rollups(of_period(table, "day"), a, b))
    for a, b in plan.hours:
        totals += uptime_from_rollups(of_period(table, "hour"), a, b)
        latencies.merge(histogram_from_rollups(of_period(table, "hour"), a, b))
    for a, b in plan.raw:
        totals += uptime_over(segments, a, b)
        for latency in successful_latencies(timeline, a, b):
            latencies.add(latency)
    assert totals == uptime_over(segments, start, end)

    # Percentiles: exactly the successful checks of the window, each within 1%.
    exact = sorted(successful_latencies(timeline, start, end))
    assert latencies.count == len(exact)
    for q, estimate in zip((0.5, 0.95, 0.99), latencies.quantiles([0.5, 0.95, 0.99]), strict=True):
        if not exact:
            assert estimate is None
            continue
        truth = exact[max(1, math.ceil(q * len(exact))) - 1]
        assert estimate is not None and abs(estimate - truth) <= TOLERANCE * truth


@given(points())
def test_a_utc_day_is_the_merge_of_its_hours(
    generated: tuple[list[TimelinePoint], datetime]
) -> None:
    timeline, now = generated
    table = rebuild_rollups(timeline, UTC, until=now)
    for day in of_period(table, "day"):
        hours = [h for h in of_period(table, "hour")
                 if day.bucket_start <= h.bucket_start < day.bucket_end]
        assert sum(h.up_s for h in hours) == day.up_s
        assert sum(h.observed_s for h in hours) == day.observed_s
        assert sum(h.maintenance_s for h in hours) == day.maintenance_s
        assert sum(h.checks for h in hours) == day.checks
        assert sum(h.failures for h in hours) == day.failures
        assert merge_histograms(h.histogram for h in hours) == day.histogram


def test_a_result_counts_its_check_and_the_time_since_the_previous_one() -> None:
    tz = ZoneInfo("Europe/Paris")
    t0 = datetime(2024, 3, 30, 22, 30, tzinfo=UTC)  # 23:30 in Paris, before a 23-hour day
    first = TimelinePoint(t0, "up", "up", 120.0)
    second = TimelinePoint(t0 + timedelta(hours=2), "down", "down", None)
    table: RollupTable = {}
    folder = RollupFolder(table, tz)
    folder.add(first)
    folder.add(second)
    days = sorted(of_period(table, "day"), key=lambda r: r.bucket_start)
    assert [(d.bucket_start.day, d.up_s, d.checks, d.failures) for d in days] == [
        (30, 1800, 1, 0), (31, 5400, 1, 1)
    ]
    assert days[0].min_ms == days[0].max_ms == 120.0
    assert sorted(r.up_s for r in of_period(table, "hour")) == [1800, 1800, 3600]
    assert percentiles_from_rollups(of_period(table, "day"), days[0].bucket_start,
                                    days[1].bucket_end) == [120.0, 120.0, 120.0]


def test_downtime_after_the_last_point_is_not_counted_until_accounted() -> None:
    t0 = datetime(2024, 6, 1, 10, tzinfo=UTC)
    timeline = [TimelinePoint(t0, "down", "down")]
    assert rebuild_rollups(timeline, UTC)[("hour", t0)].down_s == 0
    later = rebuild_rollups(timeline, UTC, until=t0 + timedelta(minutes=5))
    assert later[("hour", t0)].down_s == 300


def test_windows_refuse_a_mix_of_hours_and_days() -> None:
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    until = t0 + timedelta(hours=2)
    table = rebuild_rollups([TimelinePoint(t0, "up", "up", 5.0)], UTC, until=until)
    with pytest.raises(ValueError, match="one period"):
        uptime_from_rollups(table.values(), t0, t0 + timedelta(days=1))


def test_merging_rollups_of_different_buckets_is_refused() -> None:
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    hour = Rollup(t0, t0 + timedelta(hours=1), "hour")
    other = Rollup(t0 + timedelta(hours=1), t0 + timedelta(hours=2), "hour")
    with pytest.raises(ValueError, match="cannot merge"):
        hour.merge(other)


def test_points_out_of_order_are_refused() -> None:
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="time order"):
        RollupFolder({}, UTC, TimelinePoint(t0, "up")).add(
            TimelinePoint(t0 - timedelta(seconds=1), "up"))


def test_a_plan_uses_whole_local_days_whole_hours_and_raw_edges() -> None:
    tz = ZoneInfo("Asia/Kolkata")  # +05:30: its midnights are not UTC hours
    start = datetime(2024, 6, 1, 10, 15, tzinfo=tz)
    end = datetime(2024, 6, 4, 8, 0, 30, tzinfo=tz)
    plan = plan_window(start, end, tz)
    assert plan.days == [(datetime(2024, 6, 2, tzinfo=tz), datetime(2024, 6, 4, tzinfo=tz))]
    assert [(a.astimezone(tz).time().isoformat(), b.astimezone(tz).time().isoformat())
            for a, b in plan.raw] == [("10:15:00", "10:30:00"), ("23:30:00", "00:00:00"),
                                      ("00:00:00", "00:30:00"), ("07:30:00", "08:00:30")]
    assert len(plan.hours) == 2
