"""One immutable copy of the public status, and the complete answers built from it.

A snapshot holds what the hot routes read: the public components (without their 90 daily bars,
which only the status page draws), the overall state, and the status JSON and feeds already
serialised. The `PublicStatus` the status page shows comes as pickled bytes (its components
without bars) and is only unpickled when something asks for it, so installing a snapshot costs
the web process little; the page's components come ready for the browser (readmodel/board_payload).

The complete answers to exact requests (path and raw query string) are kept with the snapshot,
so that web/fast_paths can send them without routing or parsing anything. Each comes with the
recipe that made it: when a new snapshot replaces this one, the recipes run again against it
(off the event loop, see ReadModel.install), so a request seen before is still answered from
memory after the change, with the new value.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storage.status import PublicComponent, PublicStatus

if TYPE_CHECKING:
    from starlette.types import Scope

    from readmodel.prepared import PreparedResponse

# Labels come from requests: bound what one snapshot keeps, whatever visitors send.
MAX_ANSWERS = 20_000
# Answers carried over to the next snapshot, first seen first: real badges are asked for again
# soon after each change, while a flood of odd query strings only adds at the end.
MAX_CARRIED_ANSWERS = 5_000

# Makes the answer to one exact request from a snapshot; None when the request now gets a 404.
Recipe = Callable[["StatusSnapshot"], "PreparedResponse | None"]


class PickledStatus:
    """A `PublicStatus` kept as pickled bytes until it is first asked for."""

    __slots__ = ("_lock", "_pickled", "_status")

    def __init__(self, pickled: bytes) -> None:
        self._pickled: bytes | None = pickled
        self._status: PublicStatus | None = None
        self._lock = threading.Lock()

    def get(self) -> PublicStatus:
        with self._lock:  # two page sessions at once unpickle it once
            if self._status is None:
                assert self._pickled is not None
                self._status = pickle.loads(self._pickled)
                self._pickled = None
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
    _answers: dict[tuple[str, bytes], tuple[PreparedResponse, Recipe]] = field(
        default_factory=dict, repr=False, compare=False)

    @property
    def known(self) -> bool:
        """False until the first snapshot is built: public answers are not known yet."""
        return self.pickled_status is not None

    @property
    def status(self) -> PublicStatus | None:
        """What the status page shows, its components without their day bars (unpickled on
        first use, then kept). The page's board of components, bars included, is `board`."""
        return None if self.pickled_status is None else self.pickled_status.get()

    def remember_answer(self, scope: Scope, answer: PreparedResponse, recipe: Recipe) -> None:
        """Keep what a route answered to this GET (path and raw query string) on this snapshot,
        with the recipe that makes the same answer from a later snapshot."""
        if len(self._answers) < MAX_ANSWERS:
            self._answers[(scope["path"], scope["query_string"])] = (answer, recipe)

    def answer_for(self, scope: Scope) -> PreparedResponse | None:
        kept = self._answers.get((scope["path"], scope["query_string"]))
        return None if kept is None else kept[0]

    def carry_answers_from(self, older: StatusSnapshot) -> None:
        """Make, from this snapshot, the answers `older` had remembered (before this one is
        served, so none of them is stale)."""
        for key, (_, recipe) in list(older._answers.items())[:MAX_CARRIED_ANSWERS]:
            answer = recipe(self)
            if answer is not None:
                self._answers[key] = (answer, recipe)
