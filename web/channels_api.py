"""Alerting channels over REST (admin scope), saved through the Alerting page's own functions
(storage/alerting_admin: one transaction each, secrets sealed at rest, audited as the token's)
and checked by its form's rule (web/channel_input).

    GET, POST /api/v1/channels · GET, PATCH, DELETE /api/v1/channels/{id}
    POST /api/v1/channels/{id}/test        one test notice, as the page's "Send test"

A create honours Idempotency-Key (web/idempotency).
    GET, PUT /api/v1/channels/{id}/quiet-hours · GET /api/v1/alerting/quiet-hours

Secrets are write-only: no answer carries one (a stored one is shown as the mask), and a test
send's error text has them masked too. GET of one channel answers an ETag (its settings and a
digest of its sealed secrets, so a changed secret changes it without revealing anything); a
PATCH, PUT or DELETE sent with If-Match is done only while it still holds, checked in the
write's own transaction on the row it locks (storage/alerting_admin's `expect=`), else a 412.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from config.base_path import site_href
from config.settings import get_settings
from notifiers.verify_channel import send_test
from storage.alerting_admin import (
    ChannelView,
    delete_channel,
    list_channels,
    save_channel,
)
from storage.api_tokens import Grant
from storage.channel_versions import channel_version
from web.admin_api_models import Channel, ChannelQuietHours, TestSent
from web.channel_input import ChannelParser, channel_spec, quiet_hours_spec, shown_settings
from web.etags import etag_of, expecting, if_match
from web.idempotency import idempotent
from web.problems import not_found, problem
from web.rate_limit import TokenBuckets
from web.request_body import json_body
from web.request_limits import limited
from web.responses import actor_of, refusal, request_grant, run_sync
from web.row_ids import row_path
from web.write_refusals import WRITE_REFUSALS, refused

NO_CHANNEL = "no channel has this id"
ENV_CHANNEL = ("this channel comes from the environment (UPWATCH_SLACK_WEBHOOK_URL / "
               "UPWATCH_TWILIO_*): unset those to remove it")
# Ids past the id column's range (PostgreSQL's `integer`) name no channel, and must not reach
# the driver, which would raise.
LARGEST_ID = 2**31 - 1


def shown(channel: ChannelView) -> dict[str, Any]:
    return Channel(
        id=channel.id, name=channel.name, kind=channel.kind,
        source="env" if channel.source == "env" else "db", settings=shown_settings(channel),
        stored_secrets=sorted(channel.stored_secrets), events=channel.events,
        enabled=channel.enabled, escalate_after_minutes=channel.escalate_after_minutes,
        quiet_start=channel.quiet_start, quiet_end=channel.quiet_end,
        quiet_timezone=channel.quiet_timezone, quiet_min_severity=channel.quiet_min_severity,
        failing_since=channel.failing_since, failing_error=channel.failing_error,
    ).model_dump(mode="json")


def quiet_hours_of(channel: ChannelView) -> dict[str, Any]:
    return ChannelQuietHours(channel_id=channel.id, channel=channel.name,
                             start=channel.quiet_start, end=channel.quiet_end,
                             timezone=channel.quiet_timezone,
                             min_severity=channel.quiet_min_severity).model_dump()


def _found(channel_id: int) -> tuple[ChannelView, str] | None:
    """The channel and its ETag now (storage/channel_versions); None: no such channel."""
    if not 0 < channel_id <= LARGEST_ID:
        return None
    version = channel_version(channel_id)
    channel = next((c for c in list_channels() if c.id == channel_id), None)
    if version is None or channel is None:
        return None
    return channel, etag_of(version)


def _test_send(channel_id: int) -> dict[str, Any]:
    outcome = send_test(channel_id, get_settings())
    # send_test masks the channel's secrets in the provider's words.
    return TestSent(sent=outcome.ok, message=outcome.message, note=outcome.note).model_dump()


def channel_routes(check: ChannelParser, limits: TokenBuckets) -> list[Route]:
    """`check`: the Alerting page's channel form rule (ui/alerting_forms.parse_channel_form)."""

    async def list_or_create(request: Request) -> Response:
        grant = await request_grant(request)
        if denied := refusal(grant, "admin"):
            return denied
        if request.method == "GET":
            return JSONResponse([shown(c) for c in await run_sync(list_channels)])
        try:
            spec = channel_spec(await json_body(request), None, check)
            saved = await run_sync(partial(save_channel, spec, actor=actor_of(grant)))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        found = await run_sync(_found, saved.id)
        headers = {"Location": site_href(f"/api/v1/channels/{saved.id}")}
        if found is not None:
            headers["ETag"] = found[1]
        return JSONResponse(shown(saved), status_code=201, headers=headers)

    async def _loaded(request: Request) -> tuple[Grant, int, ChannelView, str] | Response:
        """The admin's grant and the channel the path names with its ETag, or the refusal."""
        grant = await request_grant(request)
        if denied := refusal(grant, "admin"):
            return denied
        assert grant is not None
        channel_id = request.path_params["id"]
        found = await run_sync(_found, channel_id)
        if found is None:
            return not_found(NO_CHANNEL)
        return grant, channel_id, *found

    async def one(request: Request) -> Response:
        loaded = await _loaded(request)
        if isinstance(loaded, Response):
            return loaded
        grant, channel_id, current, etag = loaded
        if request.method == "GET":
            return JSONResponse(shown(current), headers={"ETag": etag})
        expect = expecting(if_match(request), etag_of)
        try:
            if request.method == "DELETE":
                if current.source == "env":
                    return problem(409, ENV_CHANNEL)
                await run_sync(partial(delete_channel, channel_id, actor=actor_of(grant),
                                       expect=expect))
                return Response(status_code=204)
            spec = channel_spec(await json_body(request), current, check)
            saved = await run_sync(partial(save_channel, spec, channel_id,
                                           actor=actor_of(grant), expect=expect))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        return await _answer(saved.id, shown)

    async def quiet_hours(request: Request) -> Response:
        loaded = await _loaded(request)
        if isinstance(loaded, Response):
            return loaded
        grant, channel_id, current, etag = loaded
        if request.method == "GET":
            return JSONResponse(quiet_hours_of(current), headers={"ETag": etag})
        try:
            spec = quiet_hours_spec(await json_body(request), current, check)
            await run_sync(partial(save_channel, spec, channel_id, actor=actor_of(grant),
                                   expect=expecting(if_match(request), etag_of)))
        except WRITE_REFUSALS as exc:
            return refused(exc)
        return await _answer(channel_id, quiet_hours_of)

    async def _answer(channel_id: int, view: Any) -> Response:
        found = await run_sync(_found, channel_id)
        if found is None:  # deleted just after the write
            return not_found(NO_CHANNEL)
        return JSONResponse(view(found[0]), headers={"ETag": found[1]})

    async def test(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "admin"):
            return denied
        channel_id = request.path_params["id"]
        if await run_sync(_found, channel_id) is None:
            return not_found(NO_CHANNEL)
        return JSONResponse(await run_sync(_test_send, channel_id))

    async def every_quiet_hours(request: Request) -> Response:
        if denied := refusal(await request_grant(request), "admin"):
            return denied
        return JSONResponse([quiet_hours_of(c) for c in await run_sync(list_channels)])

    return [
        Route("/api/v1/channels", limited(idempotent(list_or_create), limits),
              methods=["GET", "POST"]),
        Route(row_path("/api/v1/channels"), limited(one, limits),
              methods=["GET", "PATCH", "DELETE"]),
        Route(row_path("/api/v1/channels") + "/test", limited(test, limits), methods=["POST"]),
        Route(row_path("/api/v1/channels") + "/quiet-hours", limited(quiet_hours, limits),
              methods=["GET", "PUT"]),
        Route("/api/v1/alerting/quiet-hours", limited(every_quiet_hours, limits),
              methods=["GET"]),
    ]
