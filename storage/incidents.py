"""Incidents as admins write them, and as visitors of the status page may read them.

Monitors open and close incidents themselves (storage/recorder.py); here an admin opens one by
hand, posts updates to its timeline and edits it. Every change is one transaction: a refused
input saves nothing.

The public view leaves out incidents marked private and those of private monitors, and never
shows an incident's `cause` (the failing check's raw reason, which can name hosts): where an
automatic update quotes it, the quote is cut out unless the monitor shows its URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Select, delete, func, insert, or_, select, update

from domain.limits import MAX_TEXT_CHARS, MAX_TITLE_CHARS, InvalidInput, checked_line, checked_text
from storage.audit import DASHBOARD_ADMIN, record
from storage.db import get_engine
from storage.models import Incident, IncidentUpdate, Monitor, as_utc
from storage.tables import json_list, table_of, utc

INCIDENTS = table_of(Incident)
UPDATES = table_of(IncidentUpdate)
MONITORS = table_of(Monitor)

STATUSES = ("investigating", "identified", "monitoring", "resolved")
STATUS_LABELS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}
HISTORY_DAYS = 30
# Resolved incidents a visitor gets at most, the newest: a push token's holder flapping its
# monitor opened 1,003 incidents in 8 s, and the status JSON grew to 445 KB, the feed to 572 KB.
PUBLIC_PAST_LIMIT = 50
ADMIN_DAYS = 90
ADMIN_PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    id: int
    at: datetime
    status: str
    message: str  # Markdown, as the admin wrote it


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident with its timeline, newest update first."""

    id: int
    title: str
    status: str
    started_at: datetime
    resolved_at: datetime | None
    public: bool
    monitor_id: int | None
    monitor_name: str | None  # None: not tied to a monitor (or its monitor is hidden)
    updates: tuple[TimelineEntry, ...]
    cause: str | None = None  # admin view only; public views leave it None
    severity: str | None = None  # admin view only: the monitor's severity when it opened
    affected: tuple[str, ...] = ()  # admin view only: the monitors its outage blocked

    @property
    def active(self) -> bool:
        return self.resolved_at is None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.started_at < end and (self.resolved_at is None or self.resolved_at > start)


# --- checking what an admin typed -------------------------------------------------------------


def _check_title(title: str) -> str:
    return checked_line("title", title, MAX_TITLE_CHARS,
                        missing="give the incident a title, e.g. 'Checkout is slow'")


def _check_update(status: str, message: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    if status not in STATUSES:
        errors["status"] = f"use one of {', '.join(STATUSES)}"
    try:
        message = checked_text(
            "message", message, MAX_TEXT_CHARS,
            missing="write what visitors should know, e.g. 'We are looking into it.'")
    except InvalidInput as refused:
        errors.update(refused.errors)
    if errors:
        raise InvalidInput(errors)
    return status, message


def _check_monitor(connection: Connection, monitor_id: int | None) -> None:
    if monitor_id is None:
        return
    found = connection.execute(select(MONITORS.c.id).where(MONITORS.c.id == monitor_id)).first()
    if found is None:
        raise InvalidInput({"monitor": "that monitor no longer exists; pick another or none"})


def _now(now: datetime | None) -> datetime:
    return utc(now) if now is not None else datetime.now(UTC)


# --- changing incidents -----------------------------------------------------------------------


def create_incident(
    title: str, status: str, message: str, *, monitor_id: int | None = None,
    public: bool = True, now: datetime | None = None, actor: str = DASHBOARD_ADMIN,
) -> int:
    """Open an incident with its first update; returns its id. Every write here is recorded
    in the audit log as `actor`'s, in the write's transaction."""
    title = _check_title(title)
    status, message = _check_update(status, message)
    at = _now(now)
    with get_engine().begin() as connection:
        _check_monitor(connection, monitor_id)
        severity = None if monitor_id is None else connection.execute(
            select(MONITORS.c.severity).where(MONITORS.c.id == monitor_id)).scalar()
        inserted = connection.execute(insert(INCIDENTS).values(
            title=title, status=status, monitor_id=monitor_id, public=public, started_at=at,
            resolved_at=at if status == "resolved" else None, severity=severity,
        )).inserted_primary_key
        assert inserted is not None  # an insert of one row always has its key
        incident_id = inserted[0]
        connection.execute(insert(UPDATES).values(
            incident_id=incident_id, at=at, status=status, message=message))
        record(connection, actor=actor, action="created", subject_kind="incident",
               subject=f"{incident_id} {title}",
               after={"title": title, "status": status, "message": message,
                      "monitor_id": monitor_id, "public": public})
    return int(incident_id)


def post_update(
    incident_id: int, status: str, message: str, now: datetime | None = None, *,
    actor: str = DASHBOARD_ADMIN, expect: Callable[[IncidentView], None] | None = None,
) -> None:
    """Add an update to the timeline; the incident takes its status. "resolved" closes the
    incident, any other status reopens a resolved one. `expect` sees the incident as stored, in
    the writing transaction on its locked row, first (an If-Match check: it raises to refuse)."""
    status, message = _check_update(status, message)
    at = _now(now)
    with get_engine().begin() as connection:
        row = connection.execute(
            select(INCIDENTS.c.resolved_at, INCIDENTS.c.status, INCIDENTS.c.title)
            .where(INCIDENTS.c.id == incident_id).with_for_update()
        ).first()
        if row is None:
            raise InvalidInput({"incident": "that incident no longer exists"})
        if expect is not None:
            expect(_admin_incident(connection, incident_id))
        resolved_at = (as_utc(row.resolved_at) or at) if status == "resolved" else None
        connection.execute(update(INCIDENTS).where(INCIDENTS.c.id == incident_id)
                           .values(status=status, resolved_at=resolved_at))
        connection.execute(insert(UPDATES).values(
            incident_id=incident_id, at=at, status=status, message=message))
        record(connection, actor=actor, action="posted update", subject_kind="incident",
               subject=f"{incident_id} {row.title}", before={"status": row.status},
               after={"status": status, "message": message})


def edit_incident(
    incident_id: int, *, title: str, public: bool, monitor_id: int | None,
    actor: str = DASHBOARD_ADMIN,
) -> None:
    """Change an incident's title, visibility or monitor (also of one a monitor opened)."""
    title = _check_title(title)
    with get_engine().begin() as connection:
        _check_monitor(connection, monitor_id)
        before = connection.execute(
            select(INCIDENTS.c.title, INCIDENTS.c.public, INCIDENTS.c.monitor_id)
            .where(INCIDENTS.c.id == incident_id)).mappings().first()
        if before is None:
            raise InvalidInput({"incident": "that incident no longer exists"})
        connection.execute(update(INCIDENTS).where(INCIDENTS.c.id == incident_id)
                           .values(title=title, public=public, monitor_id=monitor_id))
        record(connection, actor=actor, action="updated", subject_kind="incident",
               subject=f"{incident_id} {before['title']}", before=dict(before),
               after={"title": title, "public": public, "monitor_id": monitor_id})


def edit_update(update_id: int, message: str, *, actor: str = DASHBOARD_ADMIN) -> None:
    """Correct the text of one timeline entry (its status and time stay)."""
    _, message = _check_update("investigating", message)
    with get_engine().begin() as connection:
        before = connection.execute(
            select(UPDATES.c.incident_id, UPDATES.c.message).where(UPDATES.c.id == update_id)
        ).first()
        if before is None:
            raise InvalidInput({"update": "that update no longer exists"})
        connection.execute(
            update(UPDATES).where(UPDATES.c.id == update_id).values(message=message))
        record(connection, actor=actor, action="updated", subject_kind="incident update",
               subject=f"{before.incident_id} update {update_id}",
               before={"message": before.message}, after={"message": message})


def delete_incident(incident_id: int, *, actor: str = DASHBOARD_ADMIN) -> bool:
    with get_engine().begin() as connection:
        title = connection.execute(
            select(INCIDENTS.c.title).where(INCIDENTS.c.id == incident_id)).scalar()
        connection.execute(delete(UPDATES).where(UPDATES.c.incident_id == incident_id))
        deleted = connection.execute(
            delete(INCIDENTS).where(INCIDENTS.c.id == incident_id)).rowcount == 1
        if deleted:
            record(connection, actor=actor, action="deleted", subject_kind="incident",
                   subject=f"{incident_id} {title}")
        return deleted


# --- reading ----------------------------------------------------------------------------------


def _timelines(connection: Connection, ids: Iterable[int]) -> dict[int, list[TimelineEntry]]:
    ids = list(ids)
    found: dict[int, list[TimelineEntry]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = connection.execute(
        select(UPDATES).where(UPDATES.c.incident_id.in_(ids))
        .order_by(UPDATES.c.at.desc(), UPDATES.c.id.desc())
    ).mappings()
    for row in rows:
        found[row["incident_id"]].append(
            TimelineEntry(row["id"], utc(row["at"]), row["status"], row["message"]))
    return found


_NEWEST_FIRST = (INCIDENTS.c.started_at.desc(), INCIDENTS.c.id.desc())


def _recent(since: datetime | None, public_only: bool) -> Select:
    """Open incidents and those resolved since `since` (None: all), with their monitor's name."""
    query = (
        select(INCIDENTS, MONITORS.c.name.label("monitor_name"),
               MONITORS.c.public.label("monitor_public"),
               MONITORS.c.show_url.label("monitor_shows_url"))
        .join(MONITORS, MONITORS.c.id == INCIDENTS.c.monitor_id, isouter=True)
    )
    if since is not None:
        query = query.where(
            or_(INCIDENTS.c.resolved_at.is_(None), INCIDENTS.c.resolved_at >= since))
    if public_only:
        query = query.where(INCIDENTS.c.public.is_(True)).where(
            or_(INCIDENTS.c.monitor_id.is_(None), MONITORS.c.public.is_(True)))
    return query


def _rows(connection: Connection, query: Select) -> list[dict]:
    return [dict(row) for row in connection.execute(query).mappings()]


def _views(connection: Connection, rows: list[dict], public: bool) -> list[IncidentView]:
    timelines = _timelines(connection, [row["id"] for row in rows])
    return [_view(row, timelines[row["id"]], public=public) for row in rows]


def admin_incidents(now: datetime | None = None, days: int = ADMIN_DAYS) -> list[IncidentView]:
    """Open incidents and those resolved in the last `days` days, newest first, with causes."""
    since = _now(now) - timedelta(days=days)
    with get_engine().connect() as connection:
        rows = _rows(connection, _recent(since, public_only=False).order_by(*_NEWEST_FIRST))
        return _views(connection, rows, public=False)


def admin_incident(incident_id: int) -> IncidentView | None:
    """One incident with its timeline and cause, whenever it started (a link names it)."""
    with get_engine().connect() as connection:
        rows = _rows(connection, _recent(None, public_only=False)
                     .where(INCIDENTS.c.id == incident_id))
        return _views(connection, rows, public=False)[0] if rows else None


def _admin_incident(connection: Connection, incident_id: int) -> IncidentView:
    """An incident known to exist, read in `connection`'s transaction."""
    rows = _rows(connection, _recent(None, public_only=False)
                 .where(INCIDENTS.c.id == incident_id))
    return _views(connection, rows, public=False)[0]


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """One page of the admins' list of incidents."""

    incidents: tuple[IncidentView, ...]
    number: int  # from 1; a number past the last page is the last page
    pages: int  # at least 1, also with no incident
    total: int
    per_page: int

    @property
    def first(self) -> int:
        """The position of the page's first incident in the list, from 1 (0: none)."""
        return (self.number - 1) * self.per_page + 1 if self.incidents else 0

    @property
    def last(self) -> int:
        """The position of the page's last incident in the list, from 1 (0: none)."""
        return self.first + len(self.incidents) - 1 if self.incidents else 0


def admin_incident_page(number: int, per_page: int = ADMIN_PAGE_SIZE,
                        now: datetime | None = None, days: int = ADMIN_DAYS) -> IncidentPage:
    """A page of what `admin_incidents` lists, open ones first (a page never hides one behind
    a flood of newer resolved ones), then newest first."""
    since = _now(now) - timedelta(days=days)
    query = _recent(since, public_only=False)
    with get_engine().connect() as connection:
        total = connection.execute(
            select(func.count()).select_from(query.subquery())).scalar_one()
        pages = max(1, -(-total // per_page))
        number = min(max(number, 1), pages)
        rows = _rows(connection, query.order_by(
            INCIDENTS.c.resolved_at.is_not(None), *_NEWEST_FIRST)
            .limit(per_page).offset((number - 1) * per_page))
        return IncidentPage(tuple(_views(connection, rows, public=False)), number, pages,
                            total, per_page)


def public_incidents(
    now: datetime | None = None, days: int = HISTORY_DAYS, past_limit: int = PUBLIC_PAST_LIMIT,
) -> list[IncidentView]:
    """What visitors see, newest first: open incidents, and of those resolved in the last `days`
    days the newest `past_limit`."""
    since = _now(now) - timedelta(days=days)
    query = _recent(since, public_only=True)
    with get_engine().connect() as connection:
        rows = _rows(connection, query.where(INCIDENTS.c.resolved_at.is_(None)))
        rows += _rows(connection, query.where(INCIDENTS.c.resolved_at.is_not(None))
                      .order_by(*_NEWEST_FIRST).limit(past_limit))
        rows.sort(key=lambda row: (utc(row["started_at"]), row["id"]), reverse=True)
        return _views(connection, rows, public=True)


def _withhold(message: str, cause: str | None) -> str:
    """An automatic update quotes the raw reason ("X is down: <reason>."): cut the quote."""
    if not cause:
        return message
    return message.replace(f": {cause}", "").replace(cause, "")


def _view(row: dict, timeline: list[TimelineEntry], public: bool) -> IncidentView:
    cause = row["cause"]
    if public and not row["monitor_shows_url"]:
        timeline = [
            TimelineEntry(e.id, e.at, e.status, _withhold(e.message, cause)) for e in timeline]
    return IncidentView(
        id=row["id"], title=row["title"], status=row["status"],
        started_at=utc(row["started_at"]), resolved_at=as_utc(row["resolved_at"]),
        public=bool(row["public"]), monitor_id=row["monitor_id"],
        monitor_name=row["monitor_name"], updates=tuple(timeline),
        cause=None if public else cause,
        severity=None if public else row["severity"],
        affected=() if public else tuple(str(name) for name in json_list(row["affected"])),
    )

