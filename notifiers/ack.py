"""Signed, expiring acknowledgement links: `/ack?t=<incident>.<expires>.<signature>`.

The signature is an HMAC-SHA256 over the incident id and the expiry with the server's secret, so
a link cannot be forged for another incident or stretched in time. The secret is
UPWATCH_SECRET_KEY (or the key kept in the database): links are signed with a key derived from
its first key for links alone, and accepted when signed by any of its keys, so a link sent
before a key was rotated still works while the old key is listed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from config.secret_keys import LINK_SIGNING, derive_key, split_keys
from domain import links

ACK_LINK_LIFETIME_S = 24 * 3600
# What a link this server made looks like: ASCII digits and hex only, bounded in length. Anything
# else is refused before it is parsed or compared (int() reads other scripts' digits, and
# hmac.compare_digest raises on non-ASCII text). The signature part is looser than the 32 hex
# digits made here, so a mangled signature reads "not valid" rather than "incomplete".
_TOKEN_SHAPE = re.compile(r"([0-9]{1,18})\.([0-9]{1,12})\.([0-9a-f]{1,64})", re.ASCII)


def _link_keys(secret: str) -> list[bytes]:
    """The signing key of each key in `secret`, current first."""
    return [derive_key(key, LINK_SIGNING) for key in split_keys(secret) or [secret]]


def _signature(key: bytes, incident_id: int, expires: int) -> str:
    message = f"ack:{incident_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def ack_token(
    secret: str, incident_id: int, now: float | None = None, lifetime_s: int = ACK_LINK_LIFETIME_S
) -> str:
    expires = int((now if now is not None else time.time()) + lifetime_s)
    return f"{incident_id}.{expires}.{_signature(_link_keys(secret)[0], incident_id, expires)}"


def ack_url(public_url: str, secret: str, incident_id: int, now: float | None = None) -> str:
    return links.ack_url(public_url, ack_token(secret, incident_id, now))


class InvalidLink(Exception):
    """The link is malformed, forged or expired; the message says which, for the person."""


class MalformedLink(InvalidLink):
    """Not the shape of an acknowledgement link at all (cut short, mangled, or made up)."""


def parse_token(token: str) -> tuple[int, int, str]:
    """(incident id, expiry, signature) of a token shaped like a link; not verified."""
    shape = _TOKEN_SHAPE.fullmatch(token)
    if shape is None:
        raise MalformedLink("This acknowledgement link is incomplete or damaged: open it again "
                            "from the message, or acknowledge from the dashboard.")
    return int(shape[1]), int(shape[2]), shape[3]


def verify_token(secret: str, token: str, now: float | None = None) -> int:
    """The incident id a valid token acknowledges."""
    incident_id, expires, signature = parse_token(token)
    if not any(hmac.compare_digest(signature, _signature(key, incident_id, expires))
               for key in _link_keys(secret)):
        raise InvalidLink("This acknowledgement link is not valid.")
    if (now if now is not None else time.time()) > expires:
        raise InvalidLink("This acknowledgement link has expired: acknowledge from the dashboard.")
    return incident_id
