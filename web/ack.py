"""`/ack`: acknowledging an incident from the signed link in a Slack, SMS or e-mail message.

GET only shows a confirmation form: link previewers (Slack unfurling, SMS apps, mail scanners)
fetch links on their own, and must not acknowledge anything. POST acknowledges.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from config.settings import get_settings
from domain.text import single_line
from notifiers.ack import InvalidLink, MalformedLink, parse_token, verify_token
from notifiers.dispatcher import secret_key
from storage.alerting_admin import acknowledge_incident
from storage.audit import ACK_LINK_ACTOR
from storage.db import get_engine
from storage.models import Incident
from storage.tables import table_of
from web.request_limits import client_address, limited, per_minute

INCIDENTS = table_of(Incident)
MAX_NAME = 100
MAX_FORM_FIELD_BYTES = 4096  # a name of MAX_NAME characters, percent-encoded, fits
# Control characters (NUL among them, which PostgreSQL refuses in text) have no place in a name.


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<meta name='viewport' content='width=device-width'></head>"
        f"<body style='font-family:sans-serif;max-width:32em;margin:2em auto'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def incident_row(incident_id: int) -> dict | None:
    """The incident an acknowledgement names (its title, who acknowledged it), or None."""
    with get_engine().connect() as connection:
        row = connection.execute(select(INCIDENTS).where(INCIDENTS.c.id == incident_id))
        found = row.mappings().first()
        return dict(found) if found else None


def verified_incident_id(token: str) -> int:
    """The incident a link's token acknowledges; InvalidLink (MalformedLink for a damaged one)
    says why not. Also the token of Slack's Acknowledge button (web/slack_actions)."""
    parse_token(token)  # a damaged link is refused before the key is read from the database
    return verify_token(secret_key(get_engine(), get_settings()), token)


async def ack_page(request: Request) -> HTMLResponse:
    return await _answer(request.query_params.get("t", ""), None)


async def ack_post(request: Request) -> HTMLResponse:
    # The form has a link and a name: anything larger is refused before it is read whole.
    try:
        form = await request.form(max_files=0, max_fields=8,
                                  max_part_size=MAX_FORM_FIELD_BYTES)
    except (HTTPException, MultiPartException):  # the first inside a Starlette app
        return _page("Cannot acknowledge", "<p>This request is too large or damaged to be an "
                     "acknowledgement: open the link again from the message.</p>", 400)
    token = _text(form.get("t")) or request.query_params.get("t", "")
    return await _answer(token, _text(form.get("who")))


def _text(value: object) -> str:
    """A form field's text; a file sent in its place counts as nothing."""
    return value if isinstance(value, str) else ""


async def _answer(token: str, who: str | None) -> HTMLResponse:
    """`who` is None for a GET (show the form), the name typed for a POST (acknowledge)."""
    try:
        incident_id = await anyio.to_thread.run_sync(verified_incident_id, token)
    except InvalidLink as error:
        status = 400 if isinstance(error, MalformedLink) else 403
        return _page("Cannot acknowledge", f"<p>{html.escape(str(error))}</p>", status)
    incident = await anyio.to_thread.run_sync(incident_row, incident_id)
    if incident is None:
        return _page("Cannot acknowledge", "<p>This incident no longer exists.</p>", 404)
    title = html.escape(incident["title"])
    if who is None:
        if incident["acknowledged_at"]:
            who = html.escape(incident["acknowledged_by"] or "someone")
            return _page("Already acknowledged", f"<p>{title}: acknowledged by {who}.</p>")
        return _page("Acknowledge incident", (
            f"<p>{title}</p><form method='post'>"
            f"<input type='hidden' name='t' value='{html.escape(token, quote=True)}'>"
            f"<label>Your name <input name='who' maxlength='{MAX_NAME}' required></label> "
            "<button type='submit'>Acknowledge</button></form>"
        ))
    who = single_line(who)[:MAX_NAME] or "someone (via link)"

    def record() -> bool:
        return acknowledge_incident(incident_id, who, datetime.now(UTC), actor=ACK_LINK_ACTOR)

    if await anyio.to_thread.run_sync(record):
        return _page("Acknowledged", f"<p>{title}: acknowledged by {html.escape(who)}. "
                     "Escalation and reminders are stopped.</p>")
    return _page("Already acknowledged", f"<p>{title} was already acknowledged.</p>")


def ack_routes() -> list[Route]:
    # Per address: a link's token is signed, but each request costs a check and a database read.
    buckets = per_minute(get_settings().ack_requests_per_minute)
    return [Route("/ack", limited(ack_page, buckets, client_address), methods=["GET"]),
            Route("/ack", limited(ack_post, buckets, client_address), methods=["POST"])]
