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


def test_the_users_table_comes_with_0009_beside_rows_everywhere_and_goes_with_its_downgrade(
) -> None:
    from storage.users import add_user, list_users, sign_in

    url = get_settings().database_url
    engine = create_engine(url)
    with engine.begin() as connection:  # from an empty database, or one at head already
        command.upgrade(alembic_config(connection), "0008")
        command.downgrade(alembic_config(connection), "0008")
    before = MetaData()
    before.reflect(engine)
    tables = [table for table in before.sorted_tables if table.name != "alembic_version"]
    assert "dashboard_user" not in {table.name for table in tables}
    with engine.begin() as connection:
        for table in tables:
            if connection.execute(select(func.count()).select_from(table)).scalar_one():
                continue  # made by a migration (PostgreSQL's stored key)
            # Ids from the table's own sequence (still 1), so later inserts find theirs free.
            row = {column.name: _value(column) for column in table.columns
                   if not (column.name == "id" and column.primary_key)}
            connection.execute(insert(table).values(
                {**row, **{k: v for k, v in MONITOR.items() if table.name == "monitor"}}))
    engine.dispose()

    upgraded = get_engine()
    with upgraded.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        counts = {table.name: connection.execute(select(func.count()).select_from(
            SQLModel.metadata.tables[table.name])).scalar_one() for table in tables}
    assert counts == {table.name: 1 for table in tables}
    add_user("ann", "editor", "a long passphrase", actor="cli")
    assert [(u.username, u.role) for u in list_users()] == [("admin", "admin"), ("ann", "editor")]
    assert sign_in("ann", "a long passphrase") == "ann"
    with upgraded.begin() as connection:
        command.downgrade(alembic_config(connection), "0008")
        back = MetaData()
        back.reflect(connection)
        assert "dashboard_user" not in back.tables and "api_token" in back.tables
        command.upgrade(alembic_config(connection), "head")
