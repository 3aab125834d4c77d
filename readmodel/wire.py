"""A snapshot as bytes: built where the rebuild's CPU does not stall the web server, installed
cheaply where it serves.

`pack_snapshot` runs where the snapshot is built (readmodel/builder_process's process): it reads the
public status and serialises everything that does not depend on a request (the status JSON, the
feeds, and the status page's board of components). `unpack_snapshot` runs in the web process. It
does as little as possible, in small steps: each component is unpickled on its own, without its
daily bars, and the status (without bars too: the page gets them in the board's payload) only
when the status page asks for it. Pickling frozen dataclasses calls Python code per object, so
the thread doing it hands the GIL back to the event loop between objects.
"""

from __future__ import annotations

import dataclasses
import pickle
import time
from dataclasses import dataclass

from readmodel.board_payload import board_payload
from readmodel.feeds import CACHE_CONTROL as FEED_CACHE_CONTROL
from readmodel.feeds import MEDIA_TYPES as FEED_MEDIA_TYPES
from readmodel.feeds import feed_body
from readmodel.prepared import PreparedResponse, etag_for
from readmodel.snapshot import PickledStatus, StatusSnapshot
from readmodel.status_document import CACHE_CONTROL as STATUS_CACHE_CONTROL
from readmodel.status_document import status_json_body
from storage.status import PublicStatus, public_status


@dataclass(frozen=True)
class PackedSnapshot:
    built_at: float
    overall: str
    components: tuple[bytes, ...]  # each a pickled PublicComponent without bars
    status: bytes  # the pickled PublicStatus, its components without bars
    board: bytes  # the status page's components, bars included (readmodel/board_payload)
    status_json: bytes
    feeds: dict[str, bytes]


def pack_status(status: PublicStatus, built_at: float) -> bytes:
    without_bars = tuple(dataclasses.replace(c, bars=()) for c in status.components)
    packed = PackedSnapshot(
        built_at=built_at,
        overall=status.overall,
        components=tuple(pickle.dumps(c, pickle.HIGHEST_PROTOCOL) for c in without_bars),
        status=pickle.dumps(dataclasses.replace(status, components=without_bars),
                            pickle.HIGHEST_PROTOCOL),
        board=board_payload(status),
        status_json=status_json_body(status),
        feeds={kind: feed_body(status, kind) for kind in FEED_MEDIA_TYPES},
    )
    return pickle.dumps(packed, pickle.HIGHEST_PROTOCOL)


def pack_snapshot() -> bytes:
    """Read the public status now and pack it."""
    built_at = time.time()
    return pack_status(public_status(), built_at)


def unpack_snapshot(data: bytes) -> StatusSnapshot:
    packed: PackedSnapshot = pickle.loads(data)  # a few byte strings: one quick call
    components = {}
    for pickled in packed.components:
        component = pickle.loads(pickled)
        components[component.slug] = component
    return StatusSnapshot(
        components=components,
        overall=packed.overall,
        built_at=packed.built_at,
        status_json=_prepared(packed.status_json, "application/json", STATUS_CACHE_CONTROL),
        feeds={kind: _prepared(body, FEED_MEDIA_TYPES[kind], FEED_CACHE_CONTROL)
               for kind, body in packed.feeds.items()},
        pickled_status=PickledStatus(packed.status),
        board=packed.board,
    )


def _prepared(body: bytes, media_type: str, cache_control: str) -> PreparedResponse:
    return PreparedResponse(body, media_type, cache_control, etag_for(body))
