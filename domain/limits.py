"""The limits every value entering Upwatch is held to, and the small validators that apply them.

The REST API, the dashboard's forms and the monitors file all reach the database through the
models of `domain.monitor_input` and `domain.check_options`, which use the types below; forms
without a model (maintenance windows, incidents) call `checked_line` / `checked_text` and the
number, date and zone checks. So a rule reads the same wherever a value comes in. Each check
raises ValueError with a sentence to show next to the field (pydantic turns it into that
field's error), or InvalidInput naming the field.

Why each limit exists: bounded sizes keep one request from filling the database or a page;
control and bidi-override characters in a name would hide or reorder what a visitor reads (and
PostgreSQL refuses NUL outright); NaN and Infinity are not JSON, so a stored one breaks every
later answer that shows it; and dates near year 1 or 9999 overflow as soon as a time zone or a
month boundary is applied to them.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AllowInfNan, BeforeValidator, SecretStr, ValidationInfo

# --- the limits -------------------------------------------------------------------------------

MAX_REQUEST_BODY_BYTES = 64 * 1024  # refused before parsing, 413
MAX_MONITORS_FILE_BYTES = 1024 * 1024
MAX_NESTING_DEPTH = 10  # a monitor body needs 3 levels, a monitors file 5
MAX_DOCUMENT_VALUES = 100_000  # YAML aliases count each time they are used
MAX_NAME_CHARS = 100  # monitor.name is VARCHAR(100)
MAX_TITLE_CHARS = 200  # incident.title and maintenance_window.title are VARCHAR(200)
MAX_GROUP_CHARS = 100
MAX_URL_CHARS = 2048
MAX_LINE_CHARS = 4096  # keywords, user names, expected values: one-line option text
MAX_TEXT_CHARS = 10_000  # descriptions, incident updates, request bodies
# A monitor's CA bundle, client certificate or key (PEM): a chain of a few certificates fits
# many times over, and the whole monitor still fits in one API request.
MAX_PEM_CHARS = 48 * 1024
MAX_HEADERS = 50
MAX_HEADER_CHARS = 8192  # a header's name, and its value, each
MAX_LIST_ITEMS = 50  # accepted status codes and other short lists
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_CRON_CHARS = 100
MAX_TIME_ZONE_CHARS = 64  # the longest IANA name has 32; maintenance_window.timezone holds 64
MIN_PORT, MAX_PORT = 1, 65_535
# Upwatch records what it saw while running: a date outside these is a typo, and staying well
# inside datetime's range leaves room for time zones and month arithmetic.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)


class InvalidInput(Exception):
    """Bad input, as a message per field, ready to show next to the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = errors


# --- characters -------------------------------------------------------------------------------

# Embeddings, overrides and isolates: they reorder the text after them as a reader sees it.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SEPARATORS = frozenset("\u2028\u2029")
_MULTI_LINE_WHITESPACE = frozenset("\t\n\r")


def _is_control(char: str) -> bool:
    return char < " " or "\x7f" <= char <= "\x9f"  # C0, DEL and C1


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    if char in BIDI_CONTROLS:
        return f"a text-direction control (U+{ord(char):04X} {name})"
    if char in _LINE_SEPARATORS or char in "\r\n":
        return f"a line break (U+{ord(char):04X})"
    return f"a control character (U+{ord(char):04X})"


def text_problem(text: str, max_chars: int, *, multi_line: bool = False,
                 subject: str = "the text") -> str | None:
    """What is wrong with `text` as one line (or, with multi_line, as a text) of at most
    `max_chars` characters, or None. The message never quotes the text: it may be a secret."""
    if len(text) > max_chars:
        return f"{subject} has {len(text):,} characters: use at most {max_chars:,}"
    for position, char in enumerate(text, start=1):
        allowed = multi_line and char in _MULTI_LINE_WHITESPACE
        if not allowed and (_is_control(char) or char in BIDI_CONTROLS
                            or (not multi_line and char in _LINE_SEPARATORS)):
            kind = "text" if multi_line else "one line of visible text"
            return f"{subject} holds {_describe(char)} at position {position}: remove it " \
                f"(write {kind})"
    return None


def _text_rule(max_chars: int, multi_line: bool) -> Callable[[str, ValidationInfo], str]:
    def check(text: str, info: ValidationInfo) -> str:
        # The field is named in the sentence too: nested options are shown far from the form.
        subject = f"the {info.field_name.replace('_', ' ')}" if info.field_name else "the text"
        problem = text_problem(text, max_chars, multi_line=multi_line, subject=subject)
        if problem:
            raise ValueError(problem)
        return text
    return check


def _secret_rule(text: Any, info: ValidationInfo) -> Any:
    raw = text.get_secret_value() if isinstance(text, SecretStr) else text
    if isinstance(raw, str):
        _text_rule(MAX_LINE_CHARS, multi_line=False)(raw, info)
    return text


def _secret_pem_rule(text: Any, info: ValidationInfo) -> Any:
    raw = text.get_secret_value() if isinstance(text, SecretStr) else text
    if isinstance(raw, str):
        _text_rule(MAX_PEM_CHARS, multi_line=True)(raw, info)
    return text


# One line of visible text: no control, line-break or bidi-override characters, bounded.
Name = Annotated[str, AfterValidator(_text_rule(MAX_NAME_CHARS, multi_line=False))]
UrlText = Annotated[str, AfterValidator(_text_rule(MAX_URL_CHARS, multi_line=False))]
SingleLineText = Annotated[str, AfterValidator(_text_rule(MAX_LINE_CHARS, multi_line=False))]
# Tabs and line breaks allowed; other control characters (NUL above all) are not.
MultiLineText = Annotated[str, AfterValidator(_text_rule(MAX_TEXT_CHARS, multi_line=True))]
SecretLine = Annotated[SecretStr, BeforeValidator(_secret_rule)]
# PEM text (certificates, and a private key kept secret), held to MAX_PEM_CHARS.
PemText = Annotated[str, AfterValidator(_text_rule(MAX_PEM_CHARS, multi_line=True))]
SecretPem = Annotated[SecretStr, BeforeValidator(_secret_pem_rule)]
FiniteFloat = Annotated[float, AllowInfNan(False)]


def checked_line(field: str, value: object, max_chars: int, *, missing: str | None = None) -> str:
    """`value` as a stripped single line of text, or InvalidInput({field: what to fix}).

    With `missing`, a blank value is refused with that sentence. For forms that do not go
    through a pydantic model (incidents, maintenance windows).
    """
    return _checked(field, value, max_chars, missing, multi_line=False)


def checked_text(field: str, value: object, max_chars: int = MAX_TEXT_CHARS, *,
                 missing: str | None = None) -> str:
    """Like checked_line, for text that may span lines (descriptions, timeline messages)."""
    return _checked(field, value, max_chars, missing, multi_line=True)


def _checked(field: str, value: object, max_chars: int, missing: str | None,
             multi_line: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput({field: "enter text"})
    text = (value or "").strip()
    if not text and missing:
        raise InvalidInput({field: missing})
    problem = text_problem(text, max_chars, multi_line=multi_line, subject=f"the {field}")
    if problem:
        raise InvalidInput({field: problem})
    return text


# --- numbers, ports, dates, time zones --------------------------------------------------------


def finite_number(value: object) -> float | None:
    """`value` as a finite float, or None when it is not a number (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range
        return None
    return number if math.isfinite(number) else None


def finite_everywhere(value: Any) -> Any:
    """`value` with every NaN or infinity inside it (dicts, lists) replaced by None: what an
    answer may carry even when a row was stored before non-finite numbers were refused."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_everywhere(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_everywhere(item) for item in value]
    return value


def parse_port(text: str) -> int:
    """A port number from text, or ValueError."""
    if not text.isascii() or not text.isdigit() or len(text) > 5 \
            or not MIN_PORT <= int(text) <= MAX_PORT:
        raise ValueError(f"'{text[:10]}' is not a valid port number ({MIN_PORT}-{MAX_PORT})")
    return int(text)


def check_port(port: int) -> int:
    if not MIN_PORT <= port <= MAX_PORT:
        raise ValueError(f"{port} is not a valid port number ({MIN_PORT}-{MAX_PORT})")
    return port


def check_date(day: date) -> date:
    """`day` when it lies within EARLIEST_DATE..LATEST_DATE, else ValueError."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"choose a date between {EARLIEST_DATE} and {LATEST_DATE}")
    return day


def parse_time_zone(name: str) -> ZoneInfo:
    """An IANA time zone by name, or ValueError saying what to write instead."""
    problem = f"unknown time zone {name[:MAX_TIME_ZONE_CHARS]!r}: use an IANA name like " \
        "Europe/Berlin"
    if not name or len(name) > MAX_TIME_ZONE_CHARS or text_problem(name, MAX_TIME_ZONE_CHARS):
        raise ValueError(problem)
    try:
        return ZoneInfo(name)
    # OSError: a name the file system refuses (too long, a directory such as 'Europe').
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(problem) from None


# --- documents (JSON bodies, the monitors file) -----------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number: send a finite number")


def load_json(raw: bytes | str) -> Any:
    """Strict JSON: NaN and ±Infinity are refused (Python's json reads them by default), and so
    is nesting deeper than MAX_NESTING_DEPTH. ValueError with a sentence otherwise."""
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError(f"nest at most {MAX_NESTING_DEPTH} levels deep") from None
    except ValueError as exc:
        message = str(exc) if "JSON number" in str(exc) else "send a JSON object"
        raise ValueError(message) from None
    check_document_shape(document)
    return document


def check_document_shape(document: object) -> None:
    """ValueError when `document` nests deeper than MAX_NESTING_DEPTH or holds more than
    MAX_DOCUMENT_VALUES values (counting a YAML alias each time it is used; a cycle is too deep).
    """
    stack: list[tuple[object, int]] = [(document, 1)]
    counted = 1
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, dict | list | tuple | set):
            continue
        if depth > MAX_NESTING_DEPTH:
            raise ValueError(f"nest at most {MAX_NESTING_DEPTH} levels deep")
        children = [*value.keys(), *value.values()] if isinstance(value, dict) else list(value)
        counted += len(children)  # counted before stacking: the stack stays as small
        if counted > MAX_DOCUMENT_VALUES:
            raise ValueError(f"hold at most {MAX_DOCUMENT_VALUES:,} values")
        stack.extend((child, depth + 1) for child in children)
