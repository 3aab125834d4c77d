"""The operator's sign-in cookie: who, until when, and a random nonce, signed with HMAC-SHA256.

The value is `<expiry>.<payload>.<signature>`, the payload being base64url of 16 random bytes
followed by the username (UTF-8). It says "<username> signed in until <expiry>"; what that user
may do is looked up on every request (ui/auth), so a removed user or a changed role counts at
once. There is no server-side session: signing out removes the cookie from the browser (a
copied cookie stays valid until it expires, 12 hours by default, unless its user is removed).
A cookie made before there were users has a payload of the nonce alone: it names the one admin
of those days, BOOTSTRAP_ADMIN.

The key is derived from the secret that signs acknowledgement links (UPWATCH_SECRET_KEY, or the
key kept in the database), under its own label: a cookie signature never verifies as a link.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from access.passwords import BOOTSTRAP_ADMIN
from config.secret_keys import derive_key, split_keys

COOKIE_NAME = "upwatch_session"
SESSION_TTL_S = 12 * 3600
SESSION_COOKIE = b"upwatch session cookie v1"
NONCE_BYTES = 16
MAX_VALUE_CHARS = 256


def cookie_path(base: str) -> str:
    """The cookie's Path: the base path the app is served under ("/upwatch", as Streamlit's own
    cookies have it), so the cookie goes with that app's requests alone; "/" at the root."""
    return base or "/"


def session_keys(secret: str) -> list[bytes]:
    """The cookie key of each key in `secret` (comma-separated, current first)."""
    return [derive_key(key, SESSION_COOKIE) for key in split_keys(secret) or [secret]]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()


def issue(key: bytes, now: float, ttl_s: int, username: str = BOOTSTRAP_ADMIN) -> str:
    """A cookie value naming `username`, valid until `now + ttl_s`."""
    payload = secrets.token_bytes(NONCE_BYTES) + username.encode()
    message = f"{int(now) + ttl_s}.{_b64(payload)}"
    return f"{message}.{_b64(_signature(key, message))}"


def signed_username(key: bytes, value: str, now: float) -> str | None:
    """The username in `value` when it was issued with `key` and has not expired at `now`."""
    if not value or len(value) > MAX_VALUE_CHARS or not value.isascii():
        return None
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    expires, encoded, signature = parts
    try:
        given = _unb64(signature)
        payload = _unb64(encoded)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(given, _signature(key, f"{expires}.{encoded}")):
        return None
    if int(expires) <= now or len(payload) < NONCE_BYTES:
        return None
    try:
        username = payload[NONCE_BYTES:].decode()
    except UnicodeDecodeError:
        return None
    return username or BOOTSTRAP_ADMIN


def verify(key: bytes, value: str, now: float) -> bool:
    """Whether `value` was issued with `key` and has not expired at `now`."""
    return signed_username(key, value, now) is not None


def username_of(keys: list[bytes], value: str, now: float) -> str | None:
    """The username of a cookie any of `keys` (the current one and those still listed) signed."""
    for key in keys:
        username = signed_username(key, value, now)
        if username is not None:
            return username
    return None


def verify_any(keys: list[bytes], value: str, now: float) -> bool:
    """Whether any of `keys` (the current one and those still listed) signed `value`."""
    return username_of(keys, value, now) is not None
