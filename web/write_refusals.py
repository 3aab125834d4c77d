"""The answers to a write refused before it changed anything: a stale If-Match (412), a body
over the limit (413), bad input (422 naming each field). A handler catches WRITE_REFUSALS
around reading and writing, and answers `refused(exc)`."""

from __future__ import annotations

from starlette.responses import Response

from domain.limits import InvalidInput
from web.etags import PreconditionFailed, precondition_failed
from web.request_body import BodyTooLarge, too_large
from web.responses import field_errors

WRITE_REFUSALS = (PreconditionFailed, BodyTooLarge, InvalidInput)


def refused(exc: Exception) -> Response:
    if isinstance(exc, PreconditionFailed):
        return precondition_failed(exc.current)
    if isinstance(exc, BodyTooLarge):
        return too_large()
    assert isinstance(exc, InvalidInput)
    return field_errors(exc.errors)
