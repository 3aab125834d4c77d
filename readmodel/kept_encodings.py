"""The serialised form of each item of the last snapshot, reused while the item is unchanged.

Serialising every component on every rebuild (pickling a frozen dataclass runs Python code per
object; a JSON row of 90 days formats 90 texts) cost most of a warm rebuild at 1,000 monitors,
although a rebuild usually follows one monitor's new result. A part of the snapshot (the
components' pickles, the status JSON's components, the board's rows) now keeps each item's
bytes with the item they were made from, and makes them again only for an item that differs.

Each item comes with its version: the values its bytes are made of (for a component, every
field but its bars, `storage.status.facts_without_bars`), compared with `==`. The items are
frozen values built fresh on every read, so comparing what they hold is the only version that
is never wrong; it costs a few microseconds per item, where serialising one costs tens to
hundreds. Numbers that move with the clock (an uptime with downtime in its window) are a
change, and are serialised again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class KeptEncodings(Generic[Item]):
    """`encode(item)` per key, remembered with the version of the item it was made from."""

    def __init__(self, encode: Callable[[Item], bytes]) -> None:
        self._encode = encode
        self._kept: dict[Hashable, tuple[object, bytes]] = {}
        # The keys the last call encoded (all others were reused): what the tests look at.
        self.last_encoded: list[Hashable] = []

    def encoded(self, items: Iterable[tuple[Hashable, object, Item]]) -> list[bytes]:
        """Each (key, version, item)'s bytes, in order: the kept ones when the version equals
        the one they were made from, else made now (an item that fails to encode raises, and
        is not kept)."""
        answer, encoded, seen = [], [], 0
        for key, version, item in items:
            seen += 1
            kept = self._kept.get(key)
            if kept is not None and kept[0] == version:
                # Keep the newer, equal version: the next comparison then meets the same
                # objects (an identity check) instead of equal copies compared field by field.
                self._kept[key] = (version, kept[1])
                answer.append(kept[1])
                continue
            body = self._encode(item)
            self._kept[key] = (version, body)
            encoded.append(key)
            answer.append(body)
        if len(self._kept) > 2 * seen + 64:  # items were removed, or a partial build ran
            self._kept.clear()
        self.last_encoded = encoded
        return answer

    def forget(self) -> None:
        self._kept.clear()
