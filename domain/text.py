"""User text made safe for the place it is shown: a feed (XML), a page, Markdown a browser renders.

Names, titles and updates reach the public answers from many doors (the form, the API, the
monitors file, a database written by an older version), so they are cleaned where they go out,
not only where they come in:
- `clean_text` drops what no reader should get: control characters (one \\x01 in a monitor's name
  made lxml refuse the whole feed) and the bidi controls that reorder the text after them;
- `xml_safe` is that, for XML;
- `safe_markdown` keeps an incident update's Markdown but not its images (a visitor's browser
  would fetch them from anywhere) nor links to `javascript:`, `data:` and other schemes that run
  or carry content instead of pointing to a page.
"""

from __future__ import annotations

import html
import re

from domain.limits import BIDI_CONTROLS

# C0 controls but tab and newline, DEL and the C1 controls; XML 1.0 cannot carry most of them, and
# readers that accept the others draw boxes. Lone surrogates and U+FFFE/U+FFFF are no characters.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Embeddings, overrides and isolates: an unterminated one turns what follows it around (a title
# "\u202eevil" shown next to "· resolved ..." reverses that too). The marks (U+200E, U+200F)
# change no order and stay.
# The set the input rule refuses (domain/limits), removed here on the way out.
_BIDI_CONTROLS = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_LINE_ENDS = re.compile("\r\n?")

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Where CommonMark reads a link's destination: after "](" (an inline link or image) and after
# "]:" (a reference definition), past spaces and at most one line end, and inside "<...>".
# Only its start decides where it leads: a "#" put there makes any destination a fragment of
# this page, so the destination's end (balanced parentheses, spaces in brackets) never matters.
_DESTINATION_START = re.compile(r"(?:\]\(|\]:)[ \t]*(?:\n[ \t]*)?<?")
# An autolink: "<scheme:anything but ASCII spaces, controls or angle brackets>".
_AUTOLINK = re.compile(r"<(?P<to>[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\x00-\x20<>]*)>")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
# What a browser ignores in a URL before reading its scheme: tabs and line ends anywhere, spaces
# and controls around it. All of them are left out here: reading a scheme where there is none
# only costs a "#".
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")
# An image is "![" then a link; without its "!"s ("!![" would leave one) it is that link.
_IMAGE_OPENER = re.compile(r"!+\[")


def clean_text(text: str) -> str:
    """User text as any page or feed may show it: line breaks kept (as newlines), control
    characters, bidi embeddings, overrides and isolates, and non-characters left out."""
    return _BIDI_CONTROLS.sub("", _CONTROLS.sub("", _LINE_ENDS.sub("\n", text)))


def single_line(text: str) -> str:
    """`clean_text` as one line: every run of whitespace, line breaks included, one space."""
    return " ".join(clean_text(text).split())


def xml_safe(text: str) -> str:
    """Text an XML document (a feed) can carry: `clean_text` leaves out every character XML 1.0
    refuses, so a serialiser such as lxml never fails on it."""
    return clean_text(text)


def is_safe_url(destination: str) -> bool:
    """Whether a link's destination, as written in Markdown (character references and
    backslash escapes included), leads to a page: no scheme (a path or fragment on this site),
    or http, https or mailto."""
    decoded = html.unescape(_ESCAPED.sub(r"\1", destination))
    match = _SCHEME.match(_IGNORED_IN_URL.sub("", decoded).lower())
    return match is None or match.group(1) in SAFE_SCHEMES


def _neutral_destination(match: re.Match[str]) -> str:
    line_end = match.string.find("\n", match.end())
    rest_of_line = match.string[match.end():line_end if line_end >= 0 else None]
    return match.group(0) if is_safe_url(rest_of_line) else match.group(0) + "#"


def _neutral_autolink(match: re.Match[str]) -> str:
    # Angle brackets as character references: shown as typed, but no autolink. Neither a
    # backslash (after another backslash it is escaped itself) nor dropping the brackets (the
    # "<" before would open another) would do.
    return match.group(0) if is_safe_url(match.group("to")) else f"&lt;{match.group('to')}&gt;"


def safe_markdown(text: str) -> str:
    """An incident update's Markdown as visitors get it: cleaned text, every image turned into a
    link to it (nothing is fetched unless a visitor follows it), and links with another scheme
    than http, https or mailto made links to a fragment of the page ("#javascript:...") or,
    written as <autolinks>, plain text.

    Destinations are looked for wherever CommonMark could read one, also inside code, where a
    "#" then shows: a false alarm changes how an update reads, a miss would run code."""
    text = _IMAGE_OPENER.sub("[", clean_text(text))
    text = _DESTINATION_START.sub(_neutral_destination, text)
    return _AUTOLINK.sub(_neutral_autolink, text)


def without_credentials(url: str) -> str:
    """A URL as it may be published: any user name and password in it removed (older rows may
    hold them; new ones are refused at input)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    host = authority.rpartition("@")[2]
    return f"{scheme}{sep}{host}{slash}{path}"
