"""Certificate notices while recording results: a certificate crossing a warning threshold
becomes an event for dispatch, once per threshold and certificate.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from domain.certificates import notices_due
from domain.result import ProbeResult
from storage.alerting_models import CertificateWarning
from storage.tables import table_of

CERT_WARNINGS = table_of(CertificateWarning)


def certificate_warning(
    connection: Connection, monitor_id: int, result: ProbeResult, state: str
) -> dict | None:
    """A certificate event when a new notice threshold (domain.certificates.NOTICE_DAYS) was
    crossed for this certificate; each threshold is recorded so that it is sent once."""
    tls = result.tls or {}
    try:
        days_left = int(tls["days_left"])  # type: ignore[call-overload]
        not_after = str(tls["not_after"])
    except (KeyError, TypeError, ValueError):
        return None
    crossed = notices_due(days_left)
    if not crossed:
        return None
    warned = set(connection.execute(
        select(CERT_WARNINGS.c.threshold_days).where(
            CERT_WARNINGS.c.monitor_id == monitor_id, CERT_WARNINGS.c.not_after == not_after)
    ).scalars())
    if min(crossed) in warned:
        return None
    connection.execute(insert(CERT_WARNINGS), [
        {"monitor_id": monitor_id, "not_after": not_after, "threshold_days": days,
         "at": result.checked_at}
        for days in crossed if days not in warned
    ])
    when = "has expired" if days_left < 0 else f"expires in {days_left} days"
    return {
        "monitor_id": monitor_id, "at": result.checked_at, "from_state": state,
        "to_state": state, "reason": f"TLS certificate {when} ({not_after[:10]})",
        "dispatched_at": None, "kind": "certificate", "incident_id": None,
    }
