"""Scheduled reports: what a schedule says, and which period is due at a moment (pure).

A schedule sends the previous whole period of its time zone (yesterday, last ISO week, last
month) at a local time of day on the period's following first day: a daily report at 08:00
sends yesterday's at 08:00 today, a weekly one last week's on Monday, a monthly one last month's
on the 1st. Periods are local calendar days, so a day the clocks change on lasts 23 or 25 hours.

Local times the clocks skip or repeat: `at` on a given day is the instant
`datetime.combine(day, at, zone)` means (fold 0): a 02:30 on a day without 02:30 is 03:30 of
the new offset (the gap's length later), a 01:30 on a day with it twice is the first one. Either
way a period has one send moment, and its key (`ReportPeriod.key`) is what the database keeps
unique, so it is sent once whichever process sees it due first.

A period is due from its send moment until the next period's: a process that was down at the
send moment sends it late, once, but never a period older than that (nor one whose send moment
came before the schedule was last saved).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, cast
from zoneinfo import ZoneInfo

from domain.limits import InvalidInput, checked_line, finite_number, parse_time_zone

PeriodKind = Literal["daily", "weekly", "monthly"]
PERIODS: tuple[PeriodKind, ...] = ("daily", "weekly", "monthly")
PERIOD_LABELS: dict[str, str] = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}

MAX_NAME_CHARS = 100
MAX_CHANNELS = 20
DEFAULT_SEND_AT = time(8, 0)
DEFAULT_TARGET_PERCENT = 99.9


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """One whole period in a zone: [start, end) as instants (UTC), named by its first day."""

    kind: PeriodKind
    first_day: date
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """"2026-03-29", "2026-W13" (ISO week) or "2026-03"."""
        if self.kind == "daily":
            return self.first_day.isoformat()
        if self.kind == "weekly":
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first_day.year:04d}-{self.first_day.month:02d}"

    @property
    def key(self) -> str:
        """What one schedule sends once: the kind and the first local day."""
        return f"{self.kind}:{self.first_day.isoformat()}"


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A schedule as entered, validated."""

    name: str
    period: PeriodKind
    send_at: time
    timezone: str
    channel_ids: tuple[int, ...]
    target_percent: float = DEFAULT_TARGET_PERCENT
    enabled: bool = True


def first_day_of(kind: PeriodKind, day: date) -> date:
    """The first local day of the period `day` lies in (weeks start on Monday, as ISO's)."""
    if kind == "daily":
        return day
    if kind == "weekly":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def following_first_day(kind: PeriodKind, first: date) -> date:
    """The first day of the period after the one starting on `first`."""
    if kind == "daily":
        return first + timedelta(days=1)
    if kind == "weekly":
        return first + timedelta(days=7)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`, in UTC (a skipped time moves on by the gap; a repeated one is
    its first occurrence)."""
    return datetime.combine(day, at.replace(fold=0), tzinfo=zone).astimezone(UTC)


def period_starting(kind: PeriodKind, first: date, zone: ZoneInfo) -> ReportPeriod:
    return ReportPeriod(kind, first, local_moment(first, time(0), zone),
                        local_moment(following_first_day(kind, first), time(0), zone))


def period_before(kind: PeriodKind, day: date, zone: ZoneInfo) -> ReportPeriod:
    """The whole period before the one `day` lies in: yesterday, last week, last month."""
    return period_starting(kind, first_day_of(kind, first_day_of(kind, day) - timedelta(days=1)),
                           zone)


def send_moment(period: ReportPeriod, at: time, zone: ZoneInfo) -> datetime:
    """When `period` is sent: `at` on the first day after it."""
    return local_moment(following_first_day(period.kind, period.first_day), at, zone)


def due_period(kind: PeriodKind, at: time, zone: ZoneInfo, now: datetime,
               not_before: datetime | None = None) -> ReportPeriod | None:
    """The period due at `now`: the latest whose send moment has come (and not before
    `not_before`, when the schedule was last saved); None when there is none."""
    latest = period_before(kind, now.astimezone(zone).date(), zone)
    if send_moment(latest, at, zone) > now:
        latest = period_before(kind, latest.first_day, zone)
    if not_before is not None and send_moment(latest, at, zone) < not_before:
        return None
    return latest


def last_whole_period(kind: PeriodKind, zone: ZoneInfo, now: datetime) -> ReportPeriod:
    """What "send now" reports: the last period that has ended."""
    return period_before(kind, now.astimezone(zone).date(), zone)


# --- input -------------------------------------------------------------------------------------


def parse_send_at(text: str) -> time:
    """"HH:MM" (24-hour) as a time, or ValueError saying what to write."""
    hours, colon, minutes = text.strip().partition(":")
    if (colon and len(hours) in (1, 2) and len(minutes) == 2 and hours.isascii()
            and minutes.isascii() and hours.isdigit() and minutes.isdigit()
            and int(hours) < 24 and int(minutes) < 60):
        return time(int(hours), int(minutes))
    raise ValueError(f"'{text[:10]}' is not a time of day: write HH:MM, e.g. 08:00")


def _channel_ids(value: object) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError("choose at least one channel")
    if len(value) > MAX_CHANNELS:
        raise ValueError(f"choose at most {MAX_CHANNELS} channels")
    if any(isinstance(item, bool) or not isinstance(item, int) for item in value):
        raise ValueError("channels are given by their numbers")
    return tuple(dict.fromkeys(cast(list[int], list(value))))


def parse_schedule(raw: Mapping[str, object]) -> ScheduleSpec:
    """A schedule from a form or a document: InvalidInput naming every field that is wrong."""
    errors: dict[str, str] = {}
    name = ""
    try:
        name = checked_line("name", raw.get("name"), MAX_NAME_CHARS, missing="enter a name")
    except InvalidInput as refused:
        errors.update(refused.errors)
    period = raw.get("period", "weekly")
    if period not in PERIODS:
        errors["period"] = f"choose {', '.join(PERIODS)}"
    send_at = DEFAULT_SEND_AT
    try:
        send_at = parse_send_at(str(raw.get("send_at") or ""))
    except ValueError as refused:
        errors["send_at"] = str(refused)
    zone = str(raw.get("timezone") or "UTC")
    try:
        parse_time_zone(zone)
    except ValueError as refused:
        errors["timezone"] = str(refused)
    channels: tuple[int, ...] = ()
    try:
        channels = _channel_ids(raw.get("channel_ids"))
    except ValueError as refused:
        errors["channel_ids"] = str(refused)
    target = finite_number(raw.get("target_percent", DEFAULT_TARGET_PERCENT))
    if target is None or not 0 < target <= 100:
        errors["target_percent"] = "enter a percentage above 0 and at most 100, e.g. 99.9"
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        errors["enabled"] = "say true or false"
    if errors:
        raise InvalidInput(errors)
    return ScheduleSpec(name, cast(PeriodKind, period), send_at, zone, channels,
                        float(target or 0), bool(enabled))
