"""One immutable copy of the public status, and the complete answers built from it.

A snapshot holds what the hot routes read: the public components (without their 90 daily bars,
which only the status page draws), the overall state, and the status JSON and feeds already
serialised. The `PublicStatus` the status page shows comes as pickled bytes (its components
without bars) and is only unpickled when something asks for it, so installing a snapshot costs
the web process little; the page's components come ready for the browser (readmodel/board_payload).

The complete answers to requests seen before are kept with the snapshot, so that web/fast_paths
can send them without routing. They are kept by what the route read from the request (its
path and the parameters it knows, normalised: see web/badges and web/status_api), never by the
raw query string, so parameters a route ignores or their order cannot add entries. Each comes
with the recipe that made it: when a new snapshot replaces this one, the recipes run again
against it (off the event loop, see ReadModel.install), so a request seen before is still
answered from memory after the change, with the new value.
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storage.status import PublicComponent, PublicStatus

if TYPE_CHECKING:
    from readmodel.metrics_exposition import MetricsBodies
    from readmodel.prepared import PreparedResponse

# Labels come from requests: bound what one snapshot keeps, whatever visitors send, in entries
# and in bytes (an estimate: keys, bodies, and what a kept entry costs beside them).
MAX_ANSWERS = 20_000
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# Measured with tracemalloc: an entry's dict slot, key tuple and recipe beside its key's text,
# and a prepared answer's encoded headers and ETag beside its body.
ENTRY_OVERHEAD_BYTES = 400
ANSWER_OVERHEAD_BYTES = 1_100
# Answers carried over to the next snapshot, first seen first: real badges are asked for again
# soon after each change, while a flood of odd query strings only adds at the end.
MAX_CARRIED_ANSWERS = 5_000

# Makes the answer to one exact request from a snapshot; None when the request now gets a 404.
Recipe = Callable[["StatusSnapshot"], "PreparedResponse | None"]
# What a route read from a request: its path, then the normalised values of its parameters.
AnswerKey = tuple[str | None, ...]


class RememberedAnswers:
    """The answers one snapshot keeps, by AnswerKey, within MAX_ANSWERS and MAX_ANSWER_BYTES."""

    __slots__ = ("_entries", "size_bytes")

    def __init__(self) -> None:
        self._entries: dict[AnswerKey, tuple[PreparedResponse, Recipe]] = {}
        self.size_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: AnswerKey) -> PreparedResponse | None:
        kept = self._entries.get(key)
        return None if kept is None else kept[0]

    def keep(self, key: AnswerKey, answer: PreparedResponse, recipe: Recipe) -> bool:
        """Whether it is kept (not when the bounds are reached; an entry already kept stays)."""
        if key in self._entries:
            return True
        size = _entry_bytes(key, answer)
        if len(self._entries) >= MAX_ANSWERS or self.size_bytes + size > MAX_ANSWER_BYTES:
            return False
        self._entries[key] = (answer, recipe)
        self.size_bytes += size
        return True

    def recipes(self, limit: int) -> list[tuple[AnswerKey, Recipe]]:
        """The first `limit` keys and recipes, first kept first."""
        return [(key, recipe) for key, (_, recipe) in list(self._entries.items())[:limit]]


def answer_bytes(answer: PreparedResponse) -> int:
    """About what one prepared answer holds in memory."""
    return ANSWER_OVERHEAD_BYTES + len(answer.body)


def _entry_bytes(key: AnswerKey, answer: PreparedResponse) -> int:
    # Answers are often shared (one rendered badge for many keys), but are counted for each.
    return ENTRY_OVERHEAD_BYTES + sum(len(part or "") for part in key) + answer_bytes(answer)


class PickledStatus:
    """A `PublicStatus` kept as pickled bytes until it is first asked for. Its components come
    apart (the snapshot's, already unpickled for the badges) when the pickle has none."""

    __slots__ = ("_components", "_lock", "_pickled", "_status")

    def __init__(self, pickled: bytes, components: tuple[PublicComponent, ...] = ()) -> None:
        self._pickled: bytes | None = pickled
        self._components = components
        self._status: PublicStatus | None = None
        self._lock = threading.Lock()

    def get(self) -> PublicStatus:
        with self._lock:  # two page sessions at once unpickle it once
            if self._status is None:
                assert self._pickled is not None
                status: PublicStatus = pickle.loads(self._pickled)
                if self._components and not status.components:
                    status = dataclasses.replace(status, components=self._components)
                self._status = status
                self._pickled = None
                self._components = ()
            return self._status


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    components: dict[str, PublicComponent] = field(default_factory=dict)  # by slug, no bars
    overall: str = "operational"
    built_at: float = 0.0  # 0: nothing built yet
    status_json: PreparedResponse | None = None
    feeds: dict[str, PreparedResponse] = field(default_factory=dict)  # by kind (atom, rss)
    pickled_status: PickledStatus | None = field(default=None, repr=False, compare=False)
    board: bytes = field(default=b"", repr=False, compare=False)  # readmodel/board_payload
    # /metrics (readmodel/metrics_exposition): private monitors too, sent only with the token.
    metrics: MetricsBodies | None = field(default=None, repr=False, compare=False)
    answers: RememberedAnswers = field(default_factory=RememberedAnswers, repr=False,
                                       compare=False)

    @property
    def known(self) -> bool:
        """False until the first snapshot is built: public answers are not known yet."""
        return self.pickled_status is not None

    @property
    def status(self) -> PublicStatus | None:
        """What the status page shows, its components without their day bars (unpickled on
        first use, then kept). The page's board of components, bars included, is `board`."""
        return None if self.pickled_status is None else self.pickled_status.get()

    def remember_answer(self, key: AnswerKey, answer: PreparedResponse, recipe: Recipe) -> None:
        """Keep what a route answered to a GET, by what it read from the request, on this
        snapshot, with the recipe that makes the same answer from a later snapshot."""
        self.answers.keep(key, answer, recipe)

    def answer_for(self, key: AnswerKey) -> PreparedResponse | None:
        return self.answers.get(key)

    def carry_answers_from(self, older: StatusSnapshot) -> None:
        """Make, from this snapshot, the answers `older` had remembered (before this one is
        served, so none of them is stale)."""
        for key, recipe in older.answers.recipes(MAX_CARRIED_ANSWERS):
            answer = recipe(self)
            if answer is not None:
                self.answers.keep(key, answer, recipe)
