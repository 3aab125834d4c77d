""""Check now" from the dashboard: one check of a saved monitor, run at once in the page's
process and recorded like the engine's (state, rollups, state changes, notifications).

The engine keeps its own schedule; this result is simply one more in the monitor's history.
Push monitors have nothing to check: they wait for their heartbeat.
"""

from __future__ import annotations

from checks.run_check import check_now
from domain.decide import Thresholds
from domain.result import ProbeResult
from storage.monitors import MonitorView
from storage.results import record_result


def check_and_record(monitor: MonitorView) -> ProbeResult | None:
    """Check `monitor` now and record the result; None for a push monitor."""
    if monitor.kind == "push":
        return None
    result = check_now(monitor.kind, monitor.url, monitor.timeout, monitor.options)
    record_result(monitor.id, result,
                  Thresholds(monitor.failures_before_down, monitor.successes_before_up))
    return result
