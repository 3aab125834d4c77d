"""`upwatch backup FILE` and `upwatch restore FILE`: a consistent copy of the database while
Upwatch runs, and that copy put back into an empty data directory (or empty PostgreSQL database).

SQLite: the online backup API copies every page in one step inside one read transaction, so the
copy is the database as of one commit; in WAL mode the writers carry on meanwhile. PostgreSQL:
pg_dump's custom format (one snapshot) and pg_restore, when PostgreSQL's client tools are there.
Secrets in the database stay encrypted: the key (UPWATCH_SECRET_KEY, or the generated
`secret.key` beside the SQLite file) is never in the copy, and must be kept apart from it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from storage.key_source import KEY_FILE_NAME


class BackupError(Exception):
    """What went wrong, in a sentence the operator can act on."""


def backup(database_url: str, target: Path) -> str:
    if target.exists():
        raise BackupError(f"{target} already exists: name a new file (backups are never "
                          "overwritten)")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _backup_sqlite(_sqlite_file(url), target)
    if url.get_backend_name() == "postgresql":
        return _backup_postgres(url, target)
    raise BackupError(f"cannot back up a {url.get_backend_name()} database")


def restore(database_url: str, source: Path, secret_key_file: Path | None = None) -> str:
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _restore_sqlite(source, _sqlite_file(url), secret_key_file)
    if url.get_backend_name() == "postgresql":
        return _restore_postgres(source, url)
    raise BackupError(f"cannot restore into a {url.get_backend_name()} database")


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"{url} is not a SQLite file")
    return Path(url.database)


def _copy_sqlite(source: sqlite3.Connection, target: Path) -> None:
    """`source` into a new file at `target` (0600), self-contained (no -wal beside it)."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)  # all pages in one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"the copy in {partial} failed SQLite's integrity check")
    finally:
        copy.close()
    partial.replace(target)


def _backup_sqlite(database: Path, target: Path) -> str:
    if not database.is_file():
        raise BackupError(f"there is no database at {database} (check UPWATCH_DATA_DIR or "
                          "UPWATCH_DATABASE_URL)")
    source = sqlite3.connect(database, timeout=30)
    try:
        _copy_sqlite(source, target)
    finally:
        source.close()
    key = database.with_name(KEY_FILE_NAME)
    keep_key = (f"; the secrets in it need the key in {key}: keep a copy of that file apart "
                "from the backup" if key.exists() else
                "; the secrets in it need UPWATCH_SECRET_KEY: keep it apart from the backup")
    return f"backed up {database} to {target}{keep_key}"


def _restore_sqlite(source: Path, database: Path, secret_key_file: Path | None) -> str:
    data_dir = database.parent
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty: restore into an empty data directory "
                          "(a new UPWATCH_DATA_DIR), or move its files away first")
    try:
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        tables = {row[0] for row in backup_file.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite backup: {exc}") from exc
    try:
        if "alembic_version" not in tables:
            raise BackupError(f"{source} is not an Upwatch database (it has no alembic_version "
                              "table)")
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _copy_sqlite(backup_file, database)
    finally:
        backup_file.close()
    if secret_key_file is not None:
        key = database.with_name(KEY_FILE_NAME)
        shutil.copyfile(secret_key_file, key)
        key.chmod(0o600)
    return f"restored {source} into {database}; Upwatch upgrades its schema at start"


def _client_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found on PATH: install PostgreSQL's client tools "
                          "(Debian: apt install postgresql-client; the same major version as "
                          "the server or newer), or back up with your provider's snapshots")
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore, its password passed in the environment, not argv."""
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")


def _backup_postgres(url: URL, target: Path) -> str:
    pg_dump = _client_tool("pg_dump")
    dbname, env = _libpq(url)
    partial = target.with_name(target.name + ".partial")
    _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
          f"--dbname={dbname}"], env)
    partial.chmod(0o600)
    partial.replace(target)
    return (f"backed up database {url.database} to {target} (pg_dump custom format); the "
            "secrets in it need UPWATCH_SECRET_KEY: keep it apart from the backup")


def _restore_postgres(source: Path, url: URL) -> str:
    pg_restore = _client_tool("pg_restore")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(f"database {url.database} is not empty ({len(tables)} tables): "
                          "restore into a new, empty database")
    dbname, env = _libpq(url)
    _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
          f"--dbname={dbname}", str(source)], env)
    return (f"restored {source} into database {url.database}; Upwatch upgrades its schema "
            "at start")
