"""The incidents a monitor opens and closes itself, in the transaction that records its results:
going down opens one (with its first public update), recovery or maintenance resolves it.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from domain.formatting import format_duration
from storage.models import Incident, IncidentUpdate, as_utc
from storage.tables import table_of

INCIDENTS = table_of(Incident)
INCIDENT_UPDATES = table_of(IncidentUpdate)


def open_incident(connection: Connection, change: dict, monitor: dict) -> int:
    name = monitor["name"]
    inserted = connection.execute(
        insert(INCIDENTS).values(
            monitor_id=change["monitor_id"], title=f"{name} is down", status="investigating",
            cause=change["reason"], started_at=change["at"], public=monitor["public"],
            severity=monitor.get("severity"),
        )
    ).inserted_primary_key
    assert inserted is not None  # a single-row insert always has its key
    incident_id = int(inserted[0])
    # The timeline is public: the raw error stays in `cause`, which only admins see.
    connection.execute(insert(INCIDENT_UPDATES).values(
        incident_id=incident_id, at=change["at"], status="investigating",
        message=f"{name} is down.",
    ))
    return incident_id


def close_incident(connection: Connection, change: dict, monitor: dict) -> int | None:
    row = connection.execute(
        select(INCIDENTS.c.id, INCIDENTS.c.started_at)
        .where(INCIDENTS.c.monitor_id == change["monitor_id"], INCIDENTS.c.resolved_at.is_(None))
        .order_by(INCIDENTS.c.started_at.desc()).limit(1)
    ).first()
    if row is None:
        return None
    connection.execute(
        update(INCIDENTS).where(INCIDENTS.c.id == row.id)
        .values(resolved_at=change["at"], status="resolved")
    )
    lasted = format_duration(change["at"] - as_utc(row.started_at))
    how = "maintenance began" if change["to_state"] == "maintenance" else "it recovered"
    connection.execute(insert(INCIDENT_UPDATES).values(
        incident_id=row.id, at=change["at"], status="resolved",
        message=f"{monitor['name']} was down for {lasted}; {how}.",
    ))
    return row.id
