"""The migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from domain.monitor_input import parse_monitor_input
from storage.db import get_engine
from storage.migrate import alembic_config
from storage.monitors import create_monitor, get_monitor
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
    slug = create_monitor(parse_monitor_input({"name": "Kept", "url": "http://127.0.0.1:1/"})).slug
    get_engine().dispose()
    get_engine.cache_clear()
    engine = get_engine()  # a second start on the migrated database
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == head
        assert compare_metadata(context, SQLModel.metadata) == []
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [row[0] for row in versions] == [head]
    kept = get_monitor(slug)
    assert kept is not None and kept.name == "Kept"  # nothing was rebuilt


def test_going_back_before_sealing_leaves_the_secrets_plain_and_coming_back_seals_them() -> None:
    slug = create_monitor(parse_monitor_input({
        "name": "API", "url": "http://127.0.0.1:1/", "options": {"bearer_token": "tok-9f8e"}})).slug
    engine = get_engine()
    options = text("SELECT CAST(options AS TEXT) FROM monitor")
    with engine.begin() as connection:
        assert "tok-9f8e" not in connection.execute(options).scalar_one()
        command.downgrade(alembic_config(connection), "0002")
        assert '"bearer_token": "tok-9f8e"' in connection.execute(options).scalar_one()
        command.upgrade(alembic_config(connection), "head")
        assert "tok-9f8e" not in connection.execute(options).scalar_one()
    # As after a restart: on PostgreSQL without UPWATCH_SECRET_KEY, going back dropped the
    # stored key and coming back made a new one.
    engine.dispose()
    get_engine.cache_clear()
    monitor = get_monitor(slug)
    assert monitor is not None and monitor.options["bearer_token"] == "tok-9f8e"
