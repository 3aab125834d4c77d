"""`upwatch backup` while results are being written, `upwatch restore` elsewhere: the copy is one
committed state of the database and the restored database holds all of it."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from composition.backup import BackupError, backup, restore
from composition.cli import main
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.db import get_engine
from storage.monitors import create_monitor
from storage.results import record_result
from tests.pg import POSTGRES_URL, postgres_database  # noqa: F401  (fixture)

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
TABLES = ("monitor", "check_result", "monitor_state", "state_change", "incident", "rollup",
          "delivery")


class Writer(threading.Thread):
    """Records a result every few milliseconds, going down and back up every 6 checks: results,
    rollups, state changes and incidents all keep changing while the backup runs."""

    def __init__(self, monitor_id: int, first: int) -> None:
        super().__init__(daemon=True)
        self.monitor_id, self.n, self.stop = monitor_id, first, threading.Event()

    def write_one(self) -> None:
        outcome = "down" if self.n % 6 in (3, 4, 5) else "up"
        record_result(self.monitor_id, ProbeResult(
            outcome, START + timedelta(seconds=10 * self.n), latency_ms=12.5,
            reason=None if outcome == "up" else "HTTP 503"))
        self.n += 1

    def run(self) -> None:
        while not self.stop.is_set():
            self.write_one()


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {table: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {table}"))),
                                  key=repr) for table in TABLES}
    finally:
        engine.dispose()


def _assert_one_committed_state(rows: dict[str, list[tuple]], url: str) -> None:
    """Every result was written with its rollup in one transaction: the copy has both or neither."""
    engine = create_engine(url)
    with engine.connect() as connection:
        checks = connection.execute(text(
            "SELECT sum(checks) FROM rollup WHERE period = 'hour'")).scalar_one()
    engine.dispose()
    assert checks == len(rows["check_result"])


def _with_history() -> Writer:
    """Two monitors, ten outages of one (state changes not yet sent, incidents opened and
    closed); returns the writer that goes on from there."""
    create_monitor(parse_monitor_input({"name": "Web", "url": "http://127.0.0.1:2/"}))
    api = create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/"})).id
    writer = Writer(api, 0)
    while writer.n < 60:
        writer.write_one()
    return writer


def test_a_backup_taken_during_writes_restores_elsewhere_with_everything(
    tmp_path: Path, isolated_settings: Path
) -> None:
    live = f"sqlite:///{isolated_settings}"
    writer = _with_history()
    before = _rows(live)
    assert before["state_change"] and before["incident"]

    writer.start()
    try:
        while writer.n < 120:  # well into the writes
            threading.Event().wait(0.01)
        backup(live, tmp_path / "during.db")
        written_during = writer.n
    finally:
        writer.stop.set()
        writer.join(30)
    copied = _rows(f"sqlite:///{tmp_path / 'during.db'}")
    _assert_one_committed_state(copied, f"sqlite:///{tmp_path / 'during.db'}")
    assert 60 < len(copied["check_result"]) <= written_during
    for table, rows in before.items():
        if table in ("monitor_state", "rollup", "incident"):  # rows updated in place
            assert len(copied[table]) >= len(rows), table
        else:
            assert set(rows) <= set(copied[table]), table

    elsewhere = tmp_path / "elsewhere" / "data" / "upwatch.db"
    restore(f"sqlite:///{elsewhere}", tmp_path / "during.db")
    assert _rows(f"sqlite:///{elsewhere}") == copied
    assert elsewhere.stat().st_mode & 0o777 == 0o600

    # Once the writes are over, a backup restored holds exactly the live database.
    backup(live, tmp_path / "after.db")
    again = tmp_path / "again" / "upwatch.db"
    restore(f"sqlite:///{again}", tmp_path / "after.db")
    assert _rows(f"sqlite:///{again}") == _rows(live)


def test_the_commands_print_what_they_did_and_keep_the_key_apart(
    tmp_path: Path, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    get_engine()  # creates the database and its secret.key beside it
    key = isolated_settings.with_name("secret.key")
    assert key.exists()
    with pytest.raises(SystemExit) as done:
        main(["backup", str(tmp_path / "copy.db")])
    assert done.value.code == 0
    said = capsys.readouterr().out
    assert "backed up" in said and "keep a copy of that file apart" in said
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file

    monkeypatch.setenv("UPWATCH_DATA_DIR", str(tmp_path / "new"))
    monkeypatch.delenv("UPWATCH_DATABASE_URL")
    from config.settings import get_settings

    get_settings.cache_clear()
    with pytest.raises(SystemExit) as done:
        main(["restore", str(tmp_path / "copy.db"), "--secret-key-file", str(key)])
    assert done.value.code == 0
    assert (tmp_path / "new" / "secret.key").read_bytes() == key.read_bytes()

    with pytest.raises(SystemExit) as done:
        main(["restore", str(tmp_path / "copy.db")])
    assert done.value.code == 1
    assert "is not empty: restore into an empty data directory" in capsys.readouterr().err


def test_refusals_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "taken.db").write_text("")
    with pytest.raises(BackupError, match="already exists: name a new file"):
        backup(f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "taken.db")
    with pytest.raises(BackupError, match="there is no database at"):
        backup(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "new.db")
    (tmp_path / "notes.txt").write_text("not a database, but long enough to look like one" * 99)
    with pytest.raises(BackupError, match="is not a SQLite backup"):
        restore(f"sqlite:///{tmp_path / 'fresh' / 'upwatch.db'}", tmp_path / "notes.txt")
    with sqlite3.connect(tmp_path / "other.db") as other:
        other.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="not an Upwatch database"):
        restore(f"sqlite:///{tmp_path / 'fresh' / 'upwatch.db'}", tmp_path / "other.db")
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(BackupError, match="pg_dump was not found on PATH: install PostgreSQL"):
        backup("postgresql+psycopg://upwatch:pw@127.0.0.1:1/upwatch", tmp_path / "pg.dump")


@pytest.mark.postgres
def test_postgresql_round_trip_through_pg_dump_and_pg_restore(
    tmp_path: Path, postgres_database: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("PostgreSQL's client tools (pg_dump, pg_restore) are not installed")
    from uuid import uuid4

    from config.settings import get_settings

    monkeypatch.setenv("UPWATCH_DATABASE_URL", postgres_database)
    get_settings.cache_clear()
    get_engine.cache_clear()
    _with_history()
    backup(postgres_database, tmp_path / "pg.dump")
    get_engine(postgres_database).dispose()

    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"upwatch_restore_{uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    target = postgres_database.rsplit("/", 1)[0] + f"/{name}"
    try:
        restore(target, tmp_path / "pg.dump")
        assert _rows(target) == _rows(postgres_database)
        with pytest.raises(BackupError, match="is not empty"):
            restore(target, tmp_path / "pg.dump")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
