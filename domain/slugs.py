"""URL-safe monitor names for badge and API paths.

A slug is runs of lowercase ASCII letters and digits joined by single hyphens, at most
SLUG_MAX_LENGTH long (plus a numbered suffix, see slug_candidates): safe in a URL path without
quoting. It is made from the monitor's name once, when the monitor is created; a name that
yields none (only emoji, say) gets FALLBACK_SLUG.
"""

import re
import unicodedata
from collections.abc import Iterator

SLUG_MAX_LENGTH = 60
FALLBACK_SLUG = "monitor"

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slugify(name: str) -> str:
    """`name` as a slug: accents dropped, every other run of non-alphanumerics one hyphen,
    cut to SLUG_MAX_LENGTH; "" when nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")
    return slug[:SLUG_MAX_LENGTH].strip("-")


def is_slug(text: str) -> bool:
    """Whether `text` has a slug's shape (what slugify returns, or one of its numbered
    variants); says nothing of whether a monitor has it."""
    return _SLUG.fullmatch(text) is not None


def slug_candidates(name: str) -> Iterator[str]:
    """The slugs a new monitor called `name` may take, in order of preference: its own, then
    numbered ones (`api`, `api-2`, `api-3`, …) for as long as the caller finds them taken.
    A numbered slug runs past SLUG_MAX_LENGTH by its suffix (storage's column holds 64)."""
    base = slugify(name) or FALLBACK_SLUG
    yield base
    n = 2
    while True:
        yield f"{base}-{n}"
        n += 1
