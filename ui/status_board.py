"""The components of the public status page: one small browser component draws them all
(its code: ui/static/status_board.js and .css, after the daily bars shared with the
monitor page: ui/day_strip).

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
from dataclasses import dataclass
from functools import cache
from typing import Any

import streamlit as st

from storage.status import PAGE_WINDOWS
from ui.day_strip import STATIC_DIR as STATIC_DIR  # where the browser code is read from
from ui.day_strip import day_strip_code

DEFAULT_WINDOW = "30d"
BOARD_KEY = "status-board"

# The board's own code follows the shared daily bars' (ui/day_strip).
CSS, JS = day_strip_code("status_board.js", "status_board.css", DEFAULT_WINDOW=DEFAULT_WINDOW)


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
