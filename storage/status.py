"""The public view of the service: only what a visitor of the status page may see.

Every public answer (the status page, /api/v1/status, the feeds, the badges) is built from one
`PublicStatus`. It holds public monitors only, and a monitor's URL only when the monitor is set
to show it; never a host name or the raw reason of a failed check.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from config.settings import get_settings
from domain.certificates import days_left_if_known
from domain.states import effective_state, overall_state
from domain.text import without_credentials
from storage.audit import DASHBOARD_ADMIN, record
from storage.certificates import certificate_expiries
from storage.daily_bars import DayBar
from storage.db import get_engine
from storage.incidents import IncidentView, public_incidents
from storage.maintenance import MaintenanceView, scheduled_maintenance
from storage.models import Monitor, MonitorState, as_utc
from storage.status_numbers import READ_MODEL_WINDOWS, status_read_model
from storage.tables import table_of, utc

MONITORS = table_of(Monitor)
STATES = table_of(MonitorState)

UPTIME_WINDOWS = READ_MODEL_WINDOWS
PAGE_WINDOWS = ("24h", "7d", "30d", "90d")  # the ones a visitor picks on the page
LATENCY_QUANTILES = ("p50", "p95", "p99")
BAR_DAYS = 90


@dataclass(frozen=True, slots=True)
class PublicComponent:
    """A public monitor, without its URL (unless shown), host or error text."""

    id: int  # internal: joins incidents and maintenance; never put in an answer
    slug: str
    name: str
    group: str | None
    sort_order: int
    state: str
    since: datetime | None
    last_check_at: datetime | None
    latency_ms: float | None
    url: str | None  # only when the monitor is set to show it
    has_certificate: bool
    uptime: dict[str, float | None] = field(default_factory=dict)
    latency: dict[str, dict[str, float | None]] = field(default_factory=dict)  # window -> q -> ms
    cert_days_left: int | None = None  # at the snapshot's time (domain.certificates.days_left)
    cert_not_after: datetime | None = None  # from the last certificate's facts
    bars: tuple[DayBar, ...] = ()

    @property
    def uptime_24h(self) -> float | None:
        return self.uptime.get("24h")


# Every field of a component but its bars, as one tuple (attrgetter: one C call): what the
# answers that show no bars are made of, compared to tell whether a component changed.
_FACTS_WITHOUT_BARS = operator.attrgetter(
    *(f.name for f in fields(PublicComponent) if f.name != "bars"))


def facts_without_bars(component: PublicComponent) -> tuple[Any, ...]:
    facts: tuple[Any, ...] = _FACTS_WITHOUT_BARS(component)
    return facts


@dataclass(frozen=True, slots=True)
class PublicMaintenance:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    active: bool
    scope: str  # "all services", a group's name, or a component's name
    component_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class PublicStatus:
    overall: str
    components: tuple[PublicComponent, ...]
    incidents: tuple[IncidentView, ...]  # newest first
    maintenance: tuple[PublicMaintenance, ...]  # soonest first
    built_at: datetime

    @property
    def active_incidents(self) -> list[IncidentView]:
        return [i for i in self.incidents if i.active]

    @property
    def past_incidents(self) -> list[IncidentView]:
        return [i for i in self.incidents if not i.active]

    def groups(self) -> list[tuple[str | None, list[PublicComponent]]]:
        """Components by group, in page order (ungrouped ones first)."""
        grouped: dict[str | None, list[PublicComponent]] = {}
        for component in self.components:
            grouped.setdefault(component.group, []).append(component)
        return list(grouped.items())

    def incidents_on(self, component_id: int, day: date) -> list[IncidentView]:
        """Incidents of a component during a calendar day (in the configured zone, as the bars)."""
        start = datetime.combine(day, datetime.min.time(), tzinfo=get_settings().zone)
        return [i for i in self.incidents
                if i.monitor_id == component_id and i.overlaps(start, start + timedelta(days=1))]


def _monitor_rows(connection: Connection) -> list[dict[str, Any]]:
    query = (
        select(MONITORS.c.id, MONITORS.c.slug, MONITORS.c.name, MONITORS.c.kind, MONITORS.c.url,
               MONITORS.c.paused, MONITORS.c.group_name, MONITORS.c.sort_order,
               MONITORS.c.show_url, STATES.c.state, STATES.c.since, STATES.c.last_check_at,
               STATES.c.last_latency_ms)
        .join(STATES, STATES.c.monitor_id == MONITORS.c.id, isouter=True)
        .where(MONITORS.c.public.is_(True))
        # Ungrouped first, then groups by their first member's order, then by name.
        .order_by(MONITORS.c.sort_order, MONITORS.c.name)
    )
    return [dict(row) for row in connection.execute(query).mappings()]


def _order(rows: list[dict]) -> list[dict]:
    """Groups appear in the order of their lowest member; members by order, then name."""
    first: dict[str | None, tuple[int, str]] = {}
    for row in rows:
        key = (row["sort_order"], row["name"])
        first[row["group_name"]] = min(first.get(row["group_name"], key), key)
    return sorted(rows, key=lambda r: (
        r["group_name"] is not None, first[r["group_name"]], r["group_name"] or "",
        r["sort_order"], r["name"]))


def _maintenance(
    views: list[MaintenanceView], components: list[PublicComponent]
) -> list[PublicMaintenance]:
    by_id = {c.id: c for c in components}
    public: list[PublicMaintenance] = []
    for view in views:
        if view.monitor_id is not None:
            if view.monitor_id not in by_id:
                continue  # a private monitor's maintenance is nobody's business
            scope, ids = by_id[view.monitor_id].name, frozenset({view.monitor_id})
        elif view.group_name is not None:
            ids = frozenset(c.id for c in components if c.group == view.group_name)
            if not ids:
                continue  # a group of private monitors only
            scope = view.group_name
        else:
            scope, ids = "all services", frozenset(by_id)
        public.append(PublicMaintenance(
            view.title, view.description, view.starts_at, view.ends_at, view.active, scope, ids))
    return public


def public_components(now: datetime | None = None) -> list[PublicComponent]:
    """Public monitors in page order, with uptime and latency percentiles per window,
    certificate days and 90 daily bars, all from the status read model."""
    now = utc(now) if now is not None else datetime.now(UTC)
    with get_engine().connect() as connection:
        rows = _order(_monitor_rows(connection))
        ids = [row["id"] for row in rows]
        expiries = certificate_expiries(connection, ids)
    numbers = status_read_model(ids, now) if ids else {}
    components = []
    for row in rows:
        figures = numbers.get(row["id"])
        components.append(PublicComponent(
            id=row["id"], slug=row["slug"], name=row["name"], group=row["group_name"],
            sort_order=row["sort_order"],
            state=effective_state(row["paused"], row["state"]),
            since=as_utc(row["since"]), last_check_at=as_utc(row["last_check_at"]),
            latency_ms=row["last_latency_ms"],
            url=without_credentials(row["url"]) if row["show_url"] else None,
            has_certificate=row["kind"] == "tls" or row["url"].lower().startswith("https://"),
            uptime=dict(figures.uptime) if figures else {},
            latency=dict(figures.latency) if figures else {},
            cert_not_after=expiries.get(row["id"]),
            cert_days_left=days_left_if_known(expiries.get(row["id"]), now),
            bars=tuple(figures.bars) if figures else (),
        ))
    return components


def public_status(now: datetime | None = None) -> PublicStatus:
    """Everything the public answers show, read in one go."""
    now = utc(now) if now is not None else datetime.now(UTC)
    components = public_components(now)
    return PublicStatus(
        overall=overall_state(c.state for c in components),
        components=tuple(components),
        incidents=tuple(public_incidents(now)),
        maintenance=tuple(_maintenance(scheduled_maintenance(now, horizon_days=7), components)),
        built_at=now,
    )


# --- the page's layout, set by an admin ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LayoutRow:
    """Where one monitor appears on the status page."""

    monitor_id: int
    name: str
    public: bool
    group: str | None
    sort_order: int
    show_url: bool


MAX_GROUP = 100


def page_layout() -> list[LayoutRow]:
    """Every monitor (public or not) with its place on the page, in page order."""
    with get_engine().connect() as connection:
        rows = connection.execute(
            select(MONITORS.c.id, MONITORS.c.name, MONITORS.c.public, MONITORS.c.group_name,
                   MONITORS.c.sort_order, MONITORS.c.show_url)
            .order_by(MONITORS.c.sort_order, MONITORS.c.name)
        ).all()
    return [LayoutRow(r.id, r.name, bool(r.public), r.group_name, r.sort_order, bool(r.show_url))
            for r in rows]


def save_layout(rows: Sequence[LayoutRow], *, actor: str = DASHBOARD_ADMIN) -> None:
    """Store group, order and URL visibility of each row, all or nothing (each changed row
    recorded in the audit log as `actor`'s).

    Raises InvalidInput naming the monitor whose row needs fixing."""
    from domain.monitor_input import InvalidInput

    cleaned: list[LayoutRow] = []
    for row in rows:
        group = (row.group or "").strip() or None
        if group is not None and len(group) > MAX_GROUP:
            raise InvalidInput({row.name: f"keep the group name under {MAX_GROUP} characters"})
        if not -1_000_000 <= int(row.sort_order) <= 1_000_000:
            raise InvalidInput({row.name: "use an order between -1,000,000 and 1,000,000"})
        cleaned.append(LayoutRow(row.monitor_id, row.name, row.public, group,
                                 int(row.sort_order), bool(row.show_url)))
    with get_engine().begin() as connection:
        before = {r.id: r for r in connection.execute(
            select(MONITORS.c.id, MONITORS.c.slug, MONITORS.c.group_name, MONITORS.c.sort_order,
                   MONITORS.c.show_url)
            .where(MONITORS.c.id.in_([row.monitor_id for row in cleaned])))}
        for row in cleaned:
            connection.execute(
                MONITORS.update().where(MONITORS.c.id == row.monitor_id)
                .values(group_name=row.group, sort_order=row.sort_order, show_url=row.show_url))
            old = before.get(row.monitor_id)
            if old is not None:
                record(connection, actor=actor, action="updated", subject_kind="layout",
                       subject=old.slug,
                       before={"group": old.group_name, "order": old.sort_order,
                               "show_url": old.show_url},
                       after={"group": row.group, "order": row.sort_order,
                              "show_url": row.show_url})
