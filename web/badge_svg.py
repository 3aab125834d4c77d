"""Badges as SVG, drawn like shields.io's badge-maker (4.x) draws them.

Same geometry, colours and font metrics, so an Upwatch badge sits next to shields.io badges in a
README without looking out of place. Everything a user typed is escaped, and a colour is only
ever one of the named colours or a validated hex value: nothing from a request reaches the SVG
as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Literal

from web.font_metrics import Font, text_width

Style = Literal["flat", "flat-square", "for-the-badge"]
STYLES: tuple[Style, ...] = ("flat", "flat-square", "for-the-badge")

NAMED_COLORS: dict[str, str] = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellow": "#dfb317",
    "yellowgreen": "#a4a61d",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "grey": "#555",
    "lightgrey": "#9f9f9f",
}
COLOR_ALIASES: dict[str, str] = {
    "gray": "grey",
    "lightgray": "lightgrey",
    "critical": "red",
    "important": "orange",
    "success": "brightgreen",
    "informational": "blue",
    "inactive": "lightgrey",
}
FALLBACK_COLOR = "lightgrey"
LABEL_COLOR = "#555"

FONT_FAMILY = "Verdana,Geneva,DejaVu Sans,sans-serif"
_HEX_COLOR = re.compile(r"#?((?:[0-9a-fA-F]{3}){1,2})")
# XML 1.0 cannot carry these at all, not even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def shields_color(color: str) -> str:
    """A colour as shields.io names it: a named colour (aliases resolved), lowercase hex digits
    without "#", or light grey for anything else."""
    key = color.strip().lower()
    key = COLOR_ALIASES.get(key, key)
    if key in NAMED_COLORS:
        return key
    if match := _HEX_COLOR.fullmatch(key):
        return match.group(1)
    return FALLBACK_COLOR


def svg_color(color: str) -> str:
    """The SVG fill for a named colour, an alias or a hex value; light grey for anything else."""
    key = shields_color(color)
    return NAMED_COLORS.get(key) or "#" + key


def render_badge_svg(label: str, message: str, color: str, style: str = "flat") -> str:
    """A badge reading `label | message`, the message on `color`. An empty label draws only
    the message. Raises ValueError for a style that is not one of STYLES."""
    renderer = _RENDERERS.get(style)
    if renderer is None:
        raise ValueError(f"unknown badge style {style!r}; use one of {', '.join(STYLES)}")
    return renderer(_clean(label), _clean(message), svg_color(color))


def _clean(text: str) -> str:
    text = _NOT_XML.sub("", text.replace("\t", " ").replace("\r", " ").replace("\n", " "))
    return text.strip()


def _escape(text: str) -> str:
    return text.translate(_XML_ESCAPES)


def _num(value: float) -> str:
    # Printed as JavaScript prints numbers, so output matches badge-maker's byte for byte.
    return str(int(value)) if value == int(value) else repr(value)


def _preferred_width(text: str, font: Font) -> int:
    # Odd widths centre text on whole pixels more often.
    width = int(text_width(text, font))
    return width + 1 if width % 2 == 0 else width


@lru_cache(maxsize=256)  # a few fills in practice; Decimal arithmetic is most of a render
def _is_light(fill: str) -> bool:
    digits = fill[1:]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    # Perceived brightness (YIQ), rounded as badge-maker rounds it before comparing.
    brightness = Decimal((red * 299 + green * 587 + blue * 114) / 255000)
    return brightness.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) > Decimal("0.69")


def _text_colors(fill: str) -> tuple[str, str]:
    """(text, shadow) colours that stay readable on `fill`."""
    return ("#333", "#ccc") if _is_light(fill) else ("#fff", "#010101")


def _svg(width: float, height: int, accessible_text: str, body: str) -> str:
    title = _escape(accessible_text)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' width="{_num(width)}" height="{height}" role="img" aria-label="{title}">'
        f"<title>{title}</title>{body}</svg>"
    )


def _accessible_text(label: str, message: str) -> str:
    return f"{label}: {message}" if label else message


@dataclass(frozen=True, slots=True)
class _FlatGeometry:
    """Layout shared by flat and flat-square: 20 px high, 5 px padding, 11px Verdana."""

    label_fill: str
    label_width: int
    left_width: int
    message_width: int
    message_margin: int
    right_width: int

    @classmethod
    def of(cls, label: str, message: str, fill: str) -> _FlatGeometry:
        padding = 5
        label_width = _preferred_width(label, "11px Verdana") if label else 0
        left_width = label_width + 2 * padding if label else 0
        message_width = _preferred_width(message, "11px Verdana")
        # Without a label the message starts one pixel further right, as in badge-maker.
        message_margin = left_width - (1 if message else 0) + (0 if label else 1)
        return cls(
            label_fill=LABEL_COLOR if label else fill,
            label_width=label_width,
            left_width=left_width,
            message_width=message_width,
            message_margin=message_margin,
            right_width=message_width + 2 * padding,
        )


def _flat_text(text: str, left_margin: int, text_width_px: int, fill: str, shadow: bool) -> str:
    if not text:
        return ""
    text_color, shadow_color = _text_colors(fill)
    x = _num(10 * (left_margin + 0.5 * text_width_px + 5))
    length = _num(10 * text_width_px)
    content = _escape(text)
    drawn = (
        f'<text x="{x}" y="140" transform="scale(.1)" fill="{text_color}"'
        f' textLength="{length}">{content}</text>'
    )
    if not shadow:
        return drawn
    return (
        f'<text aria-hidden="true" x="{x}" y="150" fill="{shadow_color}" fill-opacity=".3"'
        f' transform="scale(.1)" textLength="{length}">{content}</text>{drawn}'
    )


def _flat_body(label: str, message: str, fill: str, *, rounded: bool) -> tuple[int, str]:
    g = _FlatGeometry.of(label, message, fill)
    width = g.left_width + g.right_width
    rects = (
        f'<rect width="{g.left_width}" height="20" fill="{g.label_fill}"/>'
        f'<rect x="{g.left_width}" width="{g.right_width}" height="20" fill="{fill}"/>'
    )
    if rounded:
        background = (
            '<linearGradient id="s" x2="0" y2="100%">'
            '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
            '<stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
            f'<g clip-path="url(#r)">{rects}'
            f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
        )
    else:
        background = f'<g shape-rendering="crispEdges">{rects}</g>'
    texts = _flat_text(label, 1, g.label_width, g.label_fill, rounded) + _flat_text(
        message, g.message_margin, g.message_width, fill, rounded
    )
    foreground = (
        f'<g fill="#fff" text-anchor="middle" font-family="{FONT_FAMILY}"'
        f' text-rendering="geometricPrecision" font-size="110">{texts}</g>'
    )
    return width, background + foreground


def _render_flat(label: str, message: str, fill: str) -> str:
    width, body = _flat_body(label, message, fill, rounded=True)
    return _svg(width, 20, _accessible_text(label, message), body)


def _render_flat_square(label: str, message: str, fill: str) -> str:
    width, body = _flat_body(label, message, fill, rounded=False)
    return _svg(width, 20, _accessible_text(label, message), body)


def _spaced_width(text: str, font: Font) -> float:
    # for-the-badge spreads its capitals 1.25 px apart; unlike badge-maker, which counts UTF-16
    # units here, count characters, so an emoji is not spaced twice.
    return int(text_width(text, font)) + 1.25 * len(text) if text else 0


def _render_for_the_badge(label: str, message: str, fill: str) -> str:
    margin = 12
    label, message = label.upper(), message.upper()
    label_text_width = _spaced_width(label, "10px Verdana")
    message_text_width = _spaced_width(message, "bold 10px Verdana")
    label_rect_width = margin + label_text_width + margin if label else 0
    message_text_x = label_rect_width + margin
    message_rect_width = 2 * margin + message_text_width

    rects = f'<rect width="{_num(message_rect_width)}" height="28" fill="{fill}"/>'
    texts = ""
    if label:
        rects = (
            f'<rect width="{_num(label_rect_width)}" height="28" fill="{LABEL_COLOR}"/>'
            f'<rect x="{_num(label_rect_width)}" width="{_num(message_rect_width)}"'
            f' height="28" fill="{fill}"/>'
        )
        texts = (
            f'<text transform="scale(.1)" x="{_num(10 * (margin + 0.5 * label_text_width))}"'
            f' y="175" textLength="{_num(10 * label_text_width)}"'
            f' fill="{_text_colors(LABEL_COLOR)[0]}">{_escape(label)}</text>'
        )
    texts += (
        f'<text transform="scale(.1)" x="{_num(10 * (message_text_x + 0.5 * message_text_width))}"'
        f' y="175" textLength="{_num(10 * message_text_width)}" fill="{_text_colors(fill)[0]}"'
        f' font-weight="bold">{_escape(message)}</text>'
    )
    body = (
        f'<g shape-rendering="crispEdges">{rects}</g>'
        f'<g fill="#fff" text-anchor="middle" font-family="{FONT_FAMILY}"'
        f' text-rendering="geometricPrecision" font-size="100">{texts}</g>'
    )
    width = label_rect_width + message_rect_width
    return _svg(width, 28, _accessible_text(label, message), body)


_RENDERERS: dict[str, Callable[[str, str, str], str]] = {
    "flat": _render_flat,
    "flat-square": _render_flat_square,
    "for-the-badge": _render_for_the_badge,
}
