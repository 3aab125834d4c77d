"""GET /api/v1/status: the status page as JSON (readmodel/status_document), from the read model.

The answer is serialised once per snapshot, where the snapshot is built (readmodel/wire); a
request costs a dictionary lookup. It reads no query parameter, so it is remembered by its path
alone: whatever query string a request adds, it is the same one entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from readmodel.prepared import PreparedResponse
from web.responses import not_known_yet

if TYPE_CHECKING:
    from readmodel.read_model import ReadModel
    from readmodel.snapshot import AnswerKey, StatusSnapshot

PATH = "/api/v1/status"


def status_answer_key(path: str, _query_string: bytes) -> AnswerKey | None:
    """The key the status JSON is remembered by; None for any other path."""
    return (PATH,) if path == PATH else None


def _status_json(snapshot: StatusSnapshot) -> PreparedResponse | None:
    return snapshot.status_json


def status_api_routes(read_model: ReadModel) -> list[Route]:
    async def status(request: Request) -> Response | PreparedResponse:
        snapshot = read_model.snapshot
        prepared = snapshot.status_json
        if prepared is None:
            return not_known_yet()
        snapshot.remember_answer((PATH,), prepared, _status_json)
        return prepared

    return [Route(PATH, status)]
