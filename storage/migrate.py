"""Bring a database to the newest schema with Alembic (migrations/), at engine creation.

Works from an empty SQLite file or PostgreSQL database. Two processes starting together do not
race: PostgreSQL serialises migrators with an advisory lock, SQLite with a write lock.

A process that has migrated leaves the head revision in its environment (SCHEMA_HEAD_ENV), so
the child processes it spawns (the probe engine, the read-model builder) inherit it: a child
then reads the database's one version row, and when it is that head skips Alembic altogether
(loading it and every migration script cost each child ~10 MB and ~150 ms). Any other answer
(another database, an older schema, no version table) migrates as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
INITIAL_REVISION = "0001"
_MIGRATOR_LOCK = 7_270_001  # any constant: the advisory lock's name
SCHEMA_HEAD_ENV = "UPWATCH_SCHEMA_HEAD"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATOR_LOCK})"))
    elif connection.dialect.name == "sqlite":
        # pysqlite runs DDL outside a transaction unless one is opened explicitly.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _stored_revisions(engine: Engine) -> str | None:
    """The database's revisions as `_head_revisions` writes them; None without a version table."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return ",".join(sorted(rows))
    except Exception:  # no version table yet (or no database): the migration will tell
        return None


def _head_revisions(config: Config) -> str:
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def known_at_head(engine: Engine) -> bool:
    """Whether the parent's head revision (inherited, see the docstring) is the database's."""
    head = os.environ.get(SCHEMA_HEAD_ENV)
    return bool(head) and _stored_revisions(engine) == head


def migrate_to_head(engine: Engine) -> None:
    if known_at_head(engine):
        return
    from alembic import command

    with engine.connect() as connection:
        _lock(connection)
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "monitor" in tables:
            # A database made before migrations existed (by create_all): it has the initial
            # schema, so record that instead of creating the tables again.
            command.stamp(config, INITIAL_REVISION)
        command.upgrade(config, "head")
        connection.commit()
    # Inherited by the processes spawned from now on (see the docstring).
    os.environ[SCHEMA_HEAD_ENV] = _head_revisions(config)
