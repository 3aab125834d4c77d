"""The 90 daily bars in the browser, one drawing for every page that shows them: the public
status page's board (ui/status_board.py) and a monitor's detail page (ui/monitor_bars.py).

The bars' code is ui/static/day_strip.js and .css; each page's component is that text followed
by its own (its layout around the rows). A day's colour is its category in
readmodel/board_payload (`day_category`, over the uptime bands of domain/bands): the payloads
send each day as that category's digit, and the browser picks the colour by it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from readmodel.board_payload import BAR_COLORS, CATEGORY_INDEX, day_category
from storage.daily_bars import DayBar

# The browser code lives in ui/static/ and is read once, at import; Streamlit gets it as text,
# which travels with the element. Components v2 take a file by path only inside the `asset_dir`
# of a component declared in an installed distribution's `[tool.streamlit.component]` manifest,
# found through an import package named after the distribution (this project has none: its
# packages are ui/, web/, ...). Any text with a line break is taken as code, never as a path.
STATIC_DIR = Path(__file__).parent / "static"


def _static_text(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


_DAY_STRIP_CSS = _static_text("day_strip.css")
_DAY_STRIP_JS = _static_text("day_strip.js").replace(
    "__COLORS__", json.dumps(list(BAR_COLORS.values())))


def day_strip_code(js_file: str, css_file: str | None = None, **values: str) -> tuple[str, str]:
    """(CSS, JS) of a component drawing daily bars: the shared code, then the page's own files
    from ui/static/, each `__NAME__` placeholder of its JS replaced by the JSON of `values[NAME]`.
    """
    js = _static_text(js_file)
    for name, value in values.items():
        js = js.replace(f"__{name}__", json.dumps(value))
    css = _DAY_STRIP_CSS if css_file is None else _DAY_STRIP_CSS + "\n" + _static_text(css_file)
    return css, _DAY_STRIP_JS + "\n" + js


def day_digits(bars: Sequence[DayBar]) -> str:
    """Each day as its category's digit, oldest first: what the strip colours."""
    return "".join(str(CATEGORY_INDEX[day_category(bar)]) for bar in bars)
