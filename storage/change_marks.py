"""What the public read model reads, summed up in a few index lookups (about a millisecond).

readmodel/refresh_policy compares it between checks to decide whether a rebuild is due; it also
sees results recorded by other processes.
"""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import get_engine
from storage.models import (
    CheckResult,
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    Monitor,
    MonitorState,
)
from storage.tables import table_of


def change_fingerprint() -> tuple[object, ...]:
    """When this is unchanged, so is the snapshot, apart from what time alone moves."""
    results, states, monitors = (table_of(CheckResult), table_of(MonitorState),
                                 table_of(Monitor))
    incidents, updates = table_of(Incident), table_of(IncidentUpdate)
    maintenance = table_of(MaintenanceWindow)
    query = select(
        select(func.max(results.c.id)).scalar_subquery(),
        select(func.max(states.c.last_check_at)).scalar_subquery(),
        select(func.count()).select_from(monitors).scalar_subquery(),
        select(func.max(monitors.c.updated_at)).scalar_subquery(),
        select(func.count()).select_from(incidents).scalar_subquery(),
        select(func.count()).select_from(incidents)
        .where(incidents.c.resolved_at.is_not(None)).scalar_subquery(),
        select(func.max(updates.c.id)).scalar_subquery(),
        select(func.count()).select_from(maintenance).scalar_subquery(),
        select(func.max(maintenance.c.id)).scalar_subquery(),
    )
    with get_engine().connect() as connection:
        return tuple(connection.execute(query).one())
