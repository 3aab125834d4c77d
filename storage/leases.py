"""A lease that at most one process holds at a time: who runs a once-per-deployment job.

On PostgreSQL it is a session-level advisory lock, held as long as its connection lives (a
process that dies releases it with its connection). On SQLite every process shares one file on
one machine, so an exclusive lock on a file beside the database does the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine, make_url


def _lock_key(name: str) -> int:
    # A stable signed 64-bit key per lease name (advisory locks take a bigint).
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                          signed=True)


class Lease:
    """Not thread-safe: one thread asks for it and gives it back."""

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._name = name
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True while this process holds it."""
        if self._connection is not None and not self._session_alive():
            self._drop_connection()  # the server ended the session: the lock went with it
        if self.held:
            return True
        if self._engine.dialect.name == "postgresql":
            self._connection = self._try_advisory_lock()
        else:
            self._file = self._lock_file()
        return self.held

    def _try_advisory_lock(self) -> Connection | None:
        connection = self._engine.connect()
        # Out of the pool before the lock is taken: a session-level lock survives the pool's
        # reset (a rollback), so a pooled connection would go on holding it for whoever
        # borrows it next, long after release() - or hold it unseen if anything below raised.
        # Detached, closing the connection ends the session, and the lock with it.
        connection.detach()
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(CAST(:key AS bigint))"),
                                     {"key": _lock_key(self._name)}).scalar()
            connection.commit()  # idle, not idle in transaction, while it holds the lock
        except BaseException:
            connection.close()
            raise
        if got:
            return connection
        connection.close()
        return None

    def _session_alive(self) -> bool:
        assert self._connection is not None
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            return False
        return True

    def _lock_file(self) -> IO[bytes] | None:
        database = make_url(str(self._engine.url)).database
        if not database or database == ":memory:":
            # An in-memory database belongs to one process: it holds the lease.
            return open(os.devnull, "rb")
        # Owner-only, like the database beside it.
        descriptor = os.open(Path(f"{database}.{self._name}.lock"),
                             os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        handle = os.fdopen(descriptor, "ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def _drop_connection(self) -> None:
        assert self._connection is not None
        connection, self._connection = self._connection, None
        # Detached from the pool, closing really closes: the session ends and the lock with it.
        # A session the server already ended has nothing left to free.
        with contextlib.suppress(Exception):
            connection.close()

    def release(self) -> None:
        if self._connection is not None:
            self._drop_connection()
        if self._file is not None:
            self._file.close()  # closing the file releases its flock
            self._file = None
