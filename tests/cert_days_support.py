"""A TLS result with certificate facts, recorded the way the engine records one."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from domain.result import ProbeResult
from storage.results import record_result


def certificate_facts(days: int, now: datetime | None = None) -> dict[str, object]:
    """Facts of a certificate with `days` whole days left at `now` (an hour more, so the
    rounding down of days left lands on `days`); its fingerprint differs per expiry."""
    not_after = (now or datetime.now(UTC)) + timedelta(days=days, hours=1)
    digest = hashlib.sha256(not_after.isoformat().encode()).hexdigest().upper()
    return {
        "fingerprint": ":".join(digest[i:i + 2] for i in range(0, 64, 2)),
        "not_before": (not_after - timedelta(days=398)).isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": days,
        "subject": "CN=svc.example", "issuer": "CN=Test CA",
        "verified": True, "hostname_matches": True,
    }


def record_certificate(monitor_id: int, days: int, outcome: str = "up") -> dict[str, object]:
    """Record a check that saw a certificate with `days` left; its facts."""
    facts = certificate_facts(days)
    record_result(monitor_id, ProbeResult(outcome, latency_ms=50.0, tls=facts))
    return facts
