"""The 90 daily bars of the status page: one small browser component per group of components.

Not a chart: Streamlit's charts have the browser fetch and start the Vega runtime (~0.8 MB) and
lay out thousands of marks, over a second on a hundred components. Not `st.html` either: it
passes markup through DOMPurify, which spends ~0.2 s on nine thousand bars. Here each group's
bars go to the browser as compact JSON, and a few lines of JavaScript draw each component's row
of days as one element: its background is a gradient with one coloured band per day, and a mask
cuts the gaps between them. An element per day (nine thousand on a hundred components) cost the
browser ~0.35 s of a first visit to build, style and lay out; a row per component costs almost
nothing. Hovering (or touching, or the arrow keys on a focused row) shows the day under the
pointer: date, uptime, downtime minutes and incidents, in a tooltip of the component's own.
Names and hover texts are set as text, never parsed as markup, so no user text can become
active; the text colour is inherited from the page, so it follows the light or dark theme.

The payloads (web/day_bars) depend only on the published status: the read model's process builds
them with each snapshot, and every visitor and every refresh gets the same bytes.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import streamlit as st

from storage.status import BAR_DAYS
from web.day_bars import BAR_COLORS

BAR_HEIGHT_PX = 22
LABEL_PX = 170  # the names' column, on screens wide enough for one
NARROW_PX = 640  # below this width (a phone) each name goes above its bars

# A row's days are the bands of one gradient (set per row by the browser code); this mask
# repeats once per day and hides the last --uw-gap of each, the gap between two days.
MASK = ("repeating-linear-gradient(to right,#000 0 calc(100% / var(--uw-n) - var(--uw-gap)),"
        "transparent 0 calc(100% / var(--uw-n)))")
# Colours and sizes only; the text colour is inherited, so it is the theme's. The component
# lives in a shadow root: these rules restyle nothing else on the page. A line break after the
# first rule: Streamlit takes one-line CSS with a "/" in it for the path of a file.
CSS = (
    ".uw-bars{position:relative;display:flex;flex-direction:column;gap:6px;margin:.25rem 0 .5rem;"
    f"--uw-gap:2px;--uw-n:{BAR_DAYS}}}\n"
    ".uw-row{display:flex;align-items:center;gap:.75rem;min-width:0}"
    f".uw-name{{flex:0 0 {LABEL_PX}px;overflow:hidden;text-overflow:ellipsis;"
    "white-space:nowrap;font-size:.875rem;opacity:.8}"
    f".uw-days{{flex:1;position:relative;height:{BAR_HEIGHT_PX}px;min-width:0;outline-offset:2px;"
    f"-webkit-mask-image:{MASK};mask-image:{MASK}}}"
    ".uw-hl{position:absolute;top:0;bottom:0;background:currentColor;opacity:.35;"
    "pointer-events:none}"
    ".uw-tip{position:absolute;z-index:1;pointer-events:none;white-space:nowrap;"
    "padding:.25rem .5rem;border-radius:.25rem;font-size:.8rem;background:#262730;color:#fafafa;"
    "border:1px solid rgba(128,128,128,.45);box-shadow:0 1px 4px rgba(0,0,0,.3)}"
    ".uw-axis{display:flex;justify-content:space-between;font-size:.75rem;opacity:.65;"
    f"margin-left:calc({LABEL_PX}px + .75rem)}}"
    f"@media (max-width:{NARROW_PX}px){{.uw-bars{{--uw-gap:1px}}"
    ".uw-row{flex-direction:column;align-items:stretch;gap:2px}"
    ".uw-name,.uw-days{flex:none}.uw-axis{margin-left:0}}"
)


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
  const tip = element("div", "uw-tip");
  const mark = element("div", "uw-hl");
  tip.hidden = mark.hidden = true;
  const hide = () => { tip.hidden = mark.hidden = true; };
  const show = (strip, i) => {
    const n = strip.dataset.days.length;
    i = Math.max(0, Math.min(n - 1, i));
    strip.uwDay = i;
    mark.style.left = (100 * i / n) + "%";
    mark.style.width = "calc(" + (100 / n) + "% - var(--uw-gap))";
    strip.appendChild(mark);
    tip.textContent = strip.uwTitles[i];
    tip.hidden = mark.hidden = false;
    const box = root.getBoundingClientRect(), day = strip.getBoundingClientRect();
    const x = day.left - box.left + day.width * (i + 0.5) / n;
    const left = Math.min(box.width - tip.offsetWidth, x - tip.offsetWidth / 2);
    tip.style.left = Math.max(0, left) + "px";
    tip.style.top = (day.bottom - box.top + 4) + "px";
  };
  const dayAt = (strip, event) => {
    const day = strip.getBoundingClientRect();
    return Math.floor((event.clientX - day.left) / day.width * strip.dataset.days.length);
  };
  const onPointer = (event) => show(event.currentTarget, dayAt(event.currentTarget, event));
  const onKey = (event) => {
    const strip = event.currentTarget, step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    show(strip, (strip.uwDay ?? strip.dataset.days.length - 1) + step);
  };
  const colors = __COLORS__;  // by category digit
  const rows = document.createDocumentFragment();
  let most = 0;
  for (const { name, days, titles } of JSON.parse(payload).rows) {
    const row = element("div", "uw-row");
    const label = element("div", "uw-name", name);
    label.title = name;
    const strip = element("div", "uw-days");
    // One band per run of days of the same colour (the mask cuts each into days).
    const width = 100 / days.length, bands = [];
    for (let i = 0, end; i < days.length; i = end) {
      for (end = i + 1; end < days.length && days[end] === days[i];) end++;
      bands.push(colors[days[i]] + " " + (i * width) + "% " + (end * width) + "%");
    }
    strip.style.backgroundImage = "linear-gradient(to right," + bands.join(",") + ")";
    most = Math.max(most, days.length);
    strip.dataset.days = days;
    strip.uwTitles = titles;
    strip.tabIndex = 0;
    strip.setAttribute("role", "img");
    strip.setAttribute("aria-label", name + ": uptime of each of the last " + days.length +
      " days; use the arrow keys for each day");
    strip.addEventListener("pointermove", onPointer);
    strip.addEventListener("pointerdown", onPointer);
    strip.addEventListener("pointerleave", hide);
    strip.addEventListener("focus", () => show(strip, strip.uwDay ?? days.length - 1));
    strip.addEventListener("blur", hide);
    strip.addEventListener("keydown", onKey);
    row.append(label, strip);
    rows.appendChild(row);
  }
  const axis = element("div", "uw-axis");
  axis.append(element("span", "", "90 days ago"), element("span", "", "today"));
  rows.append(axis, tip);
  if (most) root.style.setProperty("--uw-n", most);
  root.replaceChildren(rows);
}
"""
JS = JS.replace("__COLORS__", json.dumps(list(BAR_COLORS.values())))


@cache
def _component() -> Any:
    # Registered on first use, from inside a page run, once per process.
    return st.components.v2.component("upwatch_day_bars", css=CSS, js=JS)


def day_bars(payload: bytes, key: str) -> None:
    """Show one group's bars (a payload of web/day_bars)."""
    _component()(data=payload, key=key)
