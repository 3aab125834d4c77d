"""Dependencies in the recorder's transaction: a child failing while a parent is down is
blocked by it (no incident of its own, no page); the parent's open incident lists the child.

Read only when a monitor with parents goes down or recovers: the common result costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from domain.dependencies import blocking_parent
from storage.models import Incident, Monitor, MonitorState, StateChange
from storage.tables import json_list, table_of

MONITORS = table_of(Monitor)
STATES = table_of(MonitorState)
INCIDENTS = table_of(Incident)
CHANGES = table_of(StateChange)


@dataclass(frozen=True, slots=True)
class Blocker:
    name: str
    incident_id: int | None  # the parent's open incident, if it has one


def parents_of(monitor: Mapping) -> list[str]:
    """The slugs a monitor row (the recorder's dict) depends on."""
    return [str(slug) for slug in json_list(monitor.get("depends_on"))]


def find_blocker(connection: Connection, parents: list[str],
                 batch_states: Mapping[int, Mapping]) -> Blocker | None:
    """The first parent that is down (not paused), with its open incident; `batch_states`
    are the states of this batch's monitors, newer than the stored ones."""
    rows = {row.slug: row for row in connection.execute(
        select(MONITORS.c.id, MONITORS.c.slug, MONITORS.c.name, MONITORS.c.paused,
               STATES.c.state)
        .join(STATES, STATES.c.monitor_id == MONITORS.c.id)
        .where(MONITORS.c.slug.in_(parents)))}

    def is_down(slug: str) -> bool:
        row = rows.get(slug)
        if row is None or row.paused:
            return False
        state = batch_states.get(row.id, {}).get("state", row.state)
        return state == "down"

    slug = blocking_parent(parents, is_down)
    if slug is None:
        return None
    parent = rows[slug]
    incident = connection.execute(
        select(INCIDENTS.c.id).where(INCIDENTS.c.monitor_id == parent.id,
                                     INCIDENTS.c.resolved_at.is_(None))
        .order_by(INCIDENTS.c.started_at.desc()).limit(1)).scalar()
    return Blocker(parent.name, incident)


def note_affected(connection: Connection, incident_id: int, child_name: str) -> None:
    """List `child_name` among the monitors the outage of incident `incident_id` blocked."""
    affected = connection.execute(
        select(INCIDENTS.c.affected).where(INCIDENTS.c.id == incident_id)).scalar()
    names = json_list(affected)
    if child_name not in names:
        connection.execute(update(INCIDENTS).where(INCIDENTS.c.id == incident_id)
                           .values(affected=[*names, child_name]))


def outage_was_blocked(connection: Connection, monitor_id: int) -> bool:
    """Whether the monitor's last outage was blocked by a parent: it opened no incident."""
    last_down = connection.execute(
        select(CHANGES.c.id, CHANGES.c.incident_id)
        .where(CHANGES.c.monitor_id == monitor_id, CHANGES.c.to_state == "down",
               CHANGES.c.kind == "state")
        .order_by(CHANGES.c.id.desc()).limit(1)).first()
    return last_down is not None and last_down.incident_id is None
