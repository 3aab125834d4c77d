"""Text widths in Verdana, measured the way shields.io measures them.

The widths come from the tables shields.io itself uses (the anafanafo package), so a badge drawn
here is as wide as the same badge drawn by shields.io, and a viewer without Verdana still gets
text that fits, because the SVG pins each text run to the measured length.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

Font = Literal["11px Verdana", "10px Verdana", "bold 10px Verdana"]

WIDTHS_FILE = Path(__file__).with_name("verdana_widths.json")


@dataclass(frozen=True, slots=True)
class WidthTable:
    """Advance widths of one font, as sorted, non-overlapping ranges of code points."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    widths: tuple[float, ...]
    fallback: float

    def char_width(self, code_point: int) -> float:
        # Control characters draw nothing.
        if code_point <= 31 or code_point == 127:
            return 0.0
        index = bisect_right(self.starts, code_point) - 1
        if index >= 0 and code_point <= self.ends[index]:
            return self.widths[index]
        # A glyph the table does not know is guessed as wide as an "m", as shields.io does:
        # better a little too wide than text overflowing its box.
        return self.fallback


@cache
def _width_table(font: Font) -> WidthTable:
    ranges = _all_ranges()[font]
    starts = tuple(int(r[0]) for r in ranges)
    ends = tuple(int(r[1]) for r in ranges)
    widths = tuple(float(r[2]) for r in ranges)
    table = WidthTable(starts, ends, widths, fallback=0.0)
    return WidthTable(starts, ends, widths, fallback=table.char_width(ord("m")))


@cache
def _all_ranges() -> dict[str, list[list[float]]]:
    with WIDTHS_FILE.open(encoding="utf-8") as fh:
        fonts: dict[str, list[list[float]]] = json.load(fh)["fonts"]
    return fonts


# Badge texts repeat (labels, states, most percentages): measured once each. Bounded, since
# labels come from requests.
@lru_cache(maxsize=4096)
def text_width(text: str, font: Font) -> float:
    """Width of `text` in px, unrounded."""
    table = _width_table(font)
    # Summed one character at a time, left to right, so the float result (and therefore the
    # truncated pixel width) is the same as shields.io's.
    width = 0.0
    for char in text:
        width += table.char_width(ord(char))
    return width
