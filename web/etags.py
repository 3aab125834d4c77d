"""ETag / If-Match on the API's updates: no lost update when two people edit the same thing.

An ETag is a hash of what a resource stores, as the API shows it (a monitor's settings, not the
state its checks keep changing). A write sent with `If-Match` is done only while the resource
still has that ETag; else it is a 412 problem carrying the current ETag, and nothing changes.
Without If-Match a write is done as before. The comparison runs inside the write's own
transaction, on the row it locked (`expect=` of storage/monitors and storage/alerting_admin), so
no other write (the dashboard's, another process's) can land between the check and the write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from storage.monitors import MonitorView
from web.problems import problem

T = TypeVar("T")
# What a monitor's checks change: not settings, so not part of its ETag.
RUNTIME_FIELDS = ("state", "reason", "since", "last_check_at", "latency_ms")


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


def expecting(condition: str | None, etag: Callable[[T], str]) -> Callable[[T], None] | None:
    """What a storage write calls with the stored resource before writing: raises
    PreconditionFailed unless its `etag` matches `condition` (an If-Match value; None: no
    condition, so no check)."""
    if condition is None:
        return None

    def expect(stored: T) -> None:
        current = etag(stored)
        if not matches(condition, current):
            raise PreconditionFailed(current)

    return expect


def precondition_failed(current: str) -> Response:
    return problem(412, "it changed since you read it: read it again (its ETag is "
                        f"{current}) and send your change with that If-Match",
                   headers={"ETag": current}, current_etag=current)
