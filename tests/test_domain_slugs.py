"""Slugs: what a name becomes, what has a slug's shape, and the slugs a new monitor may take."""

from __future__ import annotations

from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.slugs import FALLBACK_SLUG, SLUG_MAX_LENGTH, is_slug, slug_candidates, slugify


@pytest.mark.parametrize(("name", "slug"), [
    ("API", "api"),
    ("Main website", "main-website"),
    ("  Hello,  World!  ", "hello-world"),
    ("x--y__z", "x-y-z"),
    ("Café Zürich", "cafe-zurich"),  # accents dropped, letters kept
    ("ＡＢＣ 123", "abc-123"),  # full-width letters read as their ASCII selves
    ("🚀", ""),  # nothing left: the caller picks FALLBACK_SLUG
    ("a" * 70, "a" * 60),
    ("a" * 59 + " b", "a" * 59),  # cut at 60, then no trailing hyphen
])
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


@given(st.text())
def test_slugify_gives_a_slug_or_nothing(name: str) -> None:
    slug = slugify(name)
    assert slug == "" or is_slug(slug)
    assert len(slug) <= SLUG_MAX_LENGTH


@pytest.mark.parametrize(("text", "shaped"), [
    ("api", True),
    ("api-2", True),
    ("a-b-c", True),
    ("0", True),
    ("", False),
    ("-api", False),
    ("api-", False),
    ("a--b", False),
    ("API", False),
    ("a_b", False),
    ("a/b", False),
    ("café", False),
])
def test_is_slug(text: str, shaped: bool) -> None:
    assert is_slug(text) is shaped


@pytest.mark.parametrize(("name", "first"), [
    ("API server", ["api-server", "api-server-2", "api-server-3"]),
    ("🚀", [FALLBACK_SLUG, f"{FALLBACK_SLUG}-2", f"{FALLBACK_SLUG}-3"]),
])
def test_slug_candidates(name: str, first: list[str]) -> None:
    assert list(islice(slug_candidates(name), 3)) == first


def test_the_fallback_slug_is_monitor() -> None:
    assert FALLBACK_SLUG == "monitor"
