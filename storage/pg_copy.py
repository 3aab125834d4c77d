"""Bulk writes on PostgreSQL with binary COPY: the recorder's thousands of rows per batch.

A pipelined `executemany` costs a round of parameter dumping and a statement per row on both
sides; binary COPY streams the rows as one message. Rows are inserted with a plain COPY; rows
are updated by copying them into a temporary table (one per session, emptied at commit) and
running one `UPDATE ... FROM` over it. Everything stays in the caller's transaction, so a batch
is committed whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

# PostgreSQL type names of the columns the recorder writes, for binary COPY.
COLUMN_TYPES: dict[str, dict[str, str]] = {
    "check_result": {
        "monitor_id": "int4", "checked_at": "timestamptz", "outcome": "varchar",
        "latency_ms": "float8", "http_status": "int4", "reason": "varchar",
        # JSON already dumped to text: the binary form of json is its text.
        "phases": "text",
    },
    "monitor_state": {
        "monitor_id": "int4", "state": "varchar", "reason": "varchar", "since": "timestamptz",
        "last_check_at": "timestamptz", "last_latency_ms": "float8",
        "consecutive_failures": "int4", "consecutive_successes": "int4",
        "cert_not_after": "timestamptz",
    },
    "rollup": {
        "monitor_id": "int4", "period": "varchar", "bucket_start": "timestamptz",
        "bucket_end": "timestamptz", "up_s": "int4", "degraded_s": "int4", "down_s": "int4",
        "maintenance_s": "int4", "checks": "int4", "failures": "int4", "histogram": "bytea",
        "min_ms": "float8", "max_ms": "float8",
    },
}


def _copy(connection: Connection, table: str, types: dict[str, str], columns: Sequence[str],
          rows: Sequence[Sequence[object]]) -> None:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([types[name] for name in columns])
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def copy_insert(connection: Connection, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[object]]) -> None:
    """INSERT `rows` (tuples in `columns` order) into `table`."""
    if rows:
        _copy(connection, table, COLUMN_TYPES[table], columns, rows)


def copy_update(connection: Connection, table: str, keys: Sequence[str], columns: Sequence[str],
                rows: Sequence[Sequence[object]]) -> None:
    """UPDATE the rows of `table` matching each row's `keys` to its other `columns`.

    `columns` lists every value of a row, keys included, in the rows' order.
    """
    if not rows:
        return
    staging = f"upwatch_staged_{table}"
    types = COLUMN_TYPES[table]
    # Every time, not once per session: a table made in a transaction that rolled back is gone.
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
        f"({', '.join(f'{name} {types[name]}' for name in columns)}) ON COMMIT DELETE ROWS")
    _copy(connection, staging, types, columns, rows)
    assignments = ", ".join(f"{name} = s.{name}" for name in columns if name not in keys)
    matches = " AND ".join(f"t.{name} = s.{name}" for name in keys)
    connection.exec_driver_sql(
        f"UPDATE {table} AS t SET {assignments} FROM {staging} AS s WHERE {matches}")
