"""ETag / If-Match on the API's updates: no lost update when two people edit the same thing.

An ETag is a hash of what a resource stores, as the API shows it (a monitor's settings, not the
state its checks keep changing). A write sent with `If-Match` is done only while the resource
still has that ETag; else it is a 412 problem carrying the current ETag, and nothing changes.
Without If-Match a write is done as before.

The check and the write run together under one lock in a worker thread, so two conditional
writes of this process cannot both pass the check. A write that sends no If-Match, one made on
the dashboard, or one in another web process can still land between them: closing that needs
the comparison inside the storage write's own transaction (storage/monitors,
storage/alerting_admin).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from storage.monitors import MonitorView
from web.problems import problem

T = TypeVar("T")
# What a monitor's checks change: not settings, so not part of its ETag.
RUNTIME_FIELDS = ("state", "reason", "since", "last_check_at", "latency_ms")
_conditional_writes = threading.Lock()


def etag_of(values: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode())
    return f'"{digest.hexdigest()[:32]}"'


def monitor_etag(monitor: MonitorView) -> str:
    """Its settings as the API shows them (secrets masked), whether it is paused, and when its
    settings last changed (so a changed secret, shown masked, changes the ETag too)."""
    shown = {k: v for k, v in monitor.to_api().items() if k not in RUNTIME_FIELDS}
    return etag_of({**shown, "paused": monitor.paused,
                    "updated_at": monitor.updated_at.isoformat()})


def if_match(request: Request) -> str | None:
    return request.headers.get("if-match")


def matches(header: str, current: str) -> bool:
    """RFC 9110 If-Match: `*`, or one of a list of strong tags (a weak tag never matches)."""
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or current in tags


class PreconditionFailed(Exception):
    def __init__(self, current: str) -> None:
        super().__init__(current)
        self.current = current


def conditional(condition: str | None, current: Callable[[], str | None],
                write: Callable[[], T]) -> T:
    """`write()`, when `condition` (an If-Match value; None: no condition) holds for the ETag
    `current()` reads (None: the resource is gone, and the write says so itself); else
    PreconditionFailed. Runs in a worker thread: it reads the database."""
    if condition is None:
        return write()
    with _conditional_writes:
        found = current()
        if found is not None and not matches(condition, found):
            raise PreconditionFailed(found)
        return write()


def precondition_failed(current: str) -> Response:
    return problem(412, "it changed since you read it: read it again (its ETag is "
                        f"{current}) and send your change with that If-Match",
                   headers={"ETag": current}, current_etag=current)
