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
from storage.maintenance_admin import WindowInput, check_recurrence, check_span

FIELDS = ("title", "description", "monitor", "group", "starts_at", "ends_at", "cron",
          "timezone", "duration_minutes", "notify")


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
        minutes = body.get("duration_minutes")
        whole = isinstance(minutes, int) and not isinstance(minutes, bool)
        duration = check_recurrence(cron, minutes if whole else None, errors)
    else:
        starts_at, ends_at = _moment(body, "starts_at", errors), _moment(body, "ends_at", errors)
        check_span(starts_at, ends_at, now, errors,
                   "give the time the window starts (or a cron)", "give the time the window ends")
    if errors:
        raise InvalidInput(errors)
    return WindowInput(title=title or "", description=description or "", monitor_id=monitor_id,
                       group_name=group, starts_at=starts_at, ends_at=ends_at, cron=cron,
                       timezone=zone_name, duration_minutes=duration, notify=bool(notify))
