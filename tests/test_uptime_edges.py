"""Uptime's edges, each a case a random timeline rarely draws: results at the same instant,
segments of no length, `now` on the last result, hourly labels in UTC whatever the zone, the
sign of degraded time, and what the refusals say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics import uptime
from analytics.uptime import (
    PeriodTotals,
    Segment,
    StateSeconds,
    bucket_bounds,
    epoch_seconds,
    segments_from_results,
    split_by_period,
    uptime_over,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_same_instant_change_supersedes_the_state_entered_at_that_instant() -> None:
    results = [(at(0), "up"), (at(10), "down"), (at(10), "up"), (at(20), "down")]
    # the down at 10 lasted no time: up holds 0..20 as one segment
    assert segments_from_results(results, at(30)) == [
        Segment(at(0), at(20), "up"), Segment(at(20), at(30), "down")]


def test_flips_at_one_instant_leave_only_the_last_state() -> None:
    results = [(at(0), "up"), (at(0), "down"), (at(0), "degraded")]
    assert segments_from_results(results, at(5)) == [Segment(at(0), at(5), "degraded")]


def test_a_flip_back_at_one_instant_extends_the_segment_before_it() -> None:
    results = [(at(0), "down"), (at(7), "up"), (at(7), "down"), (at(7), "up"), (at(9), "up")]
    assert segments_from_results(results, at(12)) == [
        Segment(at(0), at(7), "down"), Segment(at(7), at(12), "up")]


def test_now_on_the_last_result_adds_no_segment_of_no_length() -> None:
    assert segments_from_results([(at(0), "up")], at(0)) == []
    assert segments_from_results([(at(0), "up"), (at(5), "down")], at(5)) == [
        Segment(at(0), at(5), "up")]
    assert segments_from_results([], at(5)) == []


def test_repeated_results_extend_the_state() -> None:
    results = [(at(0), "up"), (at(1), "up"), (at(2), "down"), (at(3), "down")]
    assert segments_from_results(results, at(4)) == [
        Segment(at(0), at(2), "up"), Segment(at(2), at(4), "down")]


@given(st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["up", "down", "degraded"])),
                min_size=1, max_size=30))
def test_segments_have_length_alternate_states_and_tile_the_time(
    steps: list[tuple[int, str]]
) -> None:
    results = [(at(second), state) for second, state in sorted(steps, key=lambda s: s[0])]
    now = at(60)
    segments = segments_from_results(results, now)
    assert all(s.end > s.start for s in segments)
    assert all(a.end == b.start and a.state != b.state for a, b in pairwise(segments))
    assert segments[0].start == results[0][0] and segments[-1].end == now
    # the state at every whole second is that of the last result at or before it
    for second in range(results[0][0].second, 60):
        instant = at(second)
        expected = [state for when, state in results if when <= instant][-1]
        (holding,) = [s.state for s in segments if s.start <= instant < s.end]
        assert holding == expected


def test_the_refusals_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"in time order: \S+ 10:00:05\+00:00 comes after "
                                         r"2026-03-01 10:00:10\+00:00"):
        segments_from_results([(at(10), "up"), (at(5), "down")], at(20))
    with pytest.raises(ValueError, match=r"now \(.*10:00:05\+00:00\) is before the last result"
                                         r" \(2026-03-01 10:00:10\+00:00\)"):
        segments_from_results([(at(10), "up")], at(5))
    with pytest.raises(ValueError, match=r"^times must be timezone-aware$"):
        epoch_seconds(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="unknown period 'week'"):
        bucket_bounds(0, "week")  # type: ignore[arg-type]


def test_degraded_time_counts_as_up_and_is_reported_on_its_own() -> None:
    segments = [Segment(at(0), at(600), "up"), Segment(at(600), at(900), "degraded"),
                Segment(at(900), at(1000), "down"), Segment(at(1000), at(1100), "maintenance")]
    totals = uptime_over(segments, at(0), at(1100))
    assert totals == StateSeconds(600, 300, 100, 100)
    assert totals.observed_s == 1000
    assert totals.uptime == pytest.approx(0.9)
    assert totals.degraded_ratio == pytest.approx(0.3)


def test_a_window_cuts_segments_at_its_edges() -> None:
    segments = [Segment(at(0), at(100), "down"), Segment(at(100), at(200), "up")]
    assert uptime_over(segments, at(50), at(150)) == StateSeconds(up_s=50, down_s=50)
    assert uptime_over(segments, at(200), at(300)) == StateSeconds()
    assert uptime_over(segments, at(100), at(100)) == StateSeconds()


def test_state_seconds_add_up_state_by_state() -> None:
    total = StateSeconds(1, 2, 3, 4) + StateSeconds(10, 20, 30, 40)
    assert total == StateSeconds(11, 22, 33, 44)
    assert StateSeconds(1, 2, 3, 4).plus("paused", 99) == StateSeconds(1, 2, 3, 4)
    start = StateSeconds(1, 2, 3, 4)
    assert [start.plus(state, 10) for state in ("up", "degraded", "down", "maintenance")] == [
        StateSeconds(11, 2, 3, 4), StateSeconds(1, 12, 3, 4), StateSeconds(1, 2, 13, 4),
        StateSeconds(1, 2, 3, 14)]


def test_hourly_buckets_are_labelled_in_utc_whatever_the_zone_asked_for() -> None:
    segments = [Segment(at(0), at(5400), "up")]  # 10:00 to 11:30 UTC
    for zone in (UTC, BERLIN, ZoneInfo("Asia/Kolkata")):
        hours = split_by_period(segments, "hour", zone)
        assert [(h.bucket_start, h.bucket_end, h.seconds.up_s) for h in hours] == [
            (at(0), at(3600), 3600), (at(3600), at(7200), 1800)]
        assert all(h.period == "hour" for h in hours)
        assert all(h.bucket_start.tzinfo is UTC and h.bucket_end.tzinfo is UTC for h in hours)


def test_daily_buckets_are_labelled_in_local_time() -> None:
    segments = [Segment(datetime(2026, 3, 1, 22, 30, tzinfo=UTC),
                        datetime(2026, 3, 2, 0, 30, tzinfo=UTC), "down")]
    days = split_by_period(segments, "day", BERLIN)
    assert [(d.bucket_start, d.seconds.down_s) for d in days] == [
        (datetime(2026, 2, 28, 23, tzinfo=UTC), 30 * 60),
        (datetime(2026, 3, 1, 23, tzinfo=UTC), 90 * 60)]
    assert [d.period for d in days] == ["day", "day"]
    assert [d.bucket_start.tzinfo for d in days] == [BERLIN, BERLIN]
    assert [d.bucket_end.tzinfo for d in days] == [BERLIN, BERLIN]
    assert [(d.bucket_start.hour, d.bucket_end.hour, d.seconds.down_s) for d in days] == [
        (0, 0, 30 * 60), (0, 0, 90 * 60)]
    assert days[0].bucket_end == days[1].bucket_start


def test_a_first_day_in_a_new_zone_is_computed_not_read_from_the_last_one(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uptime, "_last_day", {})
    zone = timezone(timedelta(hours=5, minutes=45))
    start = epoch_seconds(datetime(2026, 3, 1, 12, tzinfo=zone))
    day = bucket_bounds(start, "day", zone)
    assert day == (epoch_seconds(datetime(2026, 3, 1, tzinfo=zone)),
                   epoch_seconds(datetime(2026, 3, 2, tzinfo=zone)))
    assert bucket_bounds(day[1], "day", zone) == (day[1], day[1] + 86400)
    assert bucket_bounds(day[0], "day", zone) == day


def test_uncounted_states_make_no_buckets() -> None:
    segments = [Segment(at(0), at(7200), "paused"), Segment(at(7200), at(7260), "pending")]
    assert split_by_period(segments, "hour") == []
    assert split_by_period(segments, "day") == []
    assert isinstance(split_by_period([Segment(at(0), at(1), "up")], "hour")[0], PeriodTotals)
