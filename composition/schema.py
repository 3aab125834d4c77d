"""`upwatch migrate [--check]`: which schema migrations a database still needs, read without
changing it (Upwatch applies them itself at start; cautious operators look first)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from storage.migrate import INITIAL_REVISION, alembic_config


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # None: an empty database
    head: str
    pending: list[str]  # "0005: what it does", oldest first

    def describe(self) -> str:
        if not self.pending:
            return f"the schema is up to date (revision {self.head})"
        at = f"revision {self.current}" if self.current else "an empty database"
        steps = "\n".join(f"  {step}" for step in self.pending)
        return (f"{len(self.pending)} migration(s) to apply, from {at} to {self.head} (Upwatch "
                f"applies them at its next start, or run `upwatch migrate`):\n{steps}")


def schema_status(database_url: str) -> SchemaStatus:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not Path(url.database).exists():
        raise FileNotFoundError(f"there is no database at {url.database} (check "
                                "UPWATCH_DATA_DIR or UPWATCH_DATABASE_URL)")
    # A plain engine: storage.db's would migrate the database as it opens it.
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current is None and "monitor" in inspect(connection).get_table_names():
                current = INITIAL_REVISION  # made before migrations existed: stamped at start
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    pending = [f"{rev.revision}: {(rev.doc or '').strip()}"
               for rev in reversed(list(script.iterate_revisions(head, current or "base")))]
    return SchemaStatus(current, head, pending)
