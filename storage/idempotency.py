"""The answers of creates sent with an Idempotency-Key (table idempotency_key), kept KEEP.

`reserve` claims a key before the create runs: the unique (principal, key) lets exactly one
request in, whichever process it reaches, and tells every other one with that key whether to
replay the stored answer, to wait (the first is still running), or that it asks something else.
`complete` keeps the answer; `release` frees the key of a create that made nothing, so the
client may send it again. A key whose create never finished (its process died) stays claimed
until it expires: it may have been made, and running it again could make it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import get_engine
from storage.idempotency_models import IdempotencyKey
from storage.models import utcnow
from storage.tables import table_of, utc

KEYS = table_of(IdempotencyKey)
KEEP = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Reserved:
    """The key is this request's: run the create, then `complete` or `release`."""

    row_id: int


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    media_type: str
    answer: str


@dataclass(frozen=True, slots=True)
class Different:
    """The key was used for another request (another route or body)."""


@dataclass(frozen=True, slots=True)
class Running:
    """The first request with this key has not answered yet."""

    since: datetime


Claim = Reserved | Replay | Different | Running


def reserve(principal: str, key: str, request: str, body_hash: str,
            now: datetime | None = None) -> Claim:
    now = now or utcnow()
    engine = get_engine()
    mine = (KEYS.c.principal == principal) & (KEYS.c.key == key)
    for _ in range(3):  # the holder may release it, or it expire, between insert and read
        try:
            with engine.begin() as connection:
                inserted = connection.execute(insert(KEYS).values(
                    principal=principal, key=key, request=request, body_hash=body_hash,
                    created_at=now)).inserted_primary_key
            assert inserted is not None
            return Reserved(int(inserted[0]))
        except IntegrityError:
            pass
        with engine.connect() as connection:
            row = connection.execute(select(KEYS).where(mine)).first()
        if row is None:
            continue
        if utc(row.created_at) < now - KEEP:  # an expired key is as good as new
            with engine.begin() as connection:
                connection.execute(delete(KEYS).where(KEYS.c.id == row.id))
            continue
        if row.request != request or row.body_hash != body_hash:
            return Different()
        if row.status is None:
            return Running(utc(row.created_at))
        return Replay(row.status, row.media_type or "application/json", row.answer or "")
    return Running(now)


def complete(row_id: int, status: int, media_type: str, answer: str) -> None:
    with get_engine().begin() as connection:
        connection.execute(update(KEYS).where(KEYS.c.id == row_id).values(
            status=status, media_type=media_type, answer=answer))


def release(row_id: int) -> None:
    with get_engine().begin() as connection:
        connection.execute(delete(KEYS).where(KEYS.c.id == row_id, KEYS.c.status.is_(None)))


def prune_idempotency_keys(now: datetime | None = None) -> int:
    """Delete the keys older than KEEP (the retention job's part); how many went."""
    cutoff = (now or utcnow()) - KEEP
    with get_engine().begin() as connection:
        return connection.execute(delete(KEYS).where(KEYS.c.created_at < cutoff)).rowcount or 0
