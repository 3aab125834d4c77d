"""The status page's components as data for the browser: per group its name, and per component
its name, state, uptime over each window a visitor can pick, its URL when it is shown, one digit
per day (its colour) and each day's hover text (date, uptime, downtime minutes, incidents).

It depends only on the published status, so the read model's process builds it with each
snapshot (readmodel/wire) and the web process forwards the bytes to every visitor: a page run
neither unpickles nine thousand days nor formats their texts (~100-200 ms of a first visit after
each new snapshot, which comes every 5 s while results arrive). Drawing it is ui/status_board.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from config.settings import get_settings
from domain.bands import for_every_band, uptime_band
from domain.formatting import WINDOW_LABELS, percent, state_label
from readmodel.kept_encodings import KeptEncodings
from storage.daily_bars import DayBar
from storage.status import PAGE_WINDOWS, PublicComponent, PublicStatus, facts_without_bars

# A day's colour: grey without data, blue for maintenance, else its uptime band (domain.bands,
# the bands of the uptime badges too). Mid tones that read on both the light and the dark
# background.
BAR_COLORS: dict[str, str] = {
    "no data": "#9e9e9e",
    "maintenance": "#1e88e5",
    **for_every_band({
        "≥ 99.9%": "#2e9e44",
        "≥ 99%": "#9ccc3a",
        "≥ 95%": "#f2b21b",
        "≥ 90%": "#f57c2a",
        "< 90%": "#e0453a",
    }),
}
# Each day travels as one digit, its category's index, which picks its colour in the browser.
CATEGORY_INDEX: dict[str, int] = {name: i for i, name in enumerate(BAR_COLORS)}

def day_category(bar: DayBar) -> str:
    """What colour a day gets: grey with no data, blue when maintenance was most of it."""
    if bar.maintenance_s > 0 and bar.maintenance_s >= bar.observed_s:
        return "maintenance"
    if bar.uptime is None:
        return "no data"
    return uptime_band(bar.uptime * 100)


def uptime_text(bar: DayBar) -> str:
    """What the hover text says of a day's uptime."""
    category = day_category(bar)
    if category == "maintenance":
        return "maintenance" if bar.uptime is None else f"{bar.uptime * 100:.2f}% (maintenance)"
    if bar.uptime is None:
        return "no data"
    return f"{bar.uptime * 100:.2f}%"


def bar_title(bar: DayBar, incidents: Sequence[str]) -> str:
    """A day's hover text: date, uptime, downtime minutes and the incidents of that day."""
    happened = "; ".join(incidents) if incidents else "none"
    return (f"{bar.day.isoformat()} · uptime {uptime_text(bar)} · "
            f"{bar.downtime_minutes:.0f} min down · incidents: {happened}")


def incident_titles_by_day(status: PublicStatus) -> dict[tuple[int, date], list[str]]:
    """(component id, local day) -> titles of the incidents during that day, for the days the
    components have bars. One pass over the incidents rather than one per bar."""
    zone = get_settings().zone
    spans = {c.id: (c.bars[0].day, c.bars[-1].day) for c in status.components if c.bars}
    titles: dict[tuple[int, date], list[str]] = {}
    for incident in status.incidents:  # newest first, as status.incidents_on lists them
        component_id = incident.monitor_id
        span = spans.get(component_id) if component_id is not None else None
        if component_id is None or span is None:
            continue
        day = max(span[0], incident.started_at.astimezone(zone).date())
        last = span[1]
        if incident.resolved_at is not None:
            last = min(last, incident.resolved_at.astimezone(zone).date())
        while day <= last:
            start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
            if incident.overlaps(start, start + timedelta(days=1)):
                titles.setdefault((component_id, day), []).append(incident.title)
            day += timedelta(days=1)
    return titles


def uptime_over(fraction: float | None) -> str:
    """What a component's line says of its uptime over the window picked."""
    return "no data" if fraction is None else f"{percent(fraction)} uptime"


def _days(bars: Sequence[DayBar], incidents: Sequence[Sequence[str]]) -> tuple[str, list[str]]:
    """Each day's category digit, and its hover text."""
    return ("".join(str(CATEGORY_INDEX[day_category(bar)]) for bar in bars),
            [bar_title(bar, titles) for bar, titles in zip(bars, incidents, strict=True)])


# component id -> (past bars, their incidents' titles, their digits and texts). The past days
# of a component change only when its read-model past is recomputed (each clock hour) or an
# incident's title on one of them changes; a rebuild formats only today's bar for the others.
# The bars are compared as tuples, which is an identity check while they are the kept objects.
_kept_past: dict[int, tuple[tuple[DayBar, ...], tuple, tuple[str, list[str]]]] = {}


def _past_days(component_id: int, bars: tuple[DayBar, ...],
               incidents: tuple[tuple[str, ...], ...]) -> tuple[str, list[str]]:
    kept = _kept_past.get(component_id)
    if kept is not None and kept[0] == bars and kept[1] == incidents:
        _kept_past[component_id] = (bars, incidents, kept[2])  # next time: the same objects
        return kept[2]
    days = _days(bars, incidents)
    _kept_past[component_id] = (bars, incidents, days)
    return days


def _incidents(component: PublicComponent, titles: dict[tuple[int, date], list[str]]
               ) -> tuple[tuple[str, ...], ...]:
    """The titles of the incidents of each of the component's days."""
    return tuple(tuple(titles.get((component.id, bar.day), ())) for bar in component.bars)


def component_row(component: PublicComponent, titles: dict[tuple[int, date], list[str]]
                  ) -> dict[str, Any]:
    """One component of the board: its line's texts, and its days oldest first (the index of
    each day's category, which picks its colour) with their hover texts."""
    return _row(component, _incidents(component, titles))


def _row(component: PublicComponent, incidents: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    past_digits, past_titles = _past_days(component.id, component.bars[:-1], incidents[:-1])
    today_digits, today_titles = _days(component.bars[-1:], incidents[-1:])
    row: dict[str, Any] = {
        "name": component.name,
        "state": state_label(component.state),
        "uptime": {window: uptime_over(component.uptime.get(window)) for window in PAGE_WINDOWS},
        "days": past_digits + today_digits,
        "titles": [*past_titles, *today_titles],
    }
    if component.url:  # set only for a monitor whose URL is shown
        row["url"] = component.url
    return row


def board_data(status: PublicStatus) -> dict[str, Any]:
    """The board: the windows a visitor picks from, and the groups in page order."""
    titles = incident_titles_by_day(status)
    if len(_kept_past) > 2 * len(status.components):  # monitors were removed
        _kept_past.clear()
    return {  # board_payload encodes the same, row by row
        "windows": [[window, WINDOW_LABELS[window]] for window in PAGE_WINDOWS],
        "groups": [{"name": group or "", "rows": [component_row(c, titles) for c in members]}
                   for group, members in status.groups()],
    }


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


# Each component's row of the last board, kept with what it was made from (see board_payload):
# a rebuild formats and encodes only the rows that changed.
_ROWS: KeptEncodings[tuple[PublicComponent, tuple[tuple[str, ...], ...]]] = KeptEncodings(
    lambda item: _json(_row(*item)))


def board_payload(status: PublicStatus) -> bytes:
    """What the board component gets: JSON already encoded, so a page run only forwards bytes.
    The same bytes as encoding `board_data(status)` whole: each row is encoded on its own."""
    titles = incident_titles_by_day(status)
    if len(_kept_past) > 2 * len(status.components):  # monitors were removed
        _kept_past.clear()
    grouped = status.groups()
    with_incidents = {component_id for component_id, _ in titles}
    sources = []
    for _, members in grouped:
        for c in members:
            incidents = _incidents(c, titles) if c.id in with_incidents else ((),) * len(c.bars)
            # A row is made of the component's facts, its past days (the kept bars, compared
            # by identity) with their incidents, and today's text: today's bar itself moves
            # with the clock, its text far less often.
            version = (facts_without_bars(c), c.bars[:-1], incidents,
                       _days(c.bars[-1:], incidents[-1:]))
            sources.append((c.id, version, (c, incidents)))
    rows = iter(_ROWS.encoded(sources))
    groups = [b'{"name":' + _json(group or "") + b',"rows":['
              + b",".join(next(rows) for _ in members) + b"]}"
              for group, members in grouped]
    windows = _json([[window, WINDOW_LABELS[window]] for window in PAGE_WINDOWS])
    return b'{"windows":' + windows + b',"groups":[' + b",".join(groups) + b"]}"
