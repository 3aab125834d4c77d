"""Dependencies: while a parent is down, failing children are "blocked by" it, open no incident
and page nobody; the parent's one incident lists them; their recovery pages nobody either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config.settings import get_settings
from domain.dependencies import clean_dependencies, dependency_problem
from domain.monitor_input import InvalidInput, parse_monitor_input
from domain.result import ProbeResult
from storage import alerting
from storage.db import get_engine
from storage.incidents import admin_incidents
from storage.models import StateChange
from storage.monitors import (
    create_monitor,
    delete_monitor,
    get_monitor,
    list_monitors,
    set_paused,
    update_monitor,
)
from storage.recorder import record_batch
from storage.tables import table_of

CHANGES = table_of(StateChange)
URL = "http://127.0.0.1:9/"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


def test_parents_are_cleaned_and_bad_ones_refused() -> None:
    assert clean_dependencies([" DB", "db", "", "load-balancer"]) == ["db", "load-balancer"]
    with pytest.raises(ValueError, match="not a monitor's address"):
        clean_dependencies(["db!"])
    with pytest.raises(ValueError, match="at most 10"):
        clean_dependencies([f"m{n}" for n in range(11)])


@pytest.mark.parametrize(("slug", "parents", "known", "problem"), [
    ("api", ["db"], {"db": []}, None),
    (None, ["db"], {"db": []}, None),
    ("api", ["api"], {}, "a monitor cannot depend on itself"),
    ("api", ["cache"], {"db": []}, "no monitor has the address 'cache'"),
    ("db", ["api"], {"api": ["db"]}, "that makes a circle: db → api → db"),
    ("db", ["web"], {"web": ["api"], "api": ["db"]}, "that makes a circle: db → web → api → db"),
])
def test_a_dependency_is_refused_when_it_cannot_work(slug, parents, known, problem) -> None:
    found = dependency_problem(slug, parents, known)
    assert (found is None) if problem is None else found is not None and found.startswith(problem)


def _monitor(name: str, **fields: object) -> int:
    return create_monitor(parse_monitor_input(
        {"name": name, "url": URL, "failures_before_down": 1, **fields})).id


def test_storage_refuses_unknown_parents_and_circles_and_forgets_a_deleted_parent() -> None:
    _monitor("DB")
    with pytest.raises(InvalidInput) as refused:
        _monitor("API", depends_on="db, cache")
    assert refused.value.errors == {
        "depends_on": "no monitor has the address 'cache' (list a parent before its children)"}
    _monitor("API", depends_on="db")
    with pytest.raises(InvalidInput) as circle:
        update_monitor("db", {"depends_on": ["api"]})
    assert circle.value.errors["depends_on"] == "that makes a circle: db → api → db"
    assert get_monitor("db").depends_on == ()  # nothing half-saved
    assert get_monitor("api").to_api()["depends_on"] == ["db"]
    delete_monitor("db")
    assert get_monitor("api").depends_on == ()


def _record(*items: tuple[int, str, int]) -> None:
    """(monitor, outcome, seconds after T0) recorded in one batch, as the engine records."""
    with get_engine().begin() as connection:
        record_batch(connection, [
            (monitor_id, ProbeResult(outcome, T0 + timedelta(seconds=s),  # type: ignore[arg-type]
                                     reason=None if outcome == "up" else "connection refused"))
            for monitor_id, outcome, s in items], get_settings().zone)


def _changes(monitor_id: int) -> list[dict]:
    with get_engine().connect() as connection:
        return [dict(r) for r in connection.execute(
            select(CHANGES).where(CHANGES.c.monitor_id == monitor_id).order_by(CHANGES.c.id))
            .mappings()]


def test_a_parent_outage_with_three_children_pages_once() -> None:
    db = _monitor("DB")
    children = [_monitor(name, depends_on=["db"]) for name in ("API", "Web", "Jobs")]
    _record((db, "up", 0), *[(c, "up", 0) for c in children])
    # One batch, the children first: the parent's outage is still seen first.
    _record(*[(c, "down", 60) for c in children], (db, "down", 60))

    (incident,) = [i for i in admin_incidents() if i.active]
    assert incident.title == "DB is down" and incident.affected == ("API", "Web", "Jobs")
    for child in children:
        down = _changes(child)[-1]
        assert down["to_state"] == "down" and down["incident_id"] is None
        assert down["reason"] == "blocked by DB: connection refused"
        assert down["dispatched_at"] is not None  # handled: nobody is paged
    assert get_monitor("api").reason == "blocked by DB: connection refused"
    assert _outage_events_waiting() == [("DB", "up", "down")]  # the one page

    _record(*[(c, "up", 120) for c in children], (db, "up", 120))
    assert _outage_events_waiting() == [("DB", "up", "down"), ("DB", "down", "up")]
    assert all(_changes(c)[-1]["dispatched_at"] is not None for c in children)


def _outage_events_waiting() -> list[tuple[str, str, str]]:
    """The outage and recovery events the dispatcher has still to plan pages for."""
    with get_engine().connect() as connection:
        waiting = set(alerting.unplanned_events(connection))
        rows = connection.execute(select(CHANGES).where(CHANGES.c.id.in_(waiting))
                                  .order_by(CHANGES.c.id)).mappings().all()
    names = {m: get_monitor_name(m) for m in {r["monitor_id"] for r in rows}}
    return [(names[r["monitor_id"]], r["from_state"], r["to_state"]) for r in rows
            if "down" in (r["from_state"], r["to_state"])]


def get_monitor_name(monitor_id: int) -> str:
    return next(m.name for m in list_monitors() if m.id == monitor_id)


def test_a_child_failing_while_its_parent_is_up_pages_as_usual() -> None:
    db = _monitor("DB")
    api = _monitor("API", depends_on=["db"])
    _record((db, "up", 0), (api, "up", 0))
    _record((db, "up", 60), (api, "down", 60))
    down = _changes(api)[-1]
    assert down["incident_id"] is not None and down["dispatched_at"] is None
    assert down["reason"] == "connection refused"


def test_a_paused_parent_blocks_nothing() -> None:
    db = _monitor("DB")
    api = _monitor("API", depends_on=["db"])
    _record((db, "down", 0), (api, "up", 0))
    set_paused("db", True)
    _record((api, "down", 60))
    assert _changes(api)[-1]["incident_id"] is not None
