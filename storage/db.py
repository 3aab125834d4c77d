"""Database engine and sessions, for the embedded SQLite default and PostgreSQL."""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from config.settings import get_settings
from storage import (  # noqa: F401  (each registers its tables on SQLModel.metadata)
    alerting_models,
    escalation_models,
    idempotency_models,
    models,
    report_models,
    rule_models,
)
from storage.key_source import install_box
from storage.migrate import migrate_to_head
from storage.secret_box import box_for, use_box

log = logging.getLogger(__name__)


def _prepare_sqlite(url: str) -> dict[str, Any]:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        _make_private(Path(database))
    # The engine writes from worker threads while pages read from theirs.
    return {"check_same_thread": False, "timeout": 30}


def _make_private(database: Path) -> None:
    """The database holds every result and secret: only its owner may read it.

    The directory is made 0700 and the file 0600 before SQLite opens it; SQLite gives its -wal
    and -shm files the mode of the database file. Files an older version made readable to others
    are closed to them too.
    """
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))  # never truncates
    for path in (database, *(database.with_name(database.name + suffix)
                             for suffix in ("-wal", "-shm", "-journal"))):
        try:
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except OSError as exc:  # not ours to change (a read-only mount, another owner)
            log.warning("could not make %s private: %s", path, exc)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets pages read while the engine writes; NORMAL is durable across process crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Checkpoint the WAL every ~32 MiB rather than every 4 MiB: the hot pages (current rollups,
    # monitor states, index leaves) are rewritten by every batch, and a checkpoint copies each
    # only once however often it changed. Ingest runs about twice as fast.
    cursor.execute("PRAGMA wal_autocheckpoint=8192")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Up to 64 MiB of pages kept per connection instead of 2 MiB (grown only as pages are
    # read): a monitor's year of daily rollups alone spans ~370 pages. With a year of history,
    # one monitor's year read goes 7 -> 2.6 ms and the status read model 71 -> 44 ms.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args=_prepare_sqlite(url))
        event.listen(engine, "connect", _tune_sqlite)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    try:
        migrate_to_head(engine)
        install_box(engine, get_settings())  # refuses to start when the keys open no secret
    except Exception:
        engine.dispose()
        raise
    return engine


def read_connection(engine: Engine | None = None) -> Connection:
    """A connection for statements that only read.

    On PostgreSQL it comes from a pool of autocommit connections: each statement sees its own
    snapshot, as it would in the default READ COMMITTED transaction, without the BEGIN and
    ROLLBACK round trips that transaction costs. (Switching a pooled connection to autocommit
    and back costs more round trips than it saves.)
    """
    engine = engine or get_engine()
    if engine.dialect.name != "postgresql":
        return engine.connect()
    with _readers_lock:
        reader = _readers.get(engine)
        if reader is None:
            reader = _readers[engine] = create_engine(
                engine.url, isolation_level="AUTOCOMMIT", pool_pre_ping=True, pool_size=5,
                max_overflow=10)
            use_box(reader.dialect, box_for(engine.dialect))
            # Disposing of the engine closes its readers' connections too.
            event.listen(engine, "engine_disposed", lambda _engine: reader.dispose())
    return reader.connect()


_readers: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_readers_lock = threading.Lock()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session
        session.commit()


def database_answers(engine: Engine | None = None) -> bool:
    try:
        with (engine or get_engine()).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
