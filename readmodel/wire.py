"""A snapshot as bytes: built where the rebuild's CPU does not stall the web server, installed
cheaply where it serves.

`pack_snapshot` runs where the snapshot is built (readmodel/builder_process's process): it reads the
public status and serialises everything that does not depend on a request (the status JSON, the
feeds, and the status page's board of components). `unpack_snapshot` runs in the web process. It
does as little as possible, in small steps: each component is unpickled on its own, without its
daily bars, and the status (without bars too: the page gets them in the board's payload) only
when the status page asks for it. Pickling frozen dataclasses calls Python code per object, so
the thread doing it hands the GIL back to the event loop between objects.

No item's text fails a snapshot: each serialised part (the status JSON, each feed, the board) is
built on its own, without the items that fail it (readmodel/partial_build); a part that fails
even so is the one of the last snapshot that had it, and the rest is new.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from readmodel.board_payload import board_payload
from readmodel.feeds import CACHE_CONTROL as FEED_CACHE_CONTROL
from readmodel.feeds import MEDIA_TYPES as FEED_MEDIA_TYPES
from readmodel.feeds import feed_body
from readmodel.kept_encodings import KeptEncodings
from readmodel.metrics_exposition import MetricsBodies, metrics_bodies
from readmodel.metrics_view import read_metrics
from readmodel.partial_build import without_failing_items
from readmodel.prepared import ANY_ORIGIN, PreparedResponse, etag_for
from readmodel.snapshot import PickledStatus, StatusSnapshot
from readmodel.status_document import CACHE_CONTROL as STATUS_CACHE_CONTROL
from readmodel.status_document import status_json_body
from storage.db import get_engine
from storage.status import PublicComponent, PublicStatus, facts_without_bars, public_status

log = logging.getLogger(__name__)
# The parts of the last snapshot this process packed, by name: what a part that cannot be built
# at all is replaced by.
_LAST_PARTS: dict[str, bytes] = {}


@dataclass(frozen=True)
class PackedSnapshot:
    built_at: float
    overall: str
    components: tuple[bytes, ...]  # each a pickled PublicComponent without bars
    status: bytes  # the pickled PublicStatus without its components (they are `components`)
    board: bytes  # the status page's components, bars included (readmodel/board_payload)
    status_json: bytes
    feeds: dict[str, bytes]
    metrics: MetricsBodies | None = None


def _part(name: str, build: Callable[[PublicStatus], bytes], status: PublicStatus,
          last_parts: dict[str, bytes]) -> bytes:
    try:
        body = without_failing_items(name, build, status)
    except Exception:
        if name not in last_parts:
            raise
        log.exception("could not build the %s of the status snapshot: serving the last one", name)
        return last_parts[name]
    last_parts[name] = body
    return body


def _pickled(value: object) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _pickled_without_bars(component: PublicComponent) -> bytes:
    return _pickled(dataclasses.replace(component, bars=()))


# Each component's pickle (without bars) of the last snapshot, kept with the component it was
# made of: a rebuild pickles only the components that changed (readmodel/kept_encodings).
COMPONENT_PICKLES: KeptEncodings[PublicComponent] = KeptEncodings(_pickled_without_bars)


def pack_status(status: PublicStatus, built_at: float,
                last_parts: dict[str, bytes] | None = None,
                metrics: MetricsBodies | None = None) -> bytes:
    """The snapshot of `status` (and of `metrics`, when read) as bytes. `last_parts` (updated
    here) holds the parts of the last snapshot, for a part that cannot be built at all; without
    it such a part raises."""
    last_parts = {} if last_parts is None else last_parts
    packed = PackedSnapshot(
        built_at=built_at,
        overall=status.overall,
        components=tuple(COMPONENT_PICKLES.encoded(
            (c.id, facts_without_bars(c), c) for c in status.components)),
        # The web process puts the components back in (unpack_snapshot): pickled once only.
        status=_pickled(dataclasses.replace(status, components=())),
        board=_part("board", board_payload, status, last_parts),
        status_json=_part("status JSON", status_json_body, status, last_parts),
        feeds={kind: _part(f"{kind} feed", partial(feed_body, kind=kind), status, last_parts)
               for kind in FEED_MEDIA_TYPES},
        metrics=metrics,
    )
    return pickle.dumps(packed, pickle.HIGHEST_PROTOCOL)


# The builder process renders /metrics' bodies at most this often: Prometheus scrapes every 15 s
# or more, and rendering a sample per monitor and window (24,000 at 1,000 monitors) costs more than
# the rest of a rebuild. The live gauges (lateness, the engine's tick) are added per scrape
# (web/metrics).
METRICS_MAX_AGE_S = 15.0
_last_metrics: tuple[str, float, MetricsBodies] | None = None  # database, when, bodies


def _metrics(status: PublicStatus, max_age_s: float) -> MetricsBodies | None:
    """/metrics' bodies: the last ones while younger than `max_age_s` (and when they cannot be
    read now: a failure there must not hold up the status page), else read again."""
    global _last_metrics
    database = str(get_engine().url)
    last = _last_metrics if _last_metrics is not None and _last_metrics[0] == database else None
    if last is not None and time.monotonic() - last[1] < max_age_s:
        return last[2]
    try:
        bodies = metrics_bodies(read_metrics(status))
    except Exception:
        log.exception("could not read the figures of /metrics: serving the last ones")
        return last[2] if last is not None else None
    _last_metrics = (database, time.monotonic(), bodies)
    return bodies


def pack_snapshot(now: datetime | None = None, metrics_max_age_s: float = 0.0) -> bytes:
    """Read the public status (at `now`, default now) and pack it, with /metrics' bodies read
    again when the last ones are older than `metrics_max_age_s`."""
    built_at = time.time()
    status = public_status(now)
    return pack_status(status, built_at, _LAST_PARTS, _metrics(status, metrics_max_age_s))


def unpack_snapshot(data: bytes | memoryview) -> StatusSnapshot:
    packed: PackedSnapshot = pickle.loads(data)  # a few byte strings: one quick call
    components = {}
    in_order = []
    for pickled in packed.components:
        component = pickle.loads(pickled)
        components[component.slug] = component
        in_order.append(component)
    return StatusSnapshot(
        components=components,
        overall=packed.overall,
        built_at=packed.built_at,
        status_json=_prepared(packed.status_json, "application/json", STATUS_CACHE_CONTROL),
        feeds={kind: _prepared(body, FEED_MEDIA_TYPES[kind], FEED_CACHE_CONTROL)
               for kind, body in packed.feeds.items()},
        pickled_status=PickledStatus(packed.status, tuple(in_order)),
        board=packed.board,
        metrics=packed.metrics,
    )


def _prepared(body: bytes, media_type: str, cache_control: str) -> PreparedResponse:
    return PreparedResponse(body, media_type, cache_control, etag_for(body),
                            extra_headers=ANY_ORIGIN)
