"""A rebuild serialises only the components that changed since the last one, and the bytes are
the same as serialising everything again; child processes skip migrations the parent ran."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import readmodel.board_payload as board_module
import readmodel.status_document as document_module
from domain.result import ProbeResult
from readmodel.board_payload import board_data
from readmodel.status_document import status_document
from readmodel.wire import COMPONENT_PICKLES, pack_status, unpack_snapshot
from storage.db import get_engine
from storage.migrate import SCHEMA_HEAD_ENV, alembic_config, migrate_to_head
from storage.results import record_result
from storage.status import public_status
from storage.status_numbers import forget_cached_past
from tests.stats_support import new_monitor, record
from tests.status_support import monitor
from tests.test_stats_read_model import NOW, expected, got


def _encoded_last() -> tuple[list, list, list]:
    return (COMPONENT_PICKLES.last_encoded, document_module._COMPONENTS.last_encoded,
            board_module._ROWS.last_encoded)


def test_only_the_component_with_a_new_result_is_serialised_again() -> None:
    shop, search = monitor("Shop"), monitor("Search")
    now = datetime.now(UTC) + timedelta(seconds=1)
    pack_status(public_status(now), built_at=1.0)
    pack_status(public_status(now + timedelta(seconds=1)), built_at=2.0)
    assert _encoded_last() == ([], [], [])  # nothing changed: every part reused
    record_result(shop.id, ProbeResult("down", latency_ms=None, reason="refused"))
    status = public_status(now + timedelta(seconds=5))
    snapshot = unpack_snapshot(pack_status(status, built_at=3.0))
    assert _encoded_last() == ([shop.id], [shop.id], [shop.id])
    # Readers get what serialising the whole status gives.
    assert snapshot.components["shop"].state == "down"
    assert snapshot.components["search"] == dataclasses.replace(
        next(c for c in status.components if c.id == search.id), bars=())
    assert snapshot.status == dataclasses.replace(
        status, components=tuple(dataclasses.replace(c, bars=()) for c in status.components))
    assert snapshot.board == json.dumps(board_data(status), ensure_ascii=False,
                                        separators=(",", ":")).encode()
    assert snapshot.status_json is not None
    assert snapshot.status_json.body == json.dumps(status_document(status),
                                                   separators=(",", ":")).encode()


def test_a_database_at_the_inherited_head_is_not_migrated_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from alembic import command

    engine = get_engine()  # migrated: the head is now in this process's environment
    assert os.environ[SCHEMA_HEAD_ENV]
    upgrades: list[str] = []
    real_upgrade = command.upgrade
    monkeypatch.setattr(command, "upgrade",
                        lambda config, revision: upgrades.append(revision)
                        or real_upgrade(config, revision))
    migrate_to_head(engine)
    assert upgrades == []
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "-1")
        connection.commit()
    migrate_to_head(engine)  # an older schema is migrated, whatever the parent said
    assert upgrades == ["head"]
    monkeypatch.setenv(SCHEMA_HEAD_ENV, "not-a-revision")
    migrate_to_head(engine)
    assert upgrades == ["head", "head"]


def test_a_spawned_process_opens_the_database_without_loading_the_migrations() -> None:
    get_engine()
    script = ("import sys; from storage.db import get_engine; get_engine(); "
              "print('alembic' in sys.modules)")
    answer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, env=os.environ.copy(), timeout=60)
    assert answer.stdout.strip() == "False"


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=st.lists(st.integers(60, 7200), min_size=1, max_size=30),
       outcomes=st.lists(st.sampled_from(["up", "up", "degraded", "down"]), min_size=30,
                         max_size=30),
       offset_s=st.integers(0, 3600),
       hours_later=st.lists(st.integers(1, 30), min_size=1, max_size=3))
def test_the_kept_past_days_serve_the_next_clock_hours_as_a_fresh_read_would(
    gaps: list[int], outcomes: list[str], offset_s: int, hours_later: list[int],
) -> None:
    """A new clock hour adds its few hour rows to the whole past days read before (the same
    day) or reads the days again (the next day): either way the numbers equal the uncached
    reads."""
    forget_cached_past()
    monitor_id = new_monitor(f"m{datetime.now().timestamp()}")
    at, results = NOW - timedelta(days=2), []
    for gap, outcome in zip(gaps, outcomes, strict=False):
        at += timedelta(seconds=gap)
        results.append(ProbeResult(outcome, at, latency_ms=float(gap % 500 + 1)))  # type: ignore[arg-type]
    record(monitor_id, results, batch=5)
    now = results[-1].checked_at + timedelta(seconds=offset_s)
    assert got([monitor_id], now) == expected([monitor_id], now)
    for hours in sorted(hours_later):
        later = now + timedelta(hours=hours)
        assert got([monitor_id], later) == expected([monitor_id], later)
