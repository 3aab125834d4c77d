"""Signed, expiring acknowledgement links: `/ack?t=<incident>.<expires>.<signature>`.

The signature is an HMAC-SHA256 over the incident id and the expiry with the server's secret, so
a link cannot be forged for another incident or stretched in time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

ACK_LINK_LIFETIME_S = 24 * 3600


def _signature(secret: str, incident_id: int, expires: int) -> str:
    message = f"ack:{incident_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def ack_token(
    secret: str, incident_id: int, now: float | None = None, lifetime_s: int = ACK_LINK_LIFETIME_S
) -> str:
    expires = int((now if now is not None else time.time()) + lifetime_s)
    return f"{incident_id}.{expires}.{_signature(secret, incident_id, expires)}"


def ack_url(public_url: str, secret: str, incident_id: int, now: float | None = None) -> str:
    return f"{public_url.rstrip('/')}/ack?t={quote(ack_token(secret, incident_id, now))}"


class InvalidLink(Exception):
    """The link is malformed, forged or expired; the message says which, for the person."""


def verify_token(secret: str, token: str, now: float | None = None) -> int:
    """The incident id a valid token acknowledges."""
    try:
        incident_text, expires_text, signature = token.split(".")
        incident_id, expires = int(incident_text), int(expires_text)
    except ValueError:
        message = "This acknowledgement link is incomplete: open it from the message."
        raise InvalidLink(message) from None
    if not hmac.compare_digest(signature, _signature(secret, incident_id, expires)):
        raise InvalidLink("This acknowledgement link is not valid.")
    if (now if now is not None else time.time()) > expires:
        raise InvalidLink("This acknowledgement link has expired: acknowledge from the dashboard.")
    return incident_id
