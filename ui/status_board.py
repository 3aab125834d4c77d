"""The components of the public status page: one small browser component draws them all.

Per group a heading, and per component its name, state, uptime over the window the visitor
picks (24 h / 7 d / 30 d / 90 d) and its 90 daily bars. Hovering (or touching, or the arrow keys
on a focused row) shows the day under the pointer: date, uptime, downtime minutes and incidents,
in a tooltip of the component's own. The window picker and the response-time switch are part of
it: the payload carries every window's figures, so picking a window changes the texts in the
browser at once, and the page runs again only when it must draw the response-time charts.

Why one component and not Streamlit's elements: a first visit's time is mostly the browser
building what arrives, element by element. A bordered container, a Markdown block and a bars
component per group, with a segmented control and a toggle, cost ~0.3 s of a first visit on a
hundred components; this costs about what one bars component did. Not a chart: Streamlit's charts
have the browser fetch and start the Vega runtime (~0.8 MB) and lay out thousands of marks. Not
`st.html` either: it passes markup through DOMPurify, which spends ~0.2 s on nine thousand bars.
Each component's row of days is one element: its background is a gradient with one coloured band
per day, and a mask cuts the gaps between them (an element per day cost ~0.35 s to build, style
and lay out).

Names, URLs and hover texts are set as text, never parsed as markup, so no user text can become
active; the text colour is inherited from the page, so it follows the light or dark theme.
The payload (readmodel/board_payload) depends only on the published status: the read model's process
builds it with each snapshot, and every visitor and every refresh gets the same bytes.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import streamlit as st

from readmodel.board_payload import BAR_COLORS
from storage.status import PAGE_WINDOWS

BAR_HEIGHT_PX = 22
NARROW_PX = 640  # below this width (a phone) each component's bars go under its name
DEFAULT_WINDOW = "30d"
BOARD_KEY = "status-board"

# A row's days are the bands of one gradient (set per row by the browser code); this mask
# repeats once per day and hides the last --uw-gap of each, the gap between two days.
MASK = ("repeating-linear-gradient(to right,#000 0 calc(100% / var(--uw-n) - var(--uw-gap)),"
        "transparent 0 calc(100% / var(--uw-n)))")
# The name, the bars and the uptime side by side on a wide screen; on a phone the bars go
# under the name and the uptime.
WIDE_ROW = "grid-template-columns:minmax(0,15rem) minmax(0,1fr) 8rem"
# Colours and sizes only; the text colour and font are inherited, so they are the theme's. The
# component lives in a shadow root: these rules restyle nothing else on the page. A line break
# after the first rule: Streamlit takes one-line CSS with a "/" in it for the path of a file.
LINE = "rgba(128,128,128,.35)"
CSS = (
    ".uw-board{position:relative;display:flex;flex-direction:column;gap:1rem;--uw-gap:2px}\n"
    ".uw-groups{display:flex;flex-direction:column;gap:1rem}"
    ".uw-controls{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;"
    "font-size:.875rem}"
    ".uw-picker{display:inline-flex;align-items:center;gap:.5rem}"
    f".uw-choices{{display:inline-flex;border:1px solid {LINE};border-radius:.5rem;"
    "overflow:hidden}"
    ".uw-choices button{font:inherit;color:inherit;background:transparent;border:0;"
    "padding:.25rem .75rem;cursor:pointer}"
    f".uw-choices button+button{{border-left:1px solid {LINE}}}"
    ".uw-choices button[aria-pressed=true]{background:rgba(128,128,128,.25);font-weight:600}"
    ".uw-choices button:focus-visible{outline:2px solid currentColor;outline-offset:-3px}"
    ".uw-switch{display:inline-flex;align-items:center;gap:.4rem;cursor:pointer}"
    ".uw-switch input{margin:0;accent-color:var(--st-primary-color,currentColor)}"
    f".uw-group{{border:1px solid {LINE};border-radius:.5rem;padding:.75rem 1rem;"
    "display:flex;flex-direction:column;gap:.5rem}"
    ".uw-group h3{margin:0 0 .25rem;font-size:1.25rem;font-weight:600;line-height:1.4}"
    f".uw-row{{display:grid;{WIDE_ROW};grid-template-areas:'info days up';"
    "align-items:center;gap:.25rem 1rem}"
    ".uw-info{grid-area:info;min-width:0}"
    ".uw-name,.uw-detail{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    ".uw-name{font-weight:600;font-size:.9rem}"
    ".uw-detail{font-size:.8rem;opacity:.75}"
    ".uw-uptime{grid-area:up;text-align:right;font-size:.875rem;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}"
    f".uw-days{{grid-area:days;position:relative;height:{BAR_HEIGHT_PX}px;min-width:0;"
    f"outline:none;-webkit-mask-image:{MASK};mask-image:{MASK}}}"
    # The mask would cut a focus ring on the strip itself: the row shows it.
    ".uw-row:has(.uw-days:focus-visible){outline:2px solid currentColor;outline-offset:3px;"
    "border-radius:.25rem}"
    ".uw-hl{position:absolute;top:0;bottom:0;background:currentColor;opacity:.35;"
    "pointer-events:none}"
    # At most the board's width (a phone's), wrapping a long list of incidents.
    ".uw-tip{position:absolute;z-index:1;pointer-events:none;width:max-content;max-width:100%;"
    "box-sizing:border-box;overflow-wrap:anywhere;"
    "padding:.25rem .5rem;border-radius:.25rem;font-size:.8rem;background:#262730;color:#fafafa;"
    "border:1px solid rgba(128,128,128,.45);box-shadow:0 1px 4px rgba(0,0,0,.3)}"
    f".uw-axis{{display:grid;{WIDE_ROW};grid-template-areas:'. days .';gap:0 1rem;"
    "font-size:.75rem;opacity:.8}"
    ".uw-axis div{grid-area:days;display:flex;justify-content:space-between}"
    f"@media (max-width:{NARROW_PX}px){{.uw-board{{--uw-gap:1px}}"
    ".uw-row{grid-template-columns:minmax(0,1fr) auto;grid-template-areas:'info up' 'days days'}"
    ".uw-axis{grid-template-columns:1fr;grid-template-areas:'days'}}"
)


JS = """
// The visitor's view, kept by the module (loaded once per page) rather than by the board's
// elements: a remounted board starts from what the page last heard, not from the default.
const view = { window: __DEFAULT_WINDOW__, latency: false };
const colors = __COLORS__;  // by category digit

const element = (tag, className, text) => {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
};

// What stays while payloads come and go: the window picker and the response-time switch (so
// keyboard focus on them survives a refresh), and the tooltip.
function frame(root, windows) {
  const report = () => root.uwSetState("view", { window: view.window, latency: view.latency });
  const label = element("span", "", "Uptime over");
  label.id = "uw-window-label";
  const choices = element("div", "uw-choices");
  choices.setAttribute("role", "group");
  choices.setAttribute("aria-labelledby", label.id);
  const buttons = windows.map(([window, text]) => {
    const button = element("button", "", text);
    button.type = "button";
    button.uwWindow = window;
    button.addEventListener("click", () => {
      if (view.window === window) return;
      view.window = window;
      root.uwShowWindow();
      if (view.latency) report();  // the charts follow the window; without them, no page run
    });
    return button;
  });
  choices.append(...buttons);
  root.uwShowWindow = () => {
    for (const button of buttons)
      button.setAttribute("aria-pressed", String(button.uwWindow === view.window));
    for (const [text, uptime] of root.uwUptimes) text.textContent = uptime[view.window];
  };
  const picker = element("div", "uw-picker");
  picker.append(label, choices);
  const latency = element("input");
  latency.type = "checkbox";
  latency.checked = view.latency;
  latency.addEventListener("change", () => { view.latency = latency.checked; report(); });
  const switcher = element("label", "uw-switch");
  switcher.append(latency, document.createTextNode("Show response times (p50 / p95)"));
  const controls = element("div", "uw-controls");
  controls.append(picker, switcher);
  root.uwGroups = element("div", "uw-groups");
  root.uwTip = element("div", "uw-tip");
  root.uwMark = element("div", "uw-hl");
  root.uwTip.hidden = root.uwMark.hidden = true;
  root.uwTip.setAttribute("aria-hidden", "true");  // a strip's value text says the same
  root.append(controls, root.uwGroups, root.uwTip);
  // A tap elsewhere hides the tooltip (a touch leaves no pointer behind to move away).
  root.addEventListener("pointerdown", (event) => {
    if (!event.target.classList.contains("uw-days")) root.uwHide();
  });
  root.uwHide = () => { root.uwTip.hidden = root.uwMark.hidden = true; };
}

// The tooltip of day `i` of a strip (0 = 90 days ago).
function show(root, strip, i) {
  const n = strip.dataset.days.length, tip = root.uwTip, mark = root.uwMark;
  i = Math.max(0, Math.min(n - 1, i));
  strip.uwDay = i;
  strip.setAttribute("aria-valuenow", i);
  strip.setAttribute("aria-valuetext", strip.uwTitles[i]);
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
}

const KEYS = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };

// One tab stop per group: its strips share it, and the up and down arrows move between them
// (on the same day), so the keyboard does not step through a hundred strips to pass the board.
function groupStrips(strip) {
  return [...strip.closest(".uw-group").querySelectorAll(".uw-days")];
}
function takeTabStop(strip) {
  for (const other of groupStrips(strip)) other.tabIndex = other === strip ? 0 : -1;
}

function strip(root, { name, days, titles }) {
  const made = element("div", "uw-days");
  // One band per run of days of the same colour (the mask cuts each into days).
  const width = 100 / days.length, bands = [];
  for (let i = 0, end; i < days.length; i = end) {
    for (end = i + 1; end < days.length && days[end] === days[i];) end++;
    bands.push(colors[days[i]] + " " + (i * width) + "% " + (end * width) + "%");
  }
  made.style.backgroundImage = "linear-gradient(to right," + bands.join(",") + ")";
  made.style.setProperty("--uw-n", days.length);
  made.dataset.days = days;
  made.uwTitles = titles;
  made.tabIndex = -1;  // the group's first strip gets its tab stop
  // A slider over the days for a screen reader: each day's text is its value.
  made.setAttribute("role", "slider");
  made.setAttribute("aria-label", name + ": uptime of each of the last " + days.length + " days");
  made.setAttribute("aria-valuemin", 0);
  made.setAttribute("aria-valuemax", days.length - 1);
  const dayAt = (event) => {
    const box = made.getBoundingClientRect();
    return Math.floor((event.clientX - box.left) / box.width * days.length);
  };
  made.addEventListener("pointermove", (event) => show(root, made, dayAt(event)));
  made.addEventListener("pointerdown", (event) => show(root, made, dayAt(event)));
  // Only a mouse leaving hides it: a finger lifted after a tap leaves the day shown.
  made.addEventListener("pointerleave", (event) => {
    if (event.pointerType === "mouse") root.uwHide();
  });
  made.addEventListener("focus", () => {
    takeTabStop(made);
    show(root, made, made.uwDay ?? days.length - 1);
  });
  made.addEventListener("blur", () => root.uwHide());
  made.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { root.uwHide(); return; }
    const move = { ArrowUp: -1, ArrowDown: 1 }[event.key];
    if (move !== undefined) {
      const strips = groupStrips(made), next = strips[strips.indexOf(made) + move];
      event.preventDefault();
      if (next !== undefined) {
        next.uwDay = made.uwDay;
        next.focus();
      }
      return;
    }
    const step = KEYS[event.key];
    if (step === undefined) return;
    event.preventDefault();
    show(root, made, (made.uwDay ?? days.length - 1) + step);
  });
  return made;
}

// Called with each new payload. An unchanged payload (a refresh with the same snapshot) leaves
// the board as it is; a new one keeps the visitor's window, switch and focused day. Only DOM
// calls and text properties: no markup is ever parsed.
export default function ({ data, parentElement, setStateValue }) {
  const payload = typeof data === "string" ? data : new TextDecoder().decode(data);
  let root = parentElement.querySelector(".uw-board");
  if (root === null) {
    root = element("div", "uw-board");
    parentElement.appendChild(root);
  }
  root.uwSetState = setStateValue;
  if (root.uwPayload === payload) return;
  root.uwPayload = payload;
  const board = JSON.parse(payload);
  if (root.uwGroups === undefined) frame(root, board.windows);
  const strips = () => [...root.uwGroups.querySelectorAll(".uw-days")];
  const focused = root.getRootNode().activeElement;
  const focusedAt = strips().indexOf(focused), focusedDay = focused?.uwDay;

  root.uwUptimes = [];  // [text element, the component's uptime text per window]
  const sections = document.createDocumentFragment();
  for (const group of board.groups) {
    const section = element("section", "uw-group");
    if (group.name) section.append(element("h3", "", group.name));
    for (const component of group.rows) {
      const row = element("div", "uw-row");
      const info = element("div", "uw-info");
      const name = element("div", "uw-name", component.name);
      name.title = component.name;
      const detail = component.url ? component.state + " · " + component.url : component.state;
      info.append(name, element("div", "uw-detail", detail));
      const uptime = element("div", "uw-uptime");
      root.uwUptimes.push([uptime, component.uptime]);
      row.append(info, strip(root, component), uptime);
      section.append(row);
    }
    const first = section.querySelector(".uw-days");
    if (first !== null) first.tabIndex = 0;
    const axis = element("div", "uw-axis"), ends = element("div");
    ends.append(element("span", "", "90 days ago"), element("span", "", "today"));
    axis.append(ends);
    section.append(axis);
    sections.append(section);
  }
  root.uwHide();
  root.uwGroups.replaceChildren(sections);
  root.uwShowWindow();
  const refocus = strips()[focusedAt];
  if (refocus !== undefined) {
    refocus.uwDay = focusedDay;
    refocus.focus();
  }
}
"""
JS = (JS.replace("__COLORS__", json.dumps(list(BAR_COLORS.values())))
      .replace("__DEFAULT_WINDOW__", json.dumps(DEFAULT_WINDOW)))


@dataclass(frozen=True)
class BoardView:
    """What the visitor picked on the board: the window, and whether to draw response times."""

    window: str = DEFAULT_WINDOW
    latency: bool = False


def view_from(value: Any) -> BoardView:
    """The view the browser reported. It is a visitor's input: anything unexpected is the
    default."""
    if not isinstance(value, dict):
        return BoardView()
    window = value.get("window")
    return BoardView(window if window in PAGE_WINDOWS else DEFAULT_WINDOW,
                     value.get("latency") is True)


@cache
def _component() -> Any:
    # Registered on first use, from inside a page run, once per process.
    return st.components.v2.component("upwatch_status_board", css=CSS, js=JS)


def _reported() -> None:
    """The view changed in the browser: the run it causes reads it."""


def status_board(payload: bytes) -> BoardView:
    """Show the components (a payload of readmodel/board_payload) and return the visitor's view."""
    result = _component()(data=payload, key=BOARD_KEY, on_view_change=_reported,
                          default={"view": dataclasses.asdict(BoardView())})
    return view_from(result.get("view"))
