"""Passwords: the one argon2id hasher, what a password must be, and the bootstrap admin's check.

UPWATCH_ADMIN_PASSWORD is the password of the user "admin" (BOOTSTRAP_ADMIN): an argon2id hash
(`upwatch hash-password` prints one) or, still accepted with a warning at start, the password
itself. Every other user's password is kept as an argon2id hash in the users table
(storage/users)."""

from __future__ import annotations

import hmac
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from config.settings import Settings

log = logging.getLogger("upwatch")

ARGON2ID_PREFIX = "$argon2id$"
BOOTSTRAP_ADMIN = "admin"  # who signs in with UPWATCH_ADMIN_PASSWORD
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # hashing is slow on purpose: bound what one sign-in can cost
_HASHER = PasswordHasher()


def admin_password_configured(settings: Settings) -> bool:
    return settings.admin_password is not None and bool(settings.admin_password.get_secret_value())


def is_hashed(stored: str) -> bool:
    return stored.startswith(ARGON2ID_PREFIX)


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (for UPWATCH_ADMIN_PASSWORD, or a user's row)."""
    return _HASHER.hash(password)


def hash_matches(stored: str, candidate: str) -> bool:
    """Whether `candidate` is the password of the argon2id hash `stored`."""
    try:
        return _HASHER.verify(stored, candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with weaker settings than the hasher's current ones."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return False


_decoy: list[str] = []


def spend_a_verification(candidate: str) -> None:
    """As long as a real check takes, for a name that has no password: the answer's timing
    does not tell which usernames exist."""
    if not _decoy:
        _decoy.append(_HASHER.hash("decoy password, never matched"))
    hash_matches(_decoy[0], candidate)


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, as a sentence; None when it will do."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"choose a password of at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"choose a password of at most {MAX_PASSWORD_CHARS} characters"
    if password != password.strip() or "\n" in password or "\r" in password:
        return "a password cannot start or end with spaces or hold a line break"
    return None


def password_matches(candidate: str, settings: Settings) -> bool:
    """Whether `candidate` is UPWATCH_ADMIN_PASSWORD (hashed or plain)."""
    if not admin_password_configured(settings):
        return False
    assert settings.admin_password is not None
    stored = settings.admin_password.get_secret_value()
    if is_hashed(stored):
        return hash_matches(stored, candidate)
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
