"""The admin password check: UPWATCH_ADMIN_PASSWORD is an argon2id hash (`upwatch
hash-password` prints one) or, still accepted with a warning at start, the password itself."""

from __future__ import annotations

import hmac
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from config.settings import Settings

log = logging.getLogger("upwatch")

ARGON2ID_PREFIX = "$argon2id$"
_HASHER = PasswordHasher()


def admin_password_configured(settings: Settings) -> bool:
    return settings.admin_password is not None and bool(settings.admin_password.get_secret_value())


def is_hashed(stored: str) -> bool:
    return stored.startswith(ARGON2ID_PREFIX)


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, for UPWATCH_ADMIN_PASSWORD."""
    return _HASHER.hash(password)


def password_matches(candidate: str, settings: Settings) -> bool:
    if not admin_password_configured(settings):
        return False
    assert settings.admin_password is not None
    stored = settings.admin_password.get_secret_value()
    if is_hashed(stored):
        try:
            return _HASHER.verify(stored, candidate)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    return hmac.compare_digest(candidate.encode(), stored.encode())


def warn_if_plain(settings: Settings) -> bool:
    """Log a warning when the admin password is kept in plain text; whether it was."""
    if not admin_password_configured(settings):
        return False
    assert settings.admin_password is not None
    if is_hashed(settings.admin_password.get_secret_value()):
        return False
    log.warning("UPWATCH_ADMIN_PASSWORD holds the password itself: run `upwatch hash-password` "
                "and set the variable to the argon2id hash it prints")
    return True
