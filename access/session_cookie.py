"""The operator's sign-in cookie: an expiry and a random nonce, signed with HMAC-SHA256.

The value is `<expiry>.<nonce>.<signature>` in base64url. It says only "signed in until
<expiry>"; there is no server-side session, so signing out removes the cookie from the browser
(a copied cookie stays valid until it expires: 12 hours by default).

The key is derived from the secret that signs acknowledgement links (UPWATCH_SECRET_KEY, or the
key kept in the database), under its own label: a cookie signature never verifies as a link.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from config.secret_keys import derive_key, split_keys

COOKIE_NAME = "upwatch_session"
SESSION_TTL_S = 12 * 3600
SESSION_COOKIE = b"upwatch session cookie v1"
NONCE_BYTES = 16
MAX_VALUE_CHARS = 256


def session_keys(secret: str) -> list[bytes]:
    """The cookie key of each key in `secret` (comma-separated, current first)."""
    return [derive_key(key, SESSION_COOKIE) for key in split_keys(secret) or [secret]]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()


def issue(key: bytes, now: float, ttl_s: int) -> str:
    """A cookie value valid until `now + ttl_s`."""
    message = f"{int(now) + ttl_s}.{_b64(secrets.token_bytes(NONCE_BYTES))}"
    return f"{message}.{_b64(_signature(key, message))}"


def verify(key: bytes, value: str, now: float) -> bool:
    """Whether `value` was issued with `key` and has not expired at `now`."""
    if not value or len(value) > MAX_VALUE_CHARS or not value.isascii():
        return False
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    expires, nonce, signature = parts
    try:
        given = _unb64(signature)
        _unb64(nonce)
    except (binascii.Error, ValueError):
        return False
    if not hmac.compare_digest(given, _signature(key, f"{expires}.{nonce}")):
        return False
    return int(expires) > now


def verify_any(keys: list[bytes], value: str, now: float) -> bool:
    """Whether any of `keys` (the current one and those still listed) signed `value`."""
    return any(verify(key, value, now) for key in keys)
