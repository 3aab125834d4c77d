"""The hourly digest's statements: collect a change for it, plan each over hour once, list it.

1. `collect` runs in the event's planning transaction (storage/alerting.plan_event) instead of
   planning pages: one entry per channel (unique per event and channel).
2. `plan_due_digests` (the dispatcher's housekeeping) turns each channel's over hour into one
   delivery: the `digest` row (channel, hour) is the key, inserted in the same transaction as
   the delivery, so a restart or a second dispatcher finds it and plans nothing more. Entries
   that arrive for an hour already planned move to the current hour.
3. The delivery is sent like any other (storage/deliveries.py); `digest_listing` reads what
   it lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from alerting.digest import digest_hour, digest_targets, hour_number
from alerting.planning import Change, ChannelRule
from storage.alerting_models import Delivery
from storage.escalation_models import Digest, DigestEntry
from storage.models import Monitor, StateChange
from storage.tables import table_of, utc

ENTRIES = table_of(DigestEntry)
DIGESTS = table_of(Digest)
DELIVERIES = table_of(Delivery)
CHANGES = table_of(StateChange)
MONITORS = table_of(Monitor)

DIGEST_KIND = "digest"  # the delivery's notice kind
KEEP_KEYS = timedelta(days=7)


def _insert_once(connection: Connection, table: Table, rows: list[dict[str, object]]) -> int:
    """Insert the rows not there yet (by their unique keys); how many were new. Counted from
    RETURNING: a driver's rowcount for ON CONFLICT DO NOTHING is not to be trusted."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    return len(connection.execute(dialect.insert(table).values(rows).on_conflict_do_nothing()
                                  .returning(key)).all())


def collect(connection: Connection, change: Change, kind: str, event: str,
            channels: Sequence[ChannelRule]) -> int:
    """List the notice `kind` about `change` in the digest of each routed channel taking
    `event`; how many entries were made."""
    rows = [{"channel_id": channel.id, "event_id": change.id, "kind": kind,
             "hour": digest_hour(change.at)} for channel in digest_targets(channels, event)]
    return _insert_once(connection, ENTRIES, rows) if rows else 0


def plan_due_digests(engine: Engine, now: datetime) -> int:
    """Plan the digest of every channel's hour that is over; how many were planned.

    Read first, and write only when a digest is due: this runs every few seconds in every
    dispatcher, and most rounds have nothing to plan."""
    current = digest_hour(now)
    with engine.connect() as connection:
        due = connection.execute(
            select(ENTRIES.c.channel_id, ENTRIES.c.hour, func.min(ENTRIES.c.event_id))
            .where(ENTRIES.c.delivery_id.is_(None), ENTRIES.c.hour < current)
            .group_by(ENTRIES.c.channel_id, ENTRIES.c.hour)
            .order_by(ENTRIES.c.hour, ENTRIES.c.channel_id)).all()
    if not due:
        return 0
    with engine.begin() as connection:
        # A digest's key is needed while a late change of its hour may still come: for days.
        connection.execute(delete(DIGESTS).where(DIGESTS.c.hour < current - KEEP_KEYS))
        planned = 0
        for channel_id, stored_hour, first_event in due:
            hour = utc(stored_hour)
            waiting = (ENTRIES.c.channel_id == channel_id, ENTRIES.c.hour == stored_hour,
                       ENTRIES.c.delivery_id.is_(None))
            if not _insert_once(connection, DIGESTS, [{"channel_id": channel_id, "hour": hour}]):
                # This hour's digest is planned already (by another dispatcher, or before these
                # entries came): they go to the hour that is still open.
                connection.execute(update(ENTRIES).where(*waiting).values(hour=current))
                continue
            delivery_id = connection.execute(insert(DELIVERIES).values(
                event_id=first_event, channel_id=channel_id, incident_id=None, kind=DIGEST_KIND,
                sequence=hour_number(hour), needs_open_incident=False, status="pending",
                created_at=now, next_attempt_at=now, attempts=0,
            ).returning(DELIVERIES.c.id)).scalar_one()
            connection.execute(update(ENTRIES).where(*waiting).values(delivery_id=delivery_id))
            connection.execute(update(DIGESTS).where(
                DIGESTS.c.channel_id == channel_id, DIGESTS.c.hour == stored_hour)
                .values(delivery_id=delivery_id))
            planned += 1
        return planned


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One change a digest lists."""

    at: datetime
    kind: str  # the NoticeKind it would have been sent as
    monitor_name: str  # "(deleted monitor)" once it is gone
    monitor_slug: str
    to_state: str
    reason: str | None


def digest_listing(engine: Engine, delivery_id: int) -> list[DigestLine]:
    """What a digest delivery lists, in the order it happened."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(ENTRIES.c.kind, CHANGES.c.at, CHANGES.c.to_state, CHANGES.c.reason,
                   MONITORS.c.name, MONITORS.c.slug)
            .join(CHANGES, CHANGES.c.id == ENTRIES.c.event_id)
            .outerjoin(MONITORS, MONITORS.c.id == CHANGES.c.monitor_id)
            .where(ENTRIES.c.delivery_id == delivery_id)
            .order_by(CHANGES.c.at, CHANGES.c.id)).all()
    return [DigestLine(utc(row.at), row.kind, row.name or "(deleted monitor)",
                       row.slug or "deleted", row.to_state, row.reason) for row in rows]
