"""Alembic environment: the target schema is SQLModel.metadata with every model module loaded."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from config.settings import get_settings

# Tables live in storage/models.py and storage/*_models.py: load them all, so a new module
# needs no registration here.
importlib.import_module("storage.models")
for module in sorted((Path(__file__).resolve().parent.parent / "storage").glob("*_models.py")):
    importlib.import_module(f"storage.{module.stem}")

target_metadata = SQLModel.metadata


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # storage/db.py hands over its own connection
        _configure_and_run(connection)
        return
    engine = create_engine(get_settings().database_url)
    with engine.connect() as connection:
        _configure_and_run(connection)
    engine.dispose()


run_migrations_online()
