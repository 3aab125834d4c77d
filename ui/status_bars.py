"""The 90 daily bars of the status page: one small browser component per group of components.

Not a chart: Streamlit's charts have the browser fetch and start the Vega runtime (~0.8 MB) and
lay out thousands of marks, over a second on a hundred components. Not `st.html` either: it
passes markup through DOMPurify, which spends ~0.2 s on nine thousand bars. Here each group's
bars go to the browser as compact JSON, and a few lines of JavaScript build one coloured element
per day, with the day's details (date, uptime, downtime minutes, incidents) as its `title`,
which the browser shows on hover. Names and hover texts are set as text, never parsed as markup,
so no user text can become active; the text colour is inherited from the page, so it follows
the light or dark theme.

The payloads depend only on the published status, so they are built once per status (per read
model snapshot) and shared by every visitor and every refresh, instead of once per page run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import streamlit as st

from core.settings import get_settings
from storage.stats import DayBar
from storage.status import PublicComponent, PublicStatus

# Day colour by uptime; the same thresholds as the uptime badges. Mid tones that read on both
# the light and the dark background.
BAR_COLORS: dict[str, str] = {
    "no data": "#9e9e9e",
    "maintenance": "#1e88e5",
    "≥ 99.9%": "#2e9e44",
    "≥ 99%": "#9ccc3a",
    "≥ 95%": "#f2b21b",
    "≥ 90%": "#f57c2a",
    "< 90%": "#e0453a",
}
# Each day travels as one digit, its category's index; the browser gives it class "uw-<digit>".
CATEGORY_INDEX: dict[str, int] = {name: i for i, name in enumerate(BAR_COLORS)}
BAR_HEIGHT_PX = 22
LABEL_PX = 170  # the names' column, on screens wide enough for one
NARROW_PX = 640  # below this width (a phone) each name goes above its bars

# Colours and sizes only; the text colour is inherited, so it is the theme's. The component
# lives in a shadow root: these rules restyle nothing else on the page.
CSS = (
    ".uw-bars{display:flex;flex-direction:column;gap:6px;margin:.25rem 0 .5rem}"
    ".uw-row{display:flex;align-items:center;gap:.75rem;min-width:0}"
    f".uw-name{{flex:0 0 {LABEL_PX}px;overflow:hidden;text-overflow:ellipsis;"
    "white-space:nowrap;font-size:.875rem;opacity:.8}"
    f".uw-days{{flex:1;display:flex;gap:2px;height:{BAR_HEIGHT_PX}px;min-width:0}}"
    ".uw-days span{flex:1 1 0;min-width:1px;border-radius:2px}"
    ".uw-days span:hover{opacity:.6}"
    ".uw-axis{display:flex;justify-content:space-between;font-size:.75rem;opacity:.65;"
    f"margin-left:calc({LABEL_PX}px + .75rem)}}"
    f"@media (max-width:{NARROW_PX}px){{.uw-row{{flex-direction:column;align-items:stretch;"
    "gap:2px}.uw-name,.uw-days{flex:none}.uw-days{gap:1px}.uw-axis{margin-left:0}}"
    + "".join(f".uw-{CATEGORY_INDEX[name]}{{background:{color}}}"
              for name, color in BAR_COLORS.items())
)


def day_category(bar: DayBar) -> str:
    """What colour a day gets: grey with no data, blue when maintenance was most of it."""
    if bar.maintenance_s > 0 and bar.maintenance_s >= bar.observed_s:
        return "maintenance"
    if bar.uptime is None:
        return "no data"
    percent = bar.uptime * 100
    for lowest, name in ((99.9, "≥ 99.9%"), (99, "≥ 99%"), (95, "≥ 95%"), (90, "≥ 90%")):
        if percent >= lowest:
            return name
    return "< 90%"


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


def incident_titles_by_day(
    status: PublicStatus, components: Sequence[PublicComponent]
) -> dict[tuple[int, date], list[str]]:
    """(component id, local day) -> titles of the incidents during that day, for the days the
    components have bars. One pass over the incidents rather than one per bar."""
    zone = get_settings().zone
    spans = {c.id: (c.bars[0].day, c.bars[-1].day) for c in components if c.bars}
    titles: dict[tuple[int, date], list[str]] = {}
    for incident in status.incidents:  # newest first, as status.incidents_on lists them
        span = spans.get(incident.monitor_id)  # type: ignore[arg-type]
        if span is None:
            continue
        day = max(span[0], incident.started_at.astimezone(zone).date())
        last = span[1]
        if incident.resolved_at is not None:
            last = min(last, incident.resolved_at.astimezone(zone).date())
        while day <= last:
            start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
            if incident.overlaps(start, start + timedelta(days=1)):
                titles.setdefault((incident.monitor_id, day), []).append(incident.title)
            day += timedelta(days=1)
    return titles


def rows_data(
    status: PublicStatus, components: Sequence[PublicComponent]
) -> list[dict[str, Any]]:
    """A group's bars as data for the browser: per component its name, one class digit per day
    (oldest first) and each day's hover text."""
    titles = incident_titles_by_day(status, components)
    return [{
        "name": component.name,
        "days": "".join(str(CATEGORY_INDEX[day_category(bar)]) for bar in component.bars),
        "titles": [bar_title(bar, titles.get((component.id, bar.day), ()))
                   for bar in component.bars],
    } for component in components]


def bars_payload(status: PublicStatus, components: Sequence[PublicComponent]) -> bytes:
    """What the bars component gets: JSON already encoded, so a page run only forwards bytes."""
    return json.dumps({"rows": rows_data(status, components)},
                      ensure_ascii=False, separators=(",", ":")).encode()


# The last few statuses' payloads, keyed by the status object itself (immutable; a new snapshot
# is a new object). Kept small: only the current and the previous snapshot are ever asked for.
_KEEP = 3
_lock = threading.Lock()
_built: list[tuple[PublicStatus, list[bytes]]] = []


def group_bars(status: PublicStatus) -> list[bytes]:
    """One bars payload per group of `status.groups()`, built once per status."""
    with _lock:
        for known, blocks in _built:
            if known is status:
                return blocks
    blocks = [bars_payload(status, members) for _, members in status.groups()]
    with _lock:
        _built.insert(0, (status, blocks))
        del _built[_KEEP:]
    return blocks


# Called with each new payload. An unchanged payload (a refresh with the same snapshot) leaves
# the bars as they are. Only DOM calls and text properties: no markup is ever parsed.
JS = """
export default function ({ data, parentElement }) {
  const payload = typeof data === "string" ? data : new TextDecoder().decode(data);
  let root = parentElement.querySelector(".uw-bars");
  if (root === null) {
    root = document.createElement("div");
    root.className = "uw-bars";
    parentElement.appendChild(root);
  }
  if (root.uwPayload === payload) return;
  root.uwPayload = payload;
  const element = (tag, className, text) => {
    const made = document.createElement(tag);
    made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  };
  const rows = document.createDocumentFragment();
  for (const { name, days, titles } of JSON.parse(payload).rows) {
    const row = element("div", "uw-row");
    const label = element("div", "uw-name", name);
    label.title = name;
    const strip = element("div", "uw-days");
    for (let i = 0; i < days.length; i++) {
      const day = element("span", "uw-" + days[i]);
      day.title = titles[i];
      strip.appendChild(day);
    }
    row.append(label, strip);
    rows.appendChild(row);
  }
  const axis = element("div", "uw-axis");
  axis.append(element("span", "", "90 days ago"), element("span", "", "today"));
  rows.appendChild(axis);
  root.replaceChildren(rows);
}
"""


@cache
def _component() -> Any:
    # Registered on first use, from inside a page run, once per process.
    return st.components.v2.component("upwatch_day_bars", css=CSS, js=JS)


def day_bars(payload: bytes, key: str) -> None:
    """Show one group's bars (a payload of `group_bars`)."""
    _component()(data=payload, key=key)
