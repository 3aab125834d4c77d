"""Named API tokens: made (the token shown once), listed, revoked, and checked on each request.

A request is checked against the active tokens held in memory, read again at most every
ACTIVE_TOKENS_TTL_S (a revocation takes effect within that time in every web process) and at
once in the process that made or revoked one. Last use is written at most once a minute per
token, off the request's thread.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.limits import InvalidInput, checked_line
from domain.tokens import SCOPES, TOKEN_PREFIX, new_token, shown_prefix, token_hash
from storage.audit import record
from storage.db import get_engine
from storage.models import ApiToken, as_utc, utcnow
from storage.tables import table_of

TOKENS = table_of(ApiToken)
ACTIVE_TOKENS_TTL_S = 5.0
LAST_USED_EVERY = timedelta(minutes=1)
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class Grant:
    """Who a request's token names and what it may do."""

    actor: str  # what the audit log records
    scope: str


def _view(row: Any) -> TokenView:
    return TokenView(row.id, row.name, row.scope, row.prefix, as_utc(row.created_at) or utcnow(),
                     as_utc(row.expires_at), as_utc(row.revoked_at), as_utc(row.last_used_at))


def create_token(name: str, scope: str, expires_in_days: int | None, *,
                 actor: str) -> tuple[TokenView, str]:
    """A new token: its view, and the token itself (shown this once, never stored)."""
    errors: dict[str, str] = {}
    try:
        name = checked_line("name", name, 100,
                            missing="give the token a name (what uses it: 'ci', 'grafana')")
    except InvalidInput as problem:
        errors.update(problem.errors)
    if scope not in SCOPES:
        errors["scope"] = "choose read, write or admin"
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = f"choose 1 to {MAX_EXPIRY_DAYS} days, or no expiry"
    if errors:
        raise InvalidInput(errors)
    token = new_token()
    now = utcnow()
    expires = None if expires_in_days is None else now + timedelta(days=expires_in_days)
    try:
        with get_engine().begin() as connection:
            key = connection.execute(insert(TOKENS).values(
                name=name, scope=scope, token_hash=token_hash(token), prefix=shown_prefix(token),
                created_at=now, expires_at=expires)).inserted_primary_key
            assert key is not None
            record(connection, actor=actor, action="created", subject_kind="token",
                   subject=name, after={"scope": scope, "expires_at": expires and
                                        expires.isoformat()})
            row = connection.execute(select(TOKENS).where(TOKENS.c.id == key[0])).one()
    except IntegrityError:
        raise InvalidInput({"name": "a token has that name already: choose another"}) from None
    _forget_active()
    return _view(row), token


def list_tokens() -> list[TokenView]:
    with get_engine().connect() as connection:
        return [_view(row) for row in connection.execute(
            select(TOKENS).order_by(TOKENS.c.revoked_at.is_not(None), TOKENS.c.name))]


def revoke_token(token_id: int, *, actor: str) -> bool:
    with get_engine().begin() as connection:
        name = connection.execute(select(TOKENS.c.name).where(
            TOKENS.c.id == token_id, TOKENS.c.revoked_at.is_(None))).scalar()
        if name is None:
            return False
        connection.execute(update(TOKENS).where(TOKENS.c.id == token_id)
                           .values(revoked_at=utcnow()))
        record(connection, actor=actor, action="revoked", subject_kind="token", subject=name)
    _forget_active()
    return True


# --- checking a request's token ----------------------------------------------------------------

_lock = threading.Lock()
# (read at, database URL, hash -> token): kept per database, as tests switch databases
_active: tuple[float, str, dict[str, tuple[int, str, str, datetime | None]]] | None = None
_last_written: dict[str, datetime] = {}  # by token hash: unique, unlike ids across databases
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="token-use")


def _forget_active() -> None:
    global _active
    with _lock:
        _active = None


def _active_tokens() -> dict[str, tuple[int, str, str, datetime | None]]:
    """hash -> (id, name, scope, expiry) of the tokens not revoked, read at most every TTL."""
    global _active
    engine = get_engine()
    url = str(engine.url)
    with _lock:
        if (_active is not None and _active[1] == url
                and time.monotonic() - _active[0] < ACTIVE_TOKENS_TTL_S):
            return _active[2]
    with engine.connect() as connection:
        rows = connection.execute(select(
            TOKENS.c.token_hash, TOKENS.c.id, TOKENS.c.name, TOKENS.c.scope,
            TOKENS.c.expires_at, TOKENS.c.last_used_at).where(TOKENS.c.revoked_at.is_(None))).all()
    tokens = {row.token_hash: (row.id, row.name, row.scope, as_utc(row.expires_at))
              for row in rows}
    with _lock:
        _active = (time.monotonic(), url, tokens)
        for row in rows:
            used = as_utc(row.last_used_at)
            if used is not None:
                _last_written.setdefault(row.token_hash, used)
    return tokens


def grant_for(token: str, now: datetime | None = None) -> Grant | None:
    """The grant of a named token, or None (unknown, revoked or expired)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    hashed = token_hash(token)
    found = _active_tokens().get(hashed)
    now = now or utcnow()
    if found is None:
        return None
    token_id, name, scope, expires = found
    if expires is not None and expires <= now:
        return None
    with _lock:
        last = _last_written.get(hashed)
        due = last is None or now - last >= LAST_USED_EVERY
        if due:
            _last_written[hashed] = now
    if due:
        _writer.submit(_write_last_use, token_id, now)
    return Grant(f"token:{name}", scope)


def _write_last_use(token_id: int, at: datetime) -> None:
    with get_engine().begin() as connection:
        connection.execute(update(TOKENS).where(TOKENS.c.id == token_id).values(last_used_at=at))
