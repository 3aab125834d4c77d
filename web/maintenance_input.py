"""A maintenance window as the API takes it (JSON) -> a validated WindowInput, or what to fix
per field. The same limits as the maintenance page's form (`domain.limits`, the cron check of
storage/maintenance); times are ISO 8601 (with an offset, else UTC), monitors named by slug.

    {"title", "description", "monitor": slug | null, "group": name | null,
     "starts_at", "ends_at"}                      one-off
    {..., "cron", "timezone", "duration_minutes"} recurring
    "notify": true sends a notice when it starts and ends
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from domain.limits import (
    MAX_CRON_CHARS,
    MAX_GROUP_CHARS,
    MAX_TEXT_CHARS,
    MAX_TIME_ZONE_CHARS,
    MAX_TITLE_CHARS,
    InvalidInput,
    check_date,
    checked_line,
    checked_text,
    parse_time_zone,
)
from storage.maintenance import validate_cron
from storage.maintenance_admin import WindowInput

FIELDS = ("title", "description", "monitor", "group", "starts_at", "ends_at", "cron",
          "timezone", "duration_minutes", "notify")
MAX_DURATION_MINUTES = 7 * 24 * 60  # as the maintenance page's form holds it


def _text(body: Mapping[str, Any], field: str, errors: dict[str, str], max_chars: int, *,
          missing: str | None = None, multi_line: bool = False) -> str | None:
    check = checked_text if multi_line else checked_line
    try:
        return check(field, body.get(field), max_chars, missing=missing) or None
    except InvalidInput as refused:
        errors.update(refused.errors)
        return None


def _moment(body: Mapping[str, Any], field: str, errors: dict[str, str]) -> datetime | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        check_date(moment.date())
    except ValueError:
        errors[field] = "give an ISO 8601 time, e.g. 2026-05-01T02:00:00+02:00"
        return None
    return moment.astimezone(UTC)


def parse_window(body: Mapping[str, Any], monitor_id_of: Callable[[str], int | None],
                 now: datetime) -> WindowInput:
    """`monitor_id_of(slug)`: the monitor's id, None for an unknown slug."""
    errors = {field: "unknown field" for field in body if field not in FIELDS}
    title = _text(body, "title", errors, MAX_TITLE_CHARS,
                  missing="give the window a title, e.g. 'Database upgrade'")
    description = _text(body, "description", errors, MAX_TEXT_CHARS, multi_line=True)
    monitor_id = None
    if (slug := body.get("monitor")) is not None:
        monitor_id = monitor_id_of(slug) if isinstance(slug, str) else None
        if monitor_id is None:
            errors["monitor"] = "no monitor has this slug: give one of GET /api/v1/monitors"
    group = _text(body, "group", errors, MAX_GROUP_CHARS)
    if monitor_id is not None and group is not None:
        errors["group"] = "give a monitor or a group, not both"
    zone_name = _text(body, "timezone", errors, MAX_TIME_ZONE_CHARS) or "UTC"
    try:
        parse_time_zone(zone_name)
    except ValueError as exc:
        errors["timezone"] = str(exc)
    notify = body.get("notify", False)
    if not isinstance(notify, bool):
        errors["notify"] = "choose true or false"
    starts_at = ends_at = None
    cron, duration = None, None
    if body.get("cron") is not None:
        cron = " ".join((_text(body, "cron", errors, MAX_CRON_CHARS) or "").split())
        if problem := validate_cron(cron) if cron else "give a cron expression, e.g. '0 2 * * 0'":
            errors.setdefault("cron", problem)
        minutes = body.get("duration_minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
            errors["duration_minutes"] = "give a duration of at least 1 minute"
        elif minutes > MAX_DURATION_MINUTES:
            errors["duration_minutes"] = "a window lasts at most 7 days (10080 minutes)"
        else:
            duration = minutes
    else:
        starts_at, ends_at = _moment(body, "starts_at", errors), _moment(body, "ends_at", errors)
        if starts_at is None:
            errors.setdefault("starts_at", "give the time the window starts (or a cron)")
        if ends_at is None:
            errors.setdefault("ends_at", "give the time the window ends")
        elif starts_at is not None and ends_at <= starts_at:
            errors["ends_at"] = "the window must end after it starts"
        elif ends_at <= now:
            errors["ends_at"] = "this window would already be over: choose a future end"
    if errors:
        raise InvalidInput(errors)
    return WindowInput(title=title or "", description=description or "", monitor_id=monitor_id,
                       group_name=group, starts_at=starts_at, ends_at=ends_at, cron=cron,
                       timezone=zone_name, duration_minutes=duration, notify=bool(notify))
