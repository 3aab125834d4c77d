"""An upgrade from the first released schema (revision 0001) with a row in every table: the
schema ends up as the models describe and no row is lost, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, create_engine, func, insert, select
from sqlalchemy import types as t
from sqlmodel import SQLModel

from config.settings import get_settings
from storage.db import get_engine
from storage.migrate import INITIAL_REVISION, alembic_config
from storage.monitors import get_monitor
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("backend")
MONITOR = {"name": "API", "slug": "api", "kind": "http", "url": "http://127.0.0.1:1/"}


def _value(column: Column[Any]) -> object:
    """A plain value of the column's type; every table's row has id 1, so foreign keys are 1."""
    if column.foreign_keys:
        return 1
    for kind, value in ((t.Boolean, False), (t.Integer, 1), (t.Float, 1.5), (t.Numeric, 1.5),
                        (t.DateTime, datetime(2026, 1, 1, tzinfo=UTC)), (t.LargeBinary, b""),
                        (t.JSON, {}), (t.String, "x")):
        if isinstance(column.type, kind):
            return value
    raise AssertionError(f"no test value for {column.table.name}.{column.name}: {column.type}")


def test_a_database_of_the_first_schema_with_data_everywhere_upgrades_to_now() -> None:
    url = get_settings().database_url
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), INITIAL_REVISION)
    first = MetaData()
    first.reflect(engine)
    tables = [table for table in first.sorted_tables if table.name != "alembic_version"]
    with engine.begin() as connection:
        for table in tables:
            row = {column.name: _value(column) for column in table.columns}
            connection.execute(insert(table).values(
                {**row, **{k: v for k, v in MONITOR.items() if table.name == "monitor"}}))
    engine.dispose()

    upgraded = get_engine()  # upgrades to the newest schema, as every start does
    with upgraded.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        counts = {table.name: connection.execute(select(func.count()).select_from(
            SQLModel.metadata.tables[table.name])).scalar_one() for table in tables}
    assert counts == {table.name: 1 for table in tables}
    monitor = get_monitor("api")
    assert monitor is not None and monitor.url == MONITOR["url"]
