"""The migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.db import get_engine
from storage.migrate import alembic_config
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("backend")


def test_an_empty_database_is_upgraded_to_the_models() -> None:
    engine = get_engine()  # runs the migrations on the fresh database
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == head
        assert compare_metadata(context, SQLModel.metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert {"monitor", "check_result", "rollup", "incident", "maintenance_window"} <= tables


def test_starting_again_changes_nothing() -> None:
    get_engine()
    get_engine.cache_clear()
    engine = get_engine()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() is not None
