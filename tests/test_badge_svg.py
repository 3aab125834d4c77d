"""Badge drawing and badge values: shields.io compatibility, escaping, colours, thresholds."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readmodel.prepared import etag_for
from web.badge_svg import STYLES, render_badge_svg, svg_color
from web.badge_values import (
    cert_badge,
    latency_badge,
    overall_badge,
    shields_endpoint_json,
    status_badge,
    uptime_badge,
)
from web.font_metrics import text_width

SVG = "{http://www.w3.org/2000/svg}"
BADGE_ELEMENTS = {
    f"{SVG}{name}"
    for name in ("svg", "title", "linearGradient", "stop", "clipPath", "rect", "g", "text")
}

# Drawn by shields.io's badge-maker 4.1.0: makeBadge({label: 'build', message: 'passing',
# color: 'brightgreen'}).
SHIELDS_BUILD_PASSING = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="88" height="20" role="img" aria-label="build: passing"><title>build: passing</title>'
    '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
    'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r">'
    '<rect width="88" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)">'
    '<rect width="37" height="20" fill="#555"/><rect x="37" width="51" height="20" '
    'fill="#4c1"/><rect width="88" height="20" fill="url(#s)"/></g><g fill="#fff" '
    'text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
    'text-rendering="geometricPrecision" font-size="110"><text aria-hidden="true" x="195" '
    'y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="270">build'
    '</text><text x="195" y="140" transform="scale(.1)" fill="#fff" textLength="270">build'
    '</text><text aria-hidden="true" x="615" y="150" fill="#010101" fill-opacity=".3" '
    'transform="scale(.1)" textLength="410">passing</text><text x="615" y="140" '
    'transform="scale(.1)" fill="#fff" textLength="410">passing</text></g></svg>'
)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


# Characters XML cannot carry, and the blanks a badge trims from both ends.
BLANK_OR_INVALID = ("Cc", "Cs", "Cn", "Zs", "Zl", "Zp")


def badge_width(svg: str) -> float:
    return float(parse(svg).attrib["width"])


def fills(root: ET.Element) -> set[str]:
    return {el.attrib["fill"] for el in root.iter(f"{SVG}rect") if "fill" in el.attrib}


def visible_texts(root: ET.Element) -> list[str]:
    return [
        el.text or "" for el in root.iter(f"{SVG}text") if el.attrib.get("aria-hidden") != "true"
    ]


def assert_only_badge_markup(root: ET.Element) -> None:
    for el in root.iter():
        assert el.tag in BADGE_ELEMENTS, el.tag
        assert not any(name.lower().startswith("on") for name in el.attrib), el.attrib


def test_it_draws_the_same_flat_badge_as_shields() -> None:
    assert render_badge_svg("build", "passing", "brightgreen") == SHIELDS_BUILD_PASSING


@pytest.mark.parametrize(
    ("label", "message", "style", "width"),
    [  # widths of the same badges drawn by badge-maker 4.1.0
        ("build", "passing", "flat-square", 88),
        ("build", "passing", "for-the-badge", 145),
        ("uptime 30d", "99.95%", "flat", 126),
        ("", "up", "flat", 23),
        ("latency p95", "123 ms", "for-the-badge", 177.25),
        ("", "operational", "for-the-badge", 118.75),
        ("cert", "42 days", "flat-square", 84),
    ],
)
def test_its_widths_match_shields(label: str, message: str, style: str, width: float) -> None:
    assert badge_width(render_badge_svg(label, message, "brightgreen", style)) == width


@pytest.mark.parametrize("style", STYLES)
def test_each_style_renders_text_colour_and_title(style: str) -> None:
    root = parse(render_badge_svg("api", "99.95%", "green", style))

    assert root.tag == f"{SVG}svg"
    expected = ("API", "99.95%") if style == "for-the-badge" else ("api", "99.95%")
    assert visible_texts(root) == list(expected)
    assert "#97ca00" in fills(root)
    assert root.find(f"{SVG}title").text == f"{expected[0]}: {expected[1]}"
    assert root.attrib["aria-label"] == f"{expected[0]}: {expected[1]}"
    assert root.attrib["height"] == ("28" if style == "for-the-badge" else "20")
    assert_only_badge_markup(root)


def test_for_the_badge_sets_the_message_in_bold() -> None:
    root = parse(render_badge_svg("uptime", "up", "brightgreen", "for-the-badge"))
    message = root.findall(f".//{SVG}text")[-1]
    assert message.text == "UP"
    assert message.attrib["font-weight"] == "bold"


@pytest.mark.parametrize("style", STYLES)
def test_wide_letters_make_a_wider_badge_than_narrow_ones(style: str) -> None:
    narrow = badge_width(render_badge_svg("status", "iiii", "blue", style))
    wide = badge_width(render_badge_svg("status", "WWWW", "blue", style))
    longer = badge_width(render_badge_svg("status", "WWWWWWWW", "blue", style))
    assert narrow < wide < longer


def test_label_width_follows_the_label() -> None:
    short = badge_width(render_badge_svg("a", "up", "red"))
    long = badge_width(render_badge_svg("a much longer monitor name", "up", "red"))
    assert long - short > 100


def test_unknown_characters_are_measured_as_an_m() -> None:
    unassigned = "\U000e0fff"
    assert text_width(unassigned, "11px Verdana") == text_width("m", "11px Verdana")
    assert text_width("a\x07b", "11px Verdana") == text_width("ab", "11px Verdana")
    assert text_width("build", "11px Verdana") == pytest.approx(26.7)  # anafanafo's figure


@pytest.mark.parametrize("style", STYLES)
def test_hostile_names_are_text_not_markup(style: str) -> None:
    label = "<script>alert(1)</script>"
    message = '"><svg onload="alert(2)"> & \'x\''
    svg = render_badge_svg(label, message, "red", style)
    root = parse(svg)

    assert_only_badge_markup(root)
    assert "<script" not in svg and "<svg onload" not in svg
    texts = visible_texts(root)
    if style == "for-the-badge":
        assert texts == [label.upper(), message.upper()]
    else:
        assert texts == [label, message]
        assert root.find(f"{SVG}title").text == f"{label}: {message}"


@pytest.mark.parametrize(
    "color",
    ['red" onload="alert(1)', "url(javascript:alert(1))", "rgb(1,2,3)", "#12345", "", "reddish"],
)
def test_an_unknown_colour_falls_back_to_light_grey(color: str) -> None:
    svg = render_badge_svg("x", "y", color)
    assert "#9f9f9f" in fills(parse(svg))
    assert "javascript" not in svg and "onload" not in svg
    assert shields_endpoint_json("x", "y", color)["color"] == "lightgrey"


@pytest.mark.parametrize(
    ("color", "fill"),
    [
        ("brightgreen", "#4c1"),
        ("yellowgreen", "#a4a61d"),
        ("lightgrey", "#9f9f9f"),
        ("grey", "#555"),
        ("success", "#4c1"),
        ("ABC", "#abc"),
        ("#FF69B4", "#ff69b4"),
    ],
)
def test_named_and_hex_colours_are_accepted(color: str, fill: str) -> None:
    assert svg_color(color) == fill
    assert fill in fills(parse(render_badge_svg("x", "y", color)))


def test_text_on_a_light_colour_is_dark() -> None:
    light = visible_texts_fill(render_badge_svg("x", "y", "fe0"))
    dark = visible_texts_fill(render_badge_svg("x", "y", "red"))
    assert light == ["#fff", "#333"]
    assert dark == ["#fff", "#fff"]


def visible_texts_fill(svg: str) -> list[str]:
    return [
        el.attrib["fill"]
        for el in parse(svg).iter(f"{SVG}text")
        if el.attrib.get("aria-hidden") != "true"
    ]


def test_an_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="for-the-badge"):
        render_badge_svg("x", "y", "red", "plastic")


def test_characters_xml_cannot_carry_are_dropped() -> None:
    root = parse(render_badge_svg("a\x00b\x1bc\ud800", "line\nbreak", "red"))
    assert visible_texts(root) == ["abc", "line break"]


@settings(max_examples=150, deadline=None)
@given(label=st.text(max_size=40), message=st.text(max_size=40), style=st.sampled_from(STYLES))
def test_any_text_yields_well_formed_badge_markup(label: str, message: str, style: str) -> None:
    root = parse(render_badge_svg(label, message, "blue", style))
    assert_only_badge_markup(root)
    assert float(root.attrib["width"]) > 0


@settings(max_examples=150, deadline=None)
@given(
    label=st.text(st.characters(codec="utf-8", exclude_categories=BLANK_OR_INVALID), min_size=1),
    message=st.text(st.characters(codec="utf-8", exclude_categories=BLANK_OR_INVALID), min_size=1),
)
def test_printable_text_round_trips(label: str, message: str) -> None:
    root = parse(render_badge_svg(label, message, "blue"))
    assert root.find(f"{SVG}title").text == f"{label}: {message}"
    assert visible_texts(root) == [label, message]


def test_etag_is_strong_and_follows_the_body() -> None:
    svg = render_badge_svg("x", "up", "brightgreen")
    tag = etag_for(svg)
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag == etag_for(svg.encode())
    assert tag != etag_for(render_badge_svg("x", "down", "red"))


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("up", ("up", "brightgreen")),
        ("degraded", ("degraded", "yellow")),
        ("down", ("down", "red")),
        ("maintenance", ("maintenance", "blue")),
        ("pending", ("pending", "lightgrey")),
        ("paused", ("paused", "lightgrey")),
        ("exploded", ("unknown", "lightgrey")),
    ],
)
def test_status_badge(state: str, expected: tuple[str, str]) -> None:
    assert status_badge(state) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("operational", ("operational", "brightgreen")),
        ("degraded", ("degraded", "yellow")),
        ("partial_outage", ("partial outage", "orange")),
        ("major outage", ("major outage", "red")),
        ("maintenance", ("maintenance", "blue")),
    ],
)
def test_overall_badge(state: str, expected: tuple[str, str]) -> None:
    assert overall_badge(state) == expected


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (1.0, ("100%", "brightgreen")),
        (0.9995, ("99.95%", "brightgreen")),
        (0.999, ("99.90%", "brightgreen")),
        (0.99899, ("99.89%", "green")),
        (0.99, ("99.00%", "green")),
        (0.9899, ("98.99%", "yellow")),
        (0.95, ("95.00%", "yellow")),
        (0.9, ("90.00%", "orange")),
        (0.8999, ("89.99%", "red")),
        (0.0, ("0.00%", "red")),
        (None, ("no data", "lightgrey")),
        (float("nan"), ("no data", "lightgrey")),
    ],
)
def test_uptime_badge(fraction: float | None, expected: tuple[str, str]) -> None:
    assert uptime_badge(fraction) == expected


@given(st.floats(min_value=0.0, max_value=1.0))
def test_uptime_is_never_shown_higher_than_it_was(fraction: float) -> None:
    message, _ = uptime_badge(fraction)
    assert Decimal(message.rstrip("%")) <= Decimal(repr(fraction)) * 100
    assert message != "100%" or fraction == 1.0


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (3.21, ("3.2 ms", "brightgreen")),
        (123.4, ("123 ms", "brightgreen")),
        (199.9, ("200 ms", "brightgreen")),
        (200, ("200 ms", "green")),
        (499, ("499 ms", "green")),
        (500, ("500 ms", "yellow")),
        (1000, ("1000 ms", "orange")),
        (2000, ("2000 ms", "red")),
        (None, ("no data", "lightgrey")),
        (-1, ("no data", "lightgrey")),
    ],
)
def test_latency_badge(ms: float | None, expected: tuple[str, str]) -> None:
    assert latency_badge(ms) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (90, ("90 days", "brightgreen")),
        (31, ("31 days", "brightgreen")),
        (30, ("30 days", "yellow")),
        (15, ("15 days", "yellow")),
        (14, ("14 days", "orange")),
        (8, ("8 days", "orange")),
        (7, ("7 days", "red")),
        (1, ("1 day", "red")),
        (0, ("expires today", "red")),
        (-3, ("expired", "red")),
        (None, ("no data", "lightgrey")),
    ],
)
def test_cert_badge(days: int | None, expected: tuple[str, str]) -> None:
    assert cert_badge(days) == expected


@pytest.mark.parametrize(
    "badge",
    [status_badge("up"), uptime_badge(0.97), latency_badge(812.0), cert_badge(None)],
)
def test_shields_endpoint_json_follows_the_schema(badge: tuple[str, str]) -> None:
    body = json.loads(json.dumps(shields_endpoint_json("api", *badge)))
    assert set(body) == {"schemaVersion", "label", "message", "color"}
    assert body["schemaVersion"] == 1
    assert all(isinstance(body[key], str) for key in ("label", "message", "color"))
    assert body["message"] == badge[0] and body["color"] == badge[1]
