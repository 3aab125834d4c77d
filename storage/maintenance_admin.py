"""Creating, listing and deleting maintenance windows (the maintenance page's writes).

Windows arrive validated by `ui.maintenance_forms.parse_window_form` (held to `domain.limits`);
each write is one statement in one transaction, so a refused one saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.monitor_input import InvalidInput
from storage.audit import DASHBOARD_ADMIN, record
from storage.db import get_engine
from storage.maintenance import validate_cron
from storage.models import MaintenanceWindow, Monitor, as_utc
from storage.tables import table_of

WINDOWS = table_of(MaintenanceWindow)
MONITORS = table_of(Monitor)


@dataclass(frozen=True, slots=True)
class WindowInput:
    """A validated window from the maintenance page."""

    title: str
    description: str
    monitor_id: int | None
    group_name: str | None
    starts_at: datetime | None  # UTC; one-off windows
    ends_at: datetime | None
    cron: str | None  # recurring windows
    timezone: str
    duration_minutes: int | None
    notify: bool


@dataclass(frozen=True, slots=True)
class WindowRow:
    id: int
    title: str
    scope: str  # "all monitors", "monitor API", "group Backend"
    starts_at: datetime | None
    ends_at: datetime | None
    cron: str | None
    timezone: str
    duration_minutes: int | None
    notify: bool


_MONITOR_GONE = {"monitor_id": "this monitor was deleted meanwhile: choose another"}


MAX_DURATION_MINUTES = 7 * 24 * 60


def check_recurrence(cron: str, minutes: float | None, errors: dict[str, str]) -> int | None:
    """A recurring window's rules (the maintenance page's and the API's): a valid cron and a
    duration of 1 minute to 7 days, whole minutes. Each problem goes into `errors`."""
    if problem := validate_cron(cron) if cron else "give a cron expression, e.g. '0 2 * * 0'":
        errors.setdefault("cron", problem)
    if minutes is None or minutes < 1:
        errors["duration_minutes"] = "give a duration of at least 1 minute"
    elif minutes > MAX_DURATION_MINUTES:
        errors["duration_minutes"] = "a window lasts at most 7 days (10080 minutes)"
    else:
        return int(minutes)
    return None


def check_span(starts_at: datetime | None, ends_at: datetime | None, now: datetime,
               errors: dict[str, str], missing_start: str, missing_end: str) -> None:
    """A one-off window's rules: both ends given, the end after the start and still to come."""
    if starts_at is None:
        errors.setdefault("starts_at", missing_start)
    if ends_at is None:
        errors.setdefault("ends_at", missing_end)
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = "the window must end after it starts"
    elif ends_at <= now:
        errors["ends_at"] = "this window would already be over: choose a future end"


def _settings(values: Any) -> dict[str, Any]:
    """A window as an audit entry keeps it: times as ISO 8601 text."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}


def create_window(spec: WindowInput, *, actor: str = DASHBOARD_ADMIN) -> int:
    try:
        with get_engine().begin() as connection:
            if spec.monitor_id is not None and connection.execute(
                    select(MONITORS.c.id).where(MONITORS.c.id == spec.monitor_id)).first() is None:
                raise InvalidInput({**_MONITOR_GONE})
            key = connection.execute(insert(WINDOWS).values(
                title=spec.title, description=spec.description, monitor_id=spec.monitor_id,
                group_name=spec.group_name, starts_at=spec.starts_at, ends_at=spec.ends_at,
                cron=spec.cron, timezone=spec.timezone, duration_minutes=spec.duration_minutes,
                notify=spec.notify,
            )).inserted_primary_key
            assert key is not None
            record(connection, actor=actor, action="created", subject_kind="maintenance",
                   subject=f"{int(key[0])} {spec.title}", after=_settings(asdict(spec)))
            return int(key[0])
    except IntegrityError:  # the monitor was deleted between the check and the insert
        if spec.monitor_id is None:
            raise
        raise InvalidInput({**_MONITOR_GONE}) from None


def delete_window(window_id: int, *, actor: str = DASHBOARD_ADMIN,
                  expect: Expectation | None = None) -> None:
    """`expect` sees the window as stored, in the transaction on its locked row, first (an
    If-Match check: it raises to refuse the delete)."""
    with get_engine().begin() as connection:
        before = _locked(connection, window_id, expect)
        if before is None:
            return
        connection.execute(delete(WINDOWS).where(WINDOWS.c.id == window_id))
        record(connection, actor=actor, action="deleted", subject_kind="maintenance",
               subject=f"{window_id} {before['title']}",
               before=_settings({k: v for k, v in before.items() if k != "id"}))


def list_windows() -> list[WindowRow]:
    query = (select(WINDOWS, MONITORS.c.name.label("monitor_name"))
             .select_from(WINDOWS.outerjoin(MONITORS, MONITORS.c.id == WINDOWS.c.monitor_id))
             .order_by(WINDOWS.c.id))
    with get_engine().connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [
        WindowRow(
            row["id"], row["title"],
            f"monitor {row['monitor_name']}" if row["monitor_id"] is not None
            else f"group {row['group_name']}" if row["group_name"] else "all monitors",
            as_utc(row["starts_at"]), as_utc(row["ends_at"]), row["cron"], row["timezone"],
            row["duration_minutes"], bool(row["notify"]),
        )
        for row in rows
    ]


def group_names() -> list[str]:
    with get_engine().connect() as connection:
        names = connection.execute(select(MONITORS.c.group_name).distinct()
                                   .where(MONITORS.c.group_name.is_not(None))).scalars()
        return sorted(name for name in names if name)


@dataclass(frozen=True, slots=True)
class WindowDetail:
    """A stored window as the API shows it (its monitor by slug)."""

    id: int
    title: str
    description: str
    monitor: str | None
    group: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    cron: str | None
    timezone: str
    duration_minutes: int | None
    notify: bool

    def to_api(self) -> dict[str, Any]:
        return _settings(asdict(self))


Expectation = Callable[[WindowDetail], None]


def window_details(window_id: int | None = None) -> list[WindowDetail]:
    """Every window, oldest first, or the one `window_id` names (an empty list: none)."""
    with get_engine().connect() as connection:
        return _details(connection, window_id)


def _details(connection: Connection, window_id: int | None) -> list[WindowDetail]:
    query = (select(WINDOWS, MONITORS.c.slug.label("monitor_slug"))
             .select_from(WINDOWS.outerjoin(MONITORS, MONITORS.c.id == WINDOWS.c.monitor_id))
             .order_by(WINDOWS.c.id))
    if window_id is not None:
        query = query.where(WINDOWS.c.id == window_id)
    rows = connection.execute(query).mappings().all()
    return [WindowDetail(row["id"], row["title"], row["description"] or "", row["monitor_slug"],
                         row["group_name"], as_utc(row["starts_at"]), as_utc(row["ends_at"]),
                         row["cron"], row["timezone"] or "UTC", row["duration_minutes"],
                         bool(row["notify"])) for row in rows]


def _locked(connection: Connection, window_id: int, expect: Expectation | None) -> Any:
    """The window's row, locked until the transaction ends (PostgreSQL; SQLite has one writer),
    after `expect` saw it as it is now; None when there is none."""
    before = connection.execute(
        select(WINDOWS).where(WINDOWS.c.id == window_id).with_for_update()).mappings().first()
    if before is not None and expect is not None:
        expect(_details(connection, window_id)[0])
    return before


def update_window(window_id: int, spec: WindowInput, *, actor: str,
                  expect: Expectation | None = None) -> bool:
    """Replace a window's settings with `spec` (validated as a whole); False when it is gone.
    `expect` sees the stored window in the writing transaction first (an If-Match check)."""
    try:
        with get_engine().begin() as connection:
            before = _locked(connection, window_id, expect)
            if before is None:
                return False
            if spec.monitor_id is not None and connection.execute(
                    select(MONITORS.c.id).where(MONITORS.c.id == spec.monitor_id)).first() is None:
                raise InvalidInput({**_MONITOR_GONE})
            connection.execute(update(WINDOWS).where(WINDOWS.c.id == window_id)
                               .values(**asdict(spec)))
            record(connection, actor=actor, action="updated", subject_kind="maintenance",
                   subject=f"{window_id} {spec.title}",
                   before=_settings({k: v for k, v in before.items() if k != "id"}),
                   after=_settings(asdict(spec)))
            return True
    except IntegrityError:  # the monitor was deleted between the look-up and the update
        if spec.monitor_id is None:
            raise
        raise InvalidInput({**_MONITOR_GONE}) from None
