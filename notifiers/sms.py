"""SMS through the official twilio SDK, to one or more numbers.

`api_base` (setting `UPWATCH_TWILIO_API_BASE`) points the SDK at a Twilio-compatible API: the SDK
builds every Messages URL from its `api` domain's `base_url`, so replacing that one attribute moves
the whole request, path, form fields and basic auth unchanged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from config.settings import Settings
from notifiers.base import DEFAULT_TIMEOUT, TransportError, connection_error, parse_retry_after
from notifiers.message import Notice, sms_cut, sms_text
from notifiers.templates import fallback_note, render_notice

TWILIO_API_BASE = "https://api.twilio.com"

# Twilio error codes (https://www.twilio.com/docs/api/errors) with the sentence an operator needs.
_HINTS = {
    20003: "authentication failed: check the account SID and auth token",
    20404: "resource not found: check the account SID",
    21211: "invalid 'To' phone number",
    21212: "invalid 'From' phone number",
    21408: "sending to this region is not enabled on the account",
    21606: "the 'From' number cannot send SMS",
    21610: "the recipient replied STOP and has unsubscribed",
    21614: "the 'To' number is not a mobile number",
}
_RATE_LIMITED = 20429

# Remember which numbers already received an event, so a retry after a partial failure does not
# text the numbers that were reached. In memory only: bounded and per process.
_REMEMBERED_DELIVERIES = 10_000


class _HeaderKeepingHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, keeping Retry-After: Twilio's exceptions drop response headers."""

    retry_after: str | None = None

    def request(self, *args: Any, **kwargs: Any) -> Any:
        response = super().request(*args, **kwargs)
        self.retry_after = (response.headers or {}).get("Retry-After")
        return response


def classify(
    error: TwilioRestException | TwilioServiceException, retry_after: str | None
) -> TransportError:
    status = int(error.status or 0)
    code = int(error.code) if error.code else None
    provider = getattr(error, "msg", "") or getattr(error, "detail", "") or ""
    hint = _HINTS.get(code or 0, "")
    message = f"Twilio error {code or status}: " + (hint or provider)
    if hint and provider:
        message += f" ({provider})"
    if status == 429 or code == _RATE_LIMITED:
        return TransportError(message, retry_after=parse_retry_after(retry_after))
    if status >= 500 or status == 408:
        return TransportError(message, retry_after=parse_retry_after(retry_after))
    return TransportError(message, permanent=True)


def templated_sms_text(notice: Notice, template: str | None) -> tuple[str, str | None]:
    """The template's text as one SMS (plain text, GSM-7, 160 septets), or the default text and
    the reason the template was not used."""
    rendered = render_notice(template, notice)
    if rendered.text is None:
        return sms_text(notice), rendered.problem
    body = sms_cut(rendered.text)
    if not body:  # only characters GSM-7 has no room for (emoji...)
        return sms_text(notice), "template produced no text that an SMS can carry"
    return body, None


class SmsChannel:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        recipients: list[str],
        *,
        name: str = "sms",
        api_base: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        template: str = "",
    ) -> None:
        if not recipients:
            raise ValueError("an SMS channel needs at least one phone number")
        self.name = name
        self.account_sid = account_sid
        self.sender = sender
        self.recipients = [number.replace(" ", "") for number in recipients]
        self._auth_token = auth_token
        self._api_base = (api_base or TWILIO_API_BASE).rstrip("/")
        self._timeout = timeout
        self._template = template
        self._delivered: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._delivered_lock = threading.Lock()

    def _client(self) -> tuple[Client, _HeaderKeepingHttpClient]:
        # A client per send: the SDK's client keeps per-request state, and sends run in threads.
        http = _HeaderKeepingHttpClient(timeout=self._timeout)
        # `environment={}`: TWILIO_EDGE / TWILIO_REGION would otherwise rewrite the host silently.
        client = Client(self.account_sid, self._auth_token, http_client=http, environment={})
        client.api.base_url = self._api_base
        return client, http

    def send(self, notice: Notice) -> str | None:
        body, problem = templated_sms_text(notice, self._template)
        client, http = self._client()
        failures: list[TransportError] = []
        for number in self.recipients:
            if self._was_delivered(notice.event_id, number):
                continue
            try:
                self._send_one(client, number, body)
            except (TwilioRestException, TwilioServiceException) as error:
                failure = classify(error, http.retry_after)
                failures.append(
                    TransportError(
                        f"{number}: {failure.message}",
                        permanent=failure.permanent,
                        retry_after=failure.retry_after,
                    )
                )
                continue
            except (requests.RequestException, TwilioException) as error:
                failures.append(connection_error("Twilio", error))
                continue
            self._remember(notice.event_id, number)
        if failures:
            raise _combine(failures)
        return fallback_note(problem)

    def _send_one(self, client: Client, number: str, body: str) -> None:
        messages = client.api.v2010.account.messages
        if self.sender.startswith("MG"):
            # A Messaging Service SID picks the sending number itself.
            messages.create(to=number, messaging_service_sid=self.sender, body=body)
        else:
            messages.create(to=number, from_=self.sender, body=body)

    def _was_delivered(self, event_id: int, number: str) -> bool:
        with self._delivered_lock:
            return (event_id, number) in self._delivered

    def _remember(self, event_id: int, number: str) -> None:
        with self._delivered_lock:
            self._delivered[(event_id, number)] = None
            while len(self._delivered) > _REMEMBERED_DELIVERIES:
                self._delivered.popitem(last=False)


def _combine(failures: list[TransportError]) -> TransportError:
    """One error for the whole send: worth a retry while any number may still be reached."""
    transient = [failure for failure in failures if not failure.permanent]
    waits = [failure.retry_after for failure in transient if failure.retry_after is not None]
    return TransportError(
        "; ".join(failure.message for failure in failures),
        permanent=not transient,
        retry_after=max(waits) if waits else None,
    )


def sms_channel_from_settings(settings: Settings) -> SmsChannel | None:
    """The default SMS channel from `UPWATCH_TWILIO_*`, or None when it is not configured."""
    if not (
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and settings.twilio_from
        and settings.twilio_to
    ):
        return None
    recipients = [number.strip() for number in settings.twilio_to.split(",") if number.strip()]
    return SmsChannel(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        settings.twilio_from,
        recipients,
        api_base=settings.twilio_api_base,
    )
