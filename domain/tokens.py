"""API tokens (pure): their scopes, how they are made and kept.

A token is `uwt_` and 43 URL-safe characters (256 random bits): shown once when made, kept only
as its SHA-256 (a token is random enough that a fast hash cannot be searched back, unlike a
password). Scopes nest: read < write < admin.
"""

from __future__ import annotations

import hashlib
import secrets

SCOPES = ("read", "write", "admin")
TOKEN_PREFIX = "uwt_"
SHOWN_PREFIX_CHARS = 8  # how much of a token lists show, to tell tokens apart


def allows(scope: str, needed: str) -> bool:
    """Whether a token of `scope` may do what needs `needed`."""
    return scope in SCOPES and SCOPES.index(scope) >= SCOPES.index(needed)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def shown_prefix(token: str) -> str:
    return token[:len(TOKEN_PREFIX) + SHOWN_PREFIX_CHARS]
