"""`/ack`: acknowledging an incident from the signed link in a Slack, SMS or e-mail message.

GET only shows a confirmation form: link previewers (Slack unfurling, SMS apps, mail scanners)
fetch links on their own, and must not acknowledge anything. POST acknowledges.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from config.settings import get_settings
from notifiers.ack import InvalidLink, verify_token
from notifiers.dispatcher import secret_key
from storage.alerting import acknowledge
from storage.db import get_engine
from storage.models import Incident

INCIDENTS = Incident.__table__


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<meta name='viewport' content='width=device-width'></head>"
        f"<body style='font-family:sans-serif;max-width:32em;margin:2em auto'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _incident(incident_id: int) -> dict | None:
    with get_engine().connect() as connection:
        row = connection.execute(select(INCIDENTS).where(INCIDENTS.c.id == incident_id))
        found = row.mappings().first()
        return dict(found) if found else None


def _verify(token: str) -> int:
    return verify_token(secret_key(get_engine(), get_settings()), token)


async def ack_page(request: Request) -> HTMLResponse:
    return await _answer(request.query_params.get("t", ""), None)


async def ack_post(request: Request) -> HTMLResponse:
    form = await request.form()
    token = str(form.get("t") or request.query_params.get("t", ""))
    return await _answer(token, str(form.get("who") or ""))


async def _answer(token: str, who: str | None) -> HTMLResponse:
    """`who` is None for a GET (show the form), the name typed for a POST (acknowledge)."""
    try:
        incident_id = await anyio.to_thread.run_sync(_verify, token)
    except InvalidLink as error:
        return _page("Cannot acknowledge", f"<p>{html.escape(str(error))}</p>", 403)
    incident = await anyio.to_thread.run_sync(_incident, incident_id)
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
            "<label>Your name <input name='who' maxlength='100' required></label> "
            "<button type='submit'>Acknowledge</button></form>"
        ))
    who = who.strip()[:100] or "someone (via link)"

    def record() -> bool:
        with get_engine().begin() as connection:
            return acknowledge(connection, incident_id, who, datetime.now(UTC))

    if await anyio.to_thread.run_sync(record):
        return _page("Acknowledged", f"<p>{title}: acknowledged by {html.escape(who)}. "
                     "Escalation and reminders are stopped.</p>")
    return _page("Already acknowledged", f"<p>{title} was already acknowledged.</p>")


def ack_routes() -> list[Route]:
    return [Route("/ack", ack_page, methods=["GET"]), Route("/ack", ack_post, methods=["POST"])]
