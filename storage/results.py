"""Recording check results: result, state and state change in one transaction."""

from __future__ import annotations

from config.settings import get_settings
from domain.decide import DEFAULT_THRESHOLDS, Thresholds
from domain.result import ProbeResult
from storage.db import get_engine
from storage.recorder import record_batch


def record_result(
    monitor_id: int, result: ProbeResult, limits: Thresholds = DEFAULT_THRESHOLDS
) -> dict | None:
    """Store one result and fold it into the monitor's state and rollups, atomically.

    Returns the state change it caused, if any. A monitor deleted while its check was in
    flight is skipped.
    """
    with get_engine().begin() as connection:
        recorded = record_batch(
            connection, [(monitor_id, result)], get_settings().zone, {monitor_id: limits}
        )
    return recorded.changes[0] if recorded.changes else None
