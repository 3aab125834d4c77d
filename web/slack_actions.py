"""`POST /slack/actions`: the Acknowledge button of a Slack message, Slack's "interactivity
request URL" for the Upwatch Slack app.

Slack signs each request with the app's signing secret (`X-Slack-Signature` over
`v0:<timestamp>:<body>`, slack_sdk's SignatureVerifier); a request is taken only when the
signature verifies with the signing secret of one of the Slack channels and its timestamp is
within 5 minutes (an old request replayed is refused). The button's value is the token of the
message's acknowledgement link, verified as /ack verifies it (web/ack): a click acknowledges
what the link would, through the same storage function, audited as `slack:<user>`, PagerDuty
told through the outbox. The message is then replaced, through the click's `response_url`,
by the same message saying "Acknowledged by <user> at <time>" in place of the button.

A refused click (unknown or already acknowledged incident, expired link) is answered with a
status and a sentence, and the clicking user also sees the sentence in Slack (an ephemeral
reply); nothing is changed. Slack expects an answer within 3 seconds: the message update is
sent after the answer.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.settings import get_settings
from domain.text import single_line
from notifiers.ack import InvalidLink, MalformedLink
from notifiers.message import format_timestamp
from notifiers.slack import ACK_ACTION_ID, escape_mrkdwn
from storage.alerting_admin import acknowledge_incident
from storage.slack_signing import slack_signing_secrets
from web.ack import incident_row, verified_incident_id
from web.problems import problem
from web.request_body import BodyTooLarge, bounded_body, too_large
from web.request_limits import client_address, limited, per_minute

log = logging.getLogger("upwatch")

SLACK_ACTIONS_PATH = "/slack/actions"
MAX_AGE_S = 5 * 60  # Slack's own advice, and SignatureVerifier's window
MAX_NAME = 100
SLACK_ACTOR_PREFIX = "slack:"  # the audit log's actor: slack:<user>
REPLY_TIMEOUT_S = 5


@dataclass(frozen=True, slots=True)
class Click:
    token: str  # the acknowledgement link's (the button's value)
    who: str  # the Slack user's name
    response_url: str  # where Slack takes replies to this click
    message: object  # the message clicked, as Slack sends it back


class Refused(Exception):
    """A click not taken: the HTTP status and the sentence saying why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signed_by_slack(body: bytes, timestamp: str | None, signature: str | None,
                    secrets: list[str], now: float) -> None:
    """Nothing when one of `secrets` signed `body` at `timestamp`, within MAX_AGE_S of `now`;
    Refused (401) with the reason otherwise."""
    if not timestamp or not signature:
        raise Refused(401, "not signed: X-Slack-Request-Timestamp and X-Slack-Signature are "
                           "required")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Refused(401, "X-Slack-Request-Timestamp is not a time")
    if abs(now - int(timestamp)) > MAX_AGE_S:
        raise Refused(401, "the request is more than 5 minutes old (or the clocks differ): "
                           "refused as a possible replay")
    if not secrets:
        raise Refused(403, "no Slack channel has a signing secret: set the Slack app's signing "
                           "secret on the channel to take its buttons")
    if not any(SignatureVerifier(secret).is_valid(body, timestamp, signature)
               for secret in secrets):
        raise Refused(401, "the signature does not match any Slack channel's signing secret")


def read_click(body: bytes) -> Click:
    """The click in a signed request's body; Refused (400) when it is not a click of
    Upwatch's Acknowledge button."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=True, max_num_fields=8)
        payload = json.loads(fields["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError, RecursionError):
        raise Refused(400, "send Slack's form field `payload` holding the interaction's "
                           "JSON") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise Refused(400, "only button clicks (block_actions) are taken here")
    actions = payload.get("actions")
    action = next((a for a in actions if isinstance(a, dict)
                   and a.get("action_id") == ACK_ACTION_ID), None) if isinstance(
        actions, list) else None
    if action is None or not isinstance(action.get("value"), str):
        raise Refused(400, "the click is not of Upwatch's Acknowledge button")
    user = payload.get("user")
    names = [user.get(key) for key in ("username", "name", "id")] if isinstance(user, dict) else []
    who = next((single_line(name) for name in names
                if isinstance(name, str) and single_line(name)), "")
    if not who:
        raise Refused(400, "the click names no Slack user")
    response_url = payload.get("response_url")
    if not isinstance(response_url, str) or urlsplit(response_url).scheme not in (
            "http", "https"):
        raise Refused(400, "the click has no response_url")
    return Click(action["value"], who[:MAX_NAME], response_url, payload.get("message"))


def acknowledged_message(original: object, who: str, at: datetime) -> dict[str, Any]:
    """The message as it was, its Acknowledge button replaced by who acknowledged and when."""
    note = f"Acknowledged by {who} at {format_timestamp(at)}"
    blocks: list[Any] = []
    if isinstance(original, dict) and isinstance(original.get("blocks"), list):
        for block in original["blocks"]:
            if isinstance(block, dict) and block.get("type") == "actions":
                others = [e for e in block.get("elements") or []
                          if not (isinstance(e, dict) and e.get("action_id") == ACK_ACTION_ID)]
                block = {**block, "elements": others} if others else None
            if block is not None:
                blocks.append(block)
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"✅ {escape_mrkdwn(note)}"}]})
    return {"text": escape_mrkdwn(note), "blocks": blocks}


def _reply(response_url: str, message: dict[str, Any], *, replace: bool) -> None:
    """Tell Slack (the message, or only the user who clicked); a failure is logged, never
    raised: the acknowledgement stands either way. The URL is not logged (it lets anyone post
    to the conversation for 30 minutes)."""
    client = WebhookClient(response_url, timeout=REPLY_TIMEOUT_S, retry_handlers=[])
    try:
        if replace:
            answer = client.send(text=message["text"], blocks=message["blocks"],
                                 replace_original=True)
        else:
            answer = client.send(text=message["text"], response_type="ephemeral",
                                 replace_original=False)
    except Exception as error:  # the network, an unusable URL: the click itself is done
        log.warning("slack: the reply to a button click failed: %s", type(error).__name__)
        return
    if answer.status_code != 200:
        log.warning("slack: the reply to a button click was answered HTTP %s",
                    answer.status_code)


def _acknowledge(token: str, who: str, now: datetime) -> int:
    """Acknowledge the token's incident as `who`; its id. Refused when it cannot be."""
    try:
        incident_id = verified_incident_id(token)
    except InvalidLink as error:
        raise Refused(400 if isinstance(error, MalformedLink) else 403, str(error)) from None
    incident = incident_row(incident_id)
    if incident is None:
        raise Refused(404, "This incident no longer exists.")
    if not acknowledge_incident(incident_id, who, now, actor=SLACK_ACTOR_PREFIX + who):
        by = (incident_row(incident_id) or {}).get("acknowledged_by") or "someone"
        raise Refused(409, f"This incident was already acknowledged, by {by}.")
    log.info("slack: %s acknowledged incident %s", who, incident_id)
    return incident_id


async def slack_action(request: Request) -> Response:
    try:
        body = await bounded_body(request)
    except BodyTooLarge:
        return too_large()
    try:
        secrets = await anyio.to_thread.run_sync(slack_signing_secrets)
        signed_by_slack(body, request.headers.get("x-slack-request-timestamp"),
                        request.headers.get("x-slack-signature"), secrets, time.time())
        click = read_click(body)
    except Refused as refused:
        return problem(refused.status, refused.reason)
    now = datetime.now(UTC)
    try:
        await anyio.to_thread.run_sync(_acknowledge, click.token, click.who, now)
    except Refused as refused:
        note = {"text": escape_mrkdwn(f"Not acknowledged: {refused.reason}")}
        return _answer_later(problem(refused.status, refused.reason), click.response_url, note,
                             replace=False)
    return _answer_later(Response(status_code=200), click.response_url,
                         acknowledged_message(click.message, click.who, now), replace=True)


def _answer_later(response: Response, response_url: str, message: dict[str, Any], *,
                  replace: bool) -> Response:
    """`response`, with the reply to Slack sent once it has gone out."""
    response.background = BackgroundTask(anyio.to_thread.run_sync, lambda: _reply(
        response_url, message, replace=replace))
    return response


def slack_action_routes() -> list[Route]:
    # Per address, as /ack: each click costs a signature check and database reads.
    buckets = per_minute(get_settings().ack_requests_per_minute)
    return [Route(SLACK_ACTIONS_PATH, limited(slack_action, buckets, client_address),
                  methods=["POST"])]
