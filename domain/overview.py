"""The operator's overview: one row per monitor, the order rows come in, and the filters.

What needs a person comes first: down monitors, then degraded ones, then everything else by
name. A filter keeps the rows matching every part given (search text, states, groups, tags,
visibility); an empty part keeps everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Visibility = Literal["all", "public", "private"]
VISIBILITIES: tuple[Visibility, ...] = ("all", "public", "private")
NO_GROUP = "(no group)"  # how a monitor without a group is named in the group filter

# The states that need a person, most urgent first; every other state ranks after them.
ATTENTION_ORDER: tuple[str, ...] = ("down", "degraded")


@dataclass(frozen=True, slots=True)
class OverviewRow:
    """What the overview shows of one monitor."""

    slug: str
    name: str
    state: str  # effective: paused outranks the stored state
    group: str | None
    tags: tuple[str, ...]
    url: str
    public: bool
    uptime_24h: float | None  # fraction 0..1; None: nothing observed
    uptime_30d: float | None
    p95_24h_ms: float | None  # successful checks in the last 24 hours
    last_latency_ms: float | None
    cert_days_left: int | None  # None: not a TLS monitor, or no certificate seen yet
    last_check_at: datetime | None
    reason: str | None
    latency_24h: tuple[float | None, ...] = field(default=())  # p95 per hour, oldest first


@dataclass(frozen=True, slots=True)
class OverviewFilter:
    """What the operator narrowed the overview to (kept in the page's query parameters)."""

    text: str = ""
    states: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    visibility: Visibility = "all"

    @property
    def is_empty(self) -> bool:
        return self == OverviewFilter()


def attention_rank(state: str) -> int:
    """Where a state sorts: down first, degraded next, the rest after."""
    return ATTENTION_ORDER.index(state) if state in ATTENTION_ORDER else len(ATTENTION_ORDER)


def in_attention_order(rows: Iterable[OverviewRow]) -> list[OverviewRow]:
    return sorted(rows, key=lambda r: (attention_rank(r.state), r.name.casefold(), r.slug))


def matches(row: OverviewRow, wanted: OverviewFilter) -> bool:
    text = wanted.text.strip().casefold()
    if text and not any(text in value.casefold() for value in (row.name, row.url, *row.tags)):
        return False
    if wanted.states and row.state not in wanted.states:
        return False
    if wanted.groups and (row.group or NO_GROUP) not in wanted.groups:
        return False
    if wanted.tags and not wanted.tags.intersection(row.tags):
        return False
    if wanted.visibility == "public":
        return row.public
    if wanted.visibility == "private":
        return not row.public
    return True


def filtered(rows: Sequence[OverviewRow], wanted: OverviewFilter) -> list[OverviewRow]:
    return [row for row in rows if matches(row, wanted)]


def group_choices(rows: Iterable[OverviewRow]) -> list[str]:
    return sorted({row.group or NO_GROUP for row in rows}, key=str.casefold)


def tag_choices(rows: Iterable[OverviewRow]) -> list[str]:
    return sorted({tag for row in rows for tag in row.tags}, key=str.casefold)
