"""The certificate each TLS monitor was last served: kept when it changes, read by the
monitor's page (subject, issuer, names, validity, fingerprint, trust, the last renewal).

Written in the recorder's transaction, but only when the certificate (or its verdict) differs
from the one stored: a check that sees the same certificate writes nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from storage.db import read_connection
from storage.models import Certificate, as_utc
from storage.tables import table_of

CERTIFICATES = table_of(Certificate)
# What makes a certificate "changed": another certificate, or another verdict on it.
_COMPARED = ("fingerprint", "verified", "hostname_matches", "trusted_by")


@dataclass(frozen=True, slots=True)
class CertificateView:
    facts: dict[str, Any]
    first_seen_at: datetime
    changed_at: datetime | None  # the last renewal (another certificate took its place)
    previous_fingerprint: str | None


def remember_certificates(
    connection: Connection, seen: Mapping[int, tuple[dict[str, Any], datetime]]
) -> None:
    """Store each monitor's newest certificate facts (with when they were seen) if they differ
    from the stored ones."""
    facts_with_print = {m: (f, at) for m, (f, at) in seen.items() if f.get("fingerprint")}
    if not facts_with_print:
        return
    stored = {
        row.monitor_id: row for row in connection.execute(
            select(CERTIFICATES.c.monitor_id, CERTIFICATES.c.fingerprint, CERTIFICATES.c.facts,
                   CERTIFICATES.c.changed_at)
            .where(CERTIFICATES.c.monitor_id.in_(list(facts_with_print))))
    }
    for monitor_id, (facts, at) in facts_with_print.items():
        kept = stored.get(monitor_id)
        if kept is None:
            connection.execute(insert(CERTIFICATES).values(
                monitor_id=monitor_id, fingerprint=facts["fingerprint"], facts=facts,
                first_seen_at=at, changed_at=None, previous_fingerprint=None))
            continue
        if all(kept.facts.get(k) == facts.get(k) for k in _COMPARED):
            continue
        values: dict[str, Any] = {"facts": facts}
        if kept.fingerprint != facts["fingerprint"]:
            values.update(fingerprint=facts["fingerprint"], first_seen_at=at, changed_at=at,
                          previous_fingerprint=kept.fingerprint)
        connection.execute(update(CERTIFICATES)
                           .where(CERTIFICATES.c.monitor_id == monitor_id).values(**values))


def certificate_of(monitor_id: int) -> CertificateView | None:
    with read_connection() as connection:
        row = connection.execute(
            select(CERTIFICATES).where(CERTIFICATES.c.monitor_id == monitor_id)).first()
    if row is None:
        return None
    first_seen = as_utc(row.first_seen_at)
    assert first_seen is not None
    return CertificateView(dict(row.facts), first_seen, as_utc(row.changed_at),
                           row.previous_fingerprint)


def certificate_expiries(
    connection: Connection, monitor_ids: list[int] | None = None
) -> dict[int, datetime]:
    """When each monitor's last certificate expires (its facts' not_after), by monitor id; all
    monitors when `monitor_ids` is None. A renewal replaces the facts, so this follows it."""
    query = select(CERTIFICATES.c.monitor_id, CERTIFICATES.c.facts)
    if monitor_ids is not None:
        if not monitor_ids:
            return {}
        query = query.where(CERTIFICATES.c.monitor_id.in_(monitor_ids))
    expiries: dict[int, datetime] = {}
    for monitor_id, facts in connection.execute(query):
        not_after = expiry_of(facts or {})
        if not_after is not None:
            expiries[monitor_id] = not_after
    return expiries


def expiry_of(facts: Mapping[str, Any]) -> datetime | None:
    """The facts' not_after as an aware UTC time; None when missing or not a time."""
    try:
        return as_utc(datetime.fromisoformat(str(facts["not_after"])))
    except (KeyError, ValueError):
        return None
