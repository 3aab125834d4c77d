"""`upwatch migrate --check` lists the migrations a database still needs without applying them;
`upwatch migrate` applies them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from composition.cli import main
from storage.migrate import alembic_config


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def _exit_code(*argv: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    return int(done.value.code or 0)


def test_check_lists_what_is_left_and_changes_nothing(
    isolated_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{isolated_settings}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
    engine.dispose()

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    left = [rev.revision for rev in script.iterate_revisions(head, "0002")][::-1]
    assert left[0] == "0003"

    assert _exit_code("migrate", "--check") == 1
    said = capsys.readouterr().out
    assert said.startswith(f"{len(left)} migration(s) to apply, from revision 0002 to {head}")
    assert "  0003: stored secrets encrypted" in said
    assert [line.split(":")[0].strip() for line in said.splitlines()[1:]] == left
    assert _revision(url) == "0002"

    assert _exit_code("migrate") == 0
    assert _revision(url) == head
    assert _exit_code("migrate", "--check") == 0
    assert f"the schema is up to date (revision {head})" in capsys.readouterr().out


def test_check_of_a_missing_database_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("UPWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere.db'}")
    get_settings.cache_clear()
    assert _exit_code("migrate", "--check") == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not (tmp_path / "nowhere.db").exists()
