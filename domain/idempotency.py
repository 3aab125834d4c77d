"""Idempotency-Key (pure): what a key may be, and the fingerprint that tells two bodies apart.

A client that sends a create again (a timeout, a retried job) with the same key gets the first
answer, not a second thing made. The key is the client's: 1 to 255 visible ASCII characters,
sent bare or as a quoted string (the IETF draft's structured-field form, `"8e03978e-..."`).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from domain.limits import InvalidInput, load_json

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 255


def checked_key(text: str) -> str:
    """The key a header value names, or InvalidInput naming the header."""
    key = text.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key:
        raise InvalidInput({HEADER: "send a key of 1 to 255 characters, e.g. a UUID"})
    if len(key) > MAX_KEY_CHARS:
        raise InvalidInput({HEADER: f"a key has at most {MAX_KEY_CHARS} characters"})
    if not all("!" <= char <= "~" for char in key):
        raise InvalidInput({HEADER: "use visible ASCII characters only (no spaces), e.g. a "
                                    "UUID"})
    return key


def body_fingerprint(secret: str, body: bytes) -> str:
    """What a body is, for telling a repeat from a different request: the same JSON in another
    order or spacing is the same body. Keyed (HMAC-SHA256) because a body may hold a password
    and a plain hash of it could be searched back."""
    try:
        canonical = json.dumps(load_json(body or b"null"), sort_keys=True, ensure_ascii=False,
                               separators=(",", ":")).encode()
    except ValueError:  # not JSON: the route refuses it, the bytes still identify it
        canonical = body
    return hmac.new(secret.encode(), canonical, hashlib.sha256).hexdigest()
