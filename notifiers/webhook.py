"""Generic webhook: a JSON POST to any URL, optionally signed with HMAC-SHA256.

Payload (version 1; fields may be added, these names are fixed)::

    {
      "version": 1,
      "event_id": 42,                       # the same on every retry: deduplicate on it
      "kind": "down",                       # down|up|degraded|certificate|maintenance_start|
                                            # maintenance_end|flapping|reminder|test
      "monitor": {"name": "API", "slug": "api"},
      "state": "down",
      "reason": "HTTP 503",                 # null when there is none
      "since": "2024-05-01T14:02:00Z",      # when the new state began
      "downtime_seconds": null,             # on recovery: how long it was down
      "text": "DOWN: API is down (HTTP 503)",  # or the channel's template, as plain text
      "links": {"dashboard": "...", "status_page": "...", "acknowledge": "..." | null}
    }

Headers: `Content-Type: application/json`, `User-Agent: Upwatch-Webhook/1`,
`X-Upwatch-Event: <kind>`, `X-Upwatch-Event-Id: <event_id>`, `X-Upwatch-Timestamp: <unix seconds>`
and, when a secret is configured, `X-Upwatch-Signature: sha256=<hex>`.

The signature is HMAC-SHA256 with the secret as key over `<timestamp>.<raw body>` (the timestamp
header's value, a dot, then the body bytes exactly as received). Signing the timestamp too means a
captured request cannot be replayed later with a fresh timestamp: receivers should check the
signature with a constant-time comparison and refuse timestamps older than a few minutes.
`verify_signature` below does both and can be copied into a receiver.

Any 2xx answer is success; 429, 408 and 5xx are retried; other answers (redirects included) are
permanent failures.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import time
from typing import Any

import httpx

from notifiers.base import DEFAULT_TIMEOUT, TransportError, connection_error, error_for_status
from notifiers.message import Notice, headline, label
from notifiers.templates import fallback_note, render_notice

SIGNATURE_HEADER = "X-Upwatch-Signature"
TIMESTAMP_HEADER = "X-Upwatch-Timestamp"
USER_AGENT = "Upwatch-Webhook/1"


# The payload's `text` when the channel has a template: a generous bound for any receiver.
MAX_TEXT_CHARS = 4000


def webhook_payload(notice: Notice, text: str | None = None) -> dict[str, Any]:
    """The payload; `text` replaces the default `text` field (a template's), nothing else."""
    if text is None:
        text = f"{label(notice)}: {headline(notice)}" + (
            f" ({notice.reason})" if notice.reason else "")
    return {
        "version": 1,
        "event_id": notice.event_id,
        "kind": notice.kind,
        "monitor": {"name": notice.monitor_name, "slug": notice.monitor_slug},
        "state": notice.state,
        "reason": notice.reason,
        "since": notice.since.isoformat().replace("+00:00", "Z"),
        "downtime_seconds": notice.downtime.total_seconds() if notice.downtime else None,
        "text": text,
        "links": {
            "dashboard": notice.dashboard_url,
            "status_page": notice.status_url,
            "acknowledge": notice.ack_url,
        },
        "runbook_url": notice.runbook_url,
    }


def templated_webhook_text(notice: Notice, template: str | None) -> tuple[str | None, str | None]:
    """The payload's `text` from the template (plain text; None: the default text), and the
    reason the template was not used."""
    rendered = render_notice(template, notice)
    return (rendered.text[:MAX_TEXT_CHARS] if rendered.text is not None else None,
            rendered.problem)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        return False
    if abs(age) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel:
    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        name: str = "webhook",
        timeout: float = DEFAULT_TIMEOUT,
        template: str = "",
    ) -> None:
        self.name = name
        self.url = url
        self._secret = secret
        self._template = template
        self._timeout = timeout
        # Built once: a TLS context loads the trust store, ~20 ms that each send would pay again.
        self._tls = ssl.create_default_context()

    def send(self, notice: Notice) -> str | None:
        text, problem = templated_webhook_text(notice, self._template)
        # Serialised once, here: the signature must cover exactly the bytes that are sent.
        body = json.dumps(webhook_payload(notice, text), separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Upwatch-Event": notice.kind,
            "X-Upwatch-Event-Id": str(notice.event_id),
            TIMESTAMP_HEADER: timestamp,
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        try:
            with httpx.Client(
                timeout=self._timeout, verify=self._tls, follow_redirects=False
            ) as client:
                response = client.post(self.url, content=body, headers=headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            # A fixed sentence: the library's would quote the URL, which may hold a token.
            raise TransportError(
                "webhook URL is unusable: it must be an http:// or https:// URL", permanent=True
            ) from error
        except httpx.HTTPError as error:
            # The host only: webhook URLs often carry a token in their path.
            raise connection_error(f"webhook host {httpx.URL(self.url).host}", error) from error
        if not response.is_success:
            detail = response.text[:200]
            raise error_for_status("webhook", response.status_code, detail, response.headers)
        return fallback_note(problem)
