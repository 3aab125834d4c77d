"""The maintenance-window form: form values -> a validated WindowInput, or what to fix per field.

Pure (no Streamlit). One-off times are typed as wall-clock times in the chosen time zone and
stored in UTC; recurring windows keep their cron expression and zone (expanded on read). Text,
numbers, dates and the zone are held to the limits of `domain.limits`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.limits import (
    MAX_CRON_CHARS,
    MAX_GROUP_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    InvalidInput,
    check_date,
    checked_line,
    checked_text,
    finite_number,
    parse_time_zone,
)
from storage.maintenance_admin import WindowInput, check_recurrence, check_span

SCOPES = {"all": "All monitors", "monitor": "One monitor", "group": "A group"}


def _zone(name: str, errors: dict[str, str]) -> ZoneInfo | None:
    try:
        return parse_time_zone(name)
    except ValueError as exc:
        errors["timezone"] = str(exc)
        return None


def _text(values: dict[str, object], field: str, errors: dict[str, str], max_chars: int,
          *, missing: str | None = None, multi_line: bool = False) -> str:
    """The field's text, stripped; "" (and its error recorded) when it is refused."""
    check = checked_text if multi_line else checked_line
    raw = values.get(field)
    try:
        return check(field, raw if raw is None else str(raw), max_chars, missing=missing)
    except InvalidInput as exc:
        errors.update(exc.errors)
        return ""


def _instant(day: object, clock: object, zone: ZoneInfo, field: str,
             errors: dict[str, str]) -> datetime | None:
    if not isinstance(day, date) or not isinstance(clock, time):
        return None
    try:
        check_date(day)  # near year 1 or 9999, a zone's offset leaves the calendar
    except ValueError as exc:
        errors[field] = str(exc)
        return None
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def parse_window_form(values: dict[str, object], now: datetime) -> WindowInput:
    """Validate form values; InvalidInput maps each bad field to what to fix."""
    errors: dict[str, str] = {}
    title = _text(values, "title", errors, MAX_TITLE_CHARS,
                  missing="give the window a title, e.g. 'Database upgrade'")
    description = _text(values, "description", errors, MAX_TEXT_CHARS, multi_line=True)
    scope = values.get("scope") or "all"
    monitor_id = values.get("monitor_id") if scope == "monitor" else None
    group_name = _text(values, "group_name", errors, MAX_GROUP_CHARS,
                       missing="choose the group this window is for") if scope == "group" \
        else None
    if scope == "monitor" and (not isinstance(monitor_id, int) or isinstance(monitor_id, bool)):
        errors["monitor_id"] = "choose the monitor this window is for"
    zone_name = str(values.get("timezone") or "UTC").strip()
    zone = _zone(zone_name, errors)
    starts_at = ends_at = None
    cron: str | None = None
    duration: int | None = None
    if values.get("recurring"):
        cron = " ".join(_text(values, "cron", errors, MAX_CRON_CHARS).split())
        duration = check_recurrence(cron, finite_number(values.get("duration_minutes")), errors)
    elif zone is not None:
        starts_at = _instant(values.get("start_date"), values.get("start_time"), zone,
                             "starts_at", errors)
        ends_at = _instant(values.get("end_date"), values.get("end_time"), zone, "ends_at",
                           errors)
        check_span(starts_at, ends_at, now, errors, "give the date and time the window starts",
                   "give the date and time the window ends")
    if errors:
        raise InvalidInput(errors)
    return WindowInput(
        title=title, description=description,
        monitor_id=monitor_id if isinstance(monitor_id, int) else None,
        group_name=group_name or None, starts_at=starts_at, ends_at=ends_at, cron=cron,
        timezone=zone_name, duration_minutes=duration, notify=bool(values.get("notify")),
    )


def describe_schedule(cron: str | None, zone: str, duration_minutes: int | None,
                      starts_at: datetime | None, ends_at: datetime | None) -> str:
    """How the windows list reads a window's timing."""
    if cron:
        return f"cron '{cron}' ({zone}), {duration_minutes} min each"
    if starts_at and ends_at:
        return (f"{starts_at:%Y-%m-%d %H:%M} – {ends_at:%Y-%m-%d %H:%M} UTC"
                f" ({int((ends_at - starts_at) / timedelta(minutes=1))} min)")
    return "no schedule"
