"""Uptime over windows and calendar buckets, checked against a second-by-second count."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.uptime import (
    COUNTED_STATES,
    Segment,
    StateSeconds,
    bucket_bounds,
    epoch_seconds,
    segments_from_results,
    split_by_period,
    uptime_over,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATES = ["up", "up", "degraded", "down", "maintenance", "paused", "unknown"]
ZONES = [UTC, ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"),
         ZoneInfo("America/Santiago")]
# Shortly before DST changes, so random timelines cross 23- and 25-hour days.
ANCHORS = [datetime(2024, 3, 30, tzinfo=UTC), datetime(2024, 10, 26, tzinfo=UTC),
           datetime(2024, 3, 9, tzinfo=UTC), datetime(2024, 11, 2, tzinfo=UTC),
           datetime(2024, 4, 6, tzinfo=UTC), datetime(2024, 9, 7, tzinfo=UTC)]


def at_us(microseconds: int) -> datetime:
    return EPOCH + timedelta(microseconds=microseconds)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[list[tuple[datetime, str]], datetime]:
    """Time-ordered results (some at the same instant, some sub-second apart) and a `now`."""
    anchor = draw(st.sampled_from(ANCHORS))
    t = epoch_seconds(anchor) * 1_000_000 + draw(st.integers(0, 36 * 3_600_000_000))
    gaps = st.one_of(st.integers(0, 2_000_000), st.integers(0, 600_000_000),
                     st.integers(0, 4 * 3_600_000_000))
    results = []
    for _ in range(draw(st.integers(1, 15))):
        t += draw(gaps)
        results.append((at_us(t), draw(st.sampled_from(STATES))))
    now = at_us(t + draw(gaps))
    return results, now


def state_per_second(results: list[tuple[datetime, str]], now: datetime) -> dict[int, str]:
    """The definition, one second at a time: the state of the last result at or before it."""
    by_second = {}
    for at, state in results:
        by_second[epoch_seconds(at)] = state  # a later result in the same second wins
    states: dict[int, str] = {}
    current = results[0][1]  # the first second always has a result of its own
    for second in range(epoch_seconds(results[0][0]), epoch_seconds(now)):
        current = by_second.get(second, current)
        states[second] = current
    return states


def brute_force(states: dict[int, str], low: int, high: int) -> StateSeconds:
    counts = Counter(state for second, state in states.items() if low <= second < high)
    return StateSeconds(counts["up"], counts["degraded"], counts["down"], counts["maintenance"])


@given(timelines(), st.data())
def test_uptime_over_any_window_matches_a_second_by_second_count(
    timeline: tuple[list[tuple[datetime, str]], datetime], data: st.DataObject
) -> None:
    results, now = timeline
    states = state_per_second(results, now)
    low = epoch_seconds(results[0][0]) - 5000
    high = epoch_seconds(now) + 5000
    start_us = data.draw(st.integers(low * 1_000_000, high * 1_000_000))
    end_us = data.draw(st.integers(start_us, high * 1_000_000))
    start, end = at_us(start_us), at_us(end_us)
    segments = segments_from_results(results, now)
    assert uptime_over(segments, start, end) == brute_force(
        states, epoch_seconds(start), epoch_seconds(end)
    )


@given(timelines(), st.sampled_from(ZONES), st.sampled_from(["hour", "day"]))
def test_split_by_period_matches_a_second_by_second_count(
    timeline: tuple[list[tuple[datetime, str]], datetime], tz: tzinfo, period: str
) -> None:
    results, now = timeline
    states = state_per_second(results, now)
    expected: dict[object, Counter[str]] = {}
    local_day_of_minute: dict[int, date] = {}
    for second, state in states.items():
        if state not in COUNTED_STATES:
            continue
        if period == "hour":
            key: object = second - second % 3600
        else:
            # Today's zones all change offset on whole minutes.
            minute = second // 60
            if minute not in local_day_of_minute:
                local_day_of_minute[minute] = datetime.fromtimestamp(second, tz).date()
            key = local_day_of_minute[minute]
        expected.setdefault(key, Counter())[state] += 1
    got = {}
    for totals in split_by_period(segments_from_results(results, now), period, tz):  # type: ignore[arg-type]
        key = epoch_seconds(totals.bucket_start) if period == "hour" else totals.bucket_start.date()
        got[key] = totals.seconds
        if period == "day":
            assert totals.bucket_start.time() == datetime.min.time() or (
                totals.bucket_start.dst() != (totals.bucket_start - timedelta(hours=1)).dst()
            ), "a day starts at local midnight (or at a DST jump that skips it)"
    assert got == {
        key: StateSeconds(c["up"], c["degraded"], c["down"], c["maintenance"])
        for key, c in expected.items()
    }


@given(st.integers(epoch_seconds(datetime(1990, 1, 1, tzinfo=UTC)),
                   epoch_seconds(datetime(2037, 1, 1, tzinfo=UTC))),
       st.sampled_from([*ZONES, ZoneInfo("America/Havana"), ZoneInfo("Asia/Beirut")]))
def test_day_buckets_hold_their_instant_and_tile_time(instant: int, tz: tzinfo) -> None:
    start, end = bucket_bounds(instant, "day", tz)
    assert start <= instant < end
    assert bucket_bounds(end, "day", tz)[0] == end
    assert bucket_bounds(start - 1, "day", tz)[1] == start
    assert 22 * 3600 <= end - start <= 26 * 3600


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [("Europe/Paris", date(2024, 3, 31), 23), ("Europe/Paris", date(2024, 10, 27), 25),
     ("America/New_York", date(2024, 3, 10), 23), ("America/New_York", date(2024, 11, 3), 25),
     ("Europe/Paris", date(2024, 6, 1), 24), ("Asia/Kolkata", date(2024, 3, 31), 24)],
)
def test_calendar_days_last_23_or_25_hours_on_dst_changes(zone: str, day: date, hours: int) -> None:
    tz = ZoneInfo(zone)
    week = [Segment(datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), "up")]
    days = {t.bucket_start.date(): t for t in split_by_period(week, "day", tz)}
    assert days[day].seconds.up_s == hours * 3600
    # Subtracting two times of one zone gives wall-clock time: compare instants.
    length = days[day].bucket_end.astimezone(UTC) - days[day].bucket_start.astimezone(UTC)
    assert length == timedelta(hours=hours)
    assert days[day].bucket_start == datetime(day.year, day.month, day.day, tzinfo=tz)


def test_a_state_holds_from_its_first_result_until_the_next_change() -> None:
    t0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
    changes = [(0, "up"), (60, "up"), (120, "down"), (200, "paused"), (260, "maintenance"),
               (290, "degraded")]
    results = [(t0 + timedelta(seconds=offset), state) for offset, state in changes]
    now = t0 + timedelta(seconds=300)
    segments = segments_from_results(results, now)
    assert [(s.state, (s.end - s.start).seconds) for s in segments] == [
        ("up", 120), ("down", 80), ("paused", 60), ("maintenance", 30), ("degraded", 10)
    ]
    totals = uptime_over(segments, t0 - timedelta(days=1), now)
    assert (totals.observed_s, totals.maintenance_s) == (210, 30)
    assert totals.uptime == pytest.approx(130 / 210)
    assert totals.degraded_ratio == pytest.approx(10 / 210)


def test_nothing_observed_means_no_uptime_rather_than_zero() -> None:
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    segments = segments_from_results([(t0, "paused")], t0 + timedelta(hours=1))
    assert uptime_over(segments, t0, t0 + timedelta(hours=1)).uptime is None


def test_out_of_order_results_are_refused() -> None:
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="time order"):
        segments_from_results([(t0, "up"), (t0 - timedelta(seconds=1), "down")], t0)
    with pytest.raises(ValueError, match="before the last result"):
        segments_from_results([(t0, "up")], t0 - timedelta(seconds=1))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        epoch_seconds(datetime(2024, 5, 1))
