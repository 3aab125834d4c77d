"""Which keys seal this database's secrets, and the check at start that they open what is stored.

The rule (README, "Secrets"):
- UPWATCH_SECRET_KEY set: its keys and nothing else; nothing is written anywhere.
- unset, on a SQLite file: a key generated once into `secret.key` beside the database file
  (mode 0600), so a copy of the database file alone shows no secret.
- unset, on PostgreSQL: a key generated once and kept in the database (table stored_key), as the
  link-signing key has always been kept: the processes share the database and no file. It keeps
  secrets out of dumps of single tables, not out of a copy of the whole database, so a warning
  asks for UPWATCH_SECRET_KEY.
- unset, on an in-memory SQLite database: a key for the life of the process, like the data.

The key that signs acknowledgement links and sign-in cookies (`secret_key`) is the current
UPWATCH_SECRET_KEY, or one generated once and kept, sealed, in the alert_settings row. This module
reads it without the alerting policy, so the sign-in gate (ui/auth, web/login) stays clear of it.

At start, one sealed row of each sealed column is opened. Keys that cannot open it (the variable
was changed or removed, the key file lost) stop the start with a message saying what to do,
rather than failing on every read later.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

from sqlalchemy import Connection, Text, cast, column, insert, select, table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import IntegrityError

from config.settings import Settings
from storage.alerting_models import AlertSettings
from storage.key_models import StoredKey
from storage.secret_box import (
    SEALED,
    SEALED_TEXT_PREFIX,
    SecretBox,
    SecretsUnreadable,
    open_options,
    open_strings,
    open_text,
    use_box,
)
from storage.tables import table_of

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"
STORED_KEY = table_of(StoredKey)
SIGNING_ROW = table_of(AlertSettings)
_PROCESS_KEY = secrets.token_urlsafe(32)  # for in-memory databases, which die with the process


def install_box(engine: Engine, settings: Settings) -> SecretBox:
    """Find the keys for `engine`'s database, check them, and seal its secrets with them."""
    with engine.begin() as connection:
        box, source = open_box(connection, settings)
        refuse_unreadable(connection, box, source)
    use_box(engine.dialect, box)
    return box


def secret_key(engine: Engine, settings: Settings) -> str:
    """UPWATCH_SECRET_KEY, or one made once and kept in the database (all processes share it)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return stored_signing_key(engine)


def stored_signing_key(engine: Engine) -> str:
    """The signing key kept, sealed, in the database: made by the first process that asks."""
    try:
        return _stored_signing_key(engine)
    except IntegrityError:  # another thread or process made the row at the same instant
        return _stored_signing_key(engine)


def _stored_signing_key(engine: Engine) -> str:
    with engine.begin() as connection:
        stored = select(SIGNING_ROW.c.secret_key).where(SIGNING_ROW.c.id == 1)
        if connection.execute(stored).first() is None:
            connection.execute(insert(SIGNING_ROW).values(id=1))
        key = connection.execute(stored).scalar_one()
        if key:
            return key
        # Two processes may race here: the conditional update keeps the first key.
        connection.execute(update(SIGNING_ROW).where(SIGNING_ROW.c.id == 1,
                                                     SIGNING_ROW.c.secret_key.is_(None))
                           .values(secret_key=secrets.token_urlsafe(32)))
        return connection.execute(stored).scalar_one()


def open_box(connection: Connection, settings: Settings) -> tuple[SecretBox, str]:
    """The box for the database `connection` is on, and where its key came from (for messages)."""
    if settings.secret_keys:
        return SecretBox(settings.secret_keys), "UPWATCH_SECRET_KEY"
    if connection.dialect.name == "sqlite":
        path = key_file_path(connection.engine.url)
        if path is None:
            return SecretBox([_PROCESS_KEY]), "a key made for this process"
        return SecretBox([_key_from_file(path)]), f"the key file {path}"
    log.warning("UPWATCH_SECRET_KEY is not set: the key that encrypts stored secrets is kept in "
                "the database beside them; set UPWATCH_SECRET_KEY (README, \"Secrets\")")
    return SecretBox([_key_from_database(connection)]), "the key kept in the database"


def key_file_path(url: URL) -> Path | None:
    """`secret.key` beside a SQLite database file; None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(KEY_FILE_NAME)


def _key_from_file(path: Path) -> str:
    if not path.exists():
        _write_key_file(path)
    key = path.read_text().strip()
    if not key:
        raise SecretsUnreadable(f"The key file {path} is empty: restore it from a backup, or set "
                                "UPWATCH_SECRET_KEY (README, \"Secrets\").")
    return key


def _write_key_file(path: Path) -> None:
    """Written whole under another name, then linked into place: a process starting at the same
    time reads either no file or the complete one, and the first link wins."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(scratch, path)
    except FileExistsError:
        pass  # another process made it first: its key is the key
    finally:
        scratch.unlink(missing_ok=True)


def _key_from_database(connection: Connection) -> str:
    stored = select(STORED_KEY.c.key).where(STORED_KEY.c.id == 1)
    key = connection.execute(stored).scalar_one_or_none()
    if key is None:
        values = {"id": 1, "key": secrets.token_urlsafe(32)}
        # Two processes may start together: the insert that comes second changes nothing.
        if connection.dialect.name == "postgresql":
            connection.execute(pg_insert(STORED_KEY).values(values).on_conflict_do_nothing())
        else:
            connection.execute(insert(STORED_KEY).values(values))
        key = connection.execute(stored).scalar_one()
    return key


_SEALED_IN_JSON = f'%"{SEALED}"%'
_SEALED_IN_TEXT = f"{SEALED_TEXT_PREFIX}%"


def refuse_unreadable(connection: Connection, box: SecretBox, source: str) -> None:
    """Raise SecretsUnreadable, saying what to do, when `box` cannot open what is stored."""
    try:
        options = _first_sealed(connection, "monitor", "options", _SEALED_IN_JSON)
        if options is not None:
            open_options(json.loads(options), box)
        channel_secrets = _first_sealed(connection, "alert_channel", "secrets", _SEALED_IN_JSON)
        if channel_secrets is not None:
            open_strings(json.loads(channel_secrets), box)
        signing_key = _first_sealed(connection, "alert_settings", "secret_key", _SEALED_IN_TEXT)
        if signing_key is not None:
            open_text(signing_key, box)
    except SecretsUnreadable:
        raise SecretsUnreadable(
            f"Upwatch cannot decrypt the secrets stored in the database with {source}. Set "
            "UPWATCH_SECRET_KEY to the key they were encrypted with (several keys may be listed, "
            "comma-separated, the current one first) and start again; README, \"Secrets\", says "
            "how keys are rotated."
        ) from None


def _first_sealed(connection: Connection, table_name: str, column_name: str,
                  pattern: str) -> str | None:
    """One stored value with something sealed in it, as stored (the column's type bypassed)."""
    raw = cast(column(column_name), Text)
    return connection.execute(
        select(raw).select_from(table(table_name)).where(raw.like(pattern)).limit(1)
    ).scalar()
