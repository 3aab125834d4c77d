"""Storage tests on both backends: `backend` runs a test on SQLite and on PostgreSQL.

PostgreSQL comes from UPWATCH_TEST_POSTGRES_URL (a server where the user may create databases);
each test module gets a fresh database, emptied after every test. Without a reachable server the
PostgreSQL half skips, and with CI=true it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.settings import get_settings
from storage.db import get_engine
from tests.conftest import require_or_skip

POSTGRES_URL = os.environ.get("UPWATCH_TEST_POSTGRES_URL", "")


def _server_answers(url: str) -> bool:
    if not url:
        return False
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database for this test module."""
    require_or_skip(
        _server_answers(POSTGRES_URL),
        "PostgreSQL not reachable: set UPWATCH_TEST_POSTGRES_URL to a server URL",
    )
    name = f"upwatch_test_{uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_tables() -> None:
    engine = get_engine()
    with engine.begin() as connection:
        tables = [
            row[0] for row in connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            ))
        ]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test once on SQLite (the per-test file) and once on a PostgreSQL database."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    url = request.getfixturevalue("postgres_database")
    monkeypatch.setenv("UPWATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        yield "postgres"
    finally:
        _empty_tables()
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
