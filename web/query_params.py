"""Query parameters shared by the report routes: a moment, and the refusal naming bad ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from domain.limits import check_date


class BadParameters(Exception):
    """Query parameters refused: parameter -> what to send instead."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def parse_moment(text: str, day_zone: tzinfo) -> datetime:
    """A date (YYYY-MM-DD: its midnight in `day_zone`) or an ISO 8601 time (UTC unless it has
    an offset); ValueError saying what to send instead."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=day_zone)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    check_date(moment.date())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def moment_range(params: dict[str, str], default: tuple[datetime, datetime], day_zone: tzinfo,
                 errors: dict[str, str]) -> tuple[datetime, datetime]:
    """`from` and `to` of the query (each as `parse_moment` reads it), else `default`'s; a bad
    one is named in `errors`."""
    start, end = default
    for name in ("from", "to"):
        if params.get(name):
            try:
                moment = parse_moment(params[name], day_zone)
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            start, end = (moment, end) if name == "from" else (start, moment)
    return start, end
