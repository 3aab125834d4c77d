"""Bring a database to the newest schema with Alembic (migrations/), at engine creation.

Works from an empty SQLite file or PostgreSQL database. Two processes starting together do not
race: PostgreSQL serialises migrators with an advisory lock, SQLite with a write lock.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

ROOT = Path(__file__).resolve().parent.parent
INITIAL_REVISION = "0001"
_MIGRATOR_LOCK = 7_270_001  # any constant: the advisory lock's name


def alembic_config(connection: Connection | None = None) -> Config:
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


def migrate_to_head(engine: Engine) -> None:
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
