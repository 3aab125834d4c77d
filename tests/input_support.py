"""What the input-boundary tests share: the write routes as the server mounts them, and the whole
database as plain rows, to prove that a refused request wrote nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from storage.db import get_engine

AUTH = {"Authorization": "Bearer s3cret-token"}  # what tests/conftest.py sets the token to
GOOD = {"name": "API", "url": "http://127.0.0.1:9/health", "interval": 30, "timeout": 5}


def api_client() -> TestClient:
    # Server errors become 500 answers, as a client sees them, rather than exceptions.
    return TestClient(Starlette(routes=build_routes(Runtime())), raise_server_exceptions=False)


def database_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (monitors and their options included), in key order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with get_engine().connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in connection.execute(query)]
    return rows
