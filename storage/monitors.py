"""Creating, reading, changing and removing monitors.

A write is validated whole, and its answer built, before its transaction commits: a refused
or failing write leaves the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.monitors_file import InvalidMonitorsFile, MonitorsFile
from config.settings import get_settings
from domain.decide import Thresholds
from domain.dependencies import dependency_problem
from domain.monitor_input import (
    InvalidInput,
    MonitorInput,
    default_options,
    masked_options,
    parse_monitor_update,
)
from domain.push import new_push_token
from domain.result import ProbeResult
from domain.severity import DEFAULT_SEVERITY
from domain.slugs import slug_candidates
from domain.states import NEW_STATE, effective_state
from storage.audit import DASHBOARD_ADMIN, MONITORS_FILE_ACTOR, record
from storage.db import get_engine, session_scope
from storage.models import Monitor, MonitorState, as_utc, utcnow
from storage.recorder import record_batch
from storage.tables import table_of

MONITORS = table_of(Monitor)
# What the engine keeps changing: not settings, so not part of an audited change.
_RUNTIME_FIELDS = ("state", "reason", "since", "last_check_at", "latency_ms")


@dataclass(frozen=True, slots=True)
class MonitorView:
    """A monitor with its current state, as the dashboard, API and status page read it."""

    id: int
    slug: str
    name: str
    kind: str
    url: str
    interval: int
    timeout: float
    public: bool
    paused: bool
    state: str
    reason: str | None
    since: datetime | None
    last_check_at: datetime | None
    latency_ms: float | None
    updated_at: datetime
    options: dict[str, Any]
    failures_before_down: int
    successes_before_up: int
    retry_interval: int | None
    push_token: str | None
    tags: tuple[str, ...] = ()
    runbook_url: str | None = None
    group_name: str | None = None
    severity: str = DEFAULT_SEVERITY
    depends_on: tuple[str, ...] = ()
    # Alert rules over windows as stored (domain.window_rules.rule_to_stored objects).
    rules: tuple[dict[str, Any], ...] = ()
    # The monitor's own reminder interval and flap threshold; None: the global setting.
    remind_every_minutes: int | None = None
    flap_changes: int | None = None
    flap_window_minutes: int | None = None

    def to_api(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "slug": self.slug,
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "public": self.public,
            "interval": self.interval,
            "timeout": self.timeout,
            "state": effective_state(self.paused, self.state),
            "reason": self.reason,
            "since": iso(self.since),
            "last_check_at": iso(self.last_check_at),
            "latency_ms": self.latency_ms,
            "options": masked_options(self.options, self.kind),
            "failures_before_down": self.failures_before_down,
            "successes_before_up": self.successes_before_up,
            "retry_interval": self.retry_interval,
            "push_token": self.push_token,
            "tags": list(self.tags),
            "runbook_url": self.runbook_url,
            "severity": self.severity,
            "depends_on": list(self.depends_on),
            "rules": [dict(rule) for rule in self.rules],
            "remind_every_minutes": self.remind_every_minutes,
            "flap_changes": self.flap_changes,
            "flap_window_minutes": self.flap_window_minutes,
        }

    def settings(self) -> dict[str, Any]:
        """What an audit entry compares: the API's view without what the checks change, its
        options unmasked (so a changed secret shows as changed; storage/audit masks it)."""
        shown = {k: v for k, v in self.to_api().items() if k not in _RUNTIME_FIELDS}
        return {**shown, "options": self.options}

    def to_input(self) -> MonitorInput:
        # As stored, unchecked: an update validates the merged result as a whole, so a value
        # stored before a rule tightened is refused with a field message, not an error here.
        return MonitorInput.model_construct(
            name=self.name, url=self.url, interval=self.interval,
            timeout=self.timeout, public=self.public, kind=self.kind, options=self.options,
            failures_before_down=self.failures_before_down,
            successes_before_up=self.successes_before_up, retry_interval=self.retry_interval,
            tags=list(self.tags), runbook_url=self.runbook_url, severity=self.severity,
            depends_on=list(self.depends_on), rules=[dict(rule) for rule in self.rules],
            remind_every_minutes=self.remind_every_minutes, flap_changes=self.flap_changes,
            flap_window_minutes=self.flap_window_minutes,
        )


# Called with the stored monitor inside a write's transaction; raises to refuse the write.
Expectation = Callable[[MonitorView], None]


def _as_view(monitor: Monitor, state: MonitorState | None) -> MonitorView:
    assert monitor.id is not None
    return MonitorView(
        id=monitor.id,
        slug=monitor.slug,
        name=monitor.name,
        kind=monitor.kind,
        url=monitor.url,
        interval=monitor.interval,
        timeout=monitor.timeout,
        public=monitor.public,
        paused=monitor.paused,
        state=state.state if state else NEW_STATE,
        reason=state.reason if state else None,
        since=as_utc(state.since) if state else None,
        last_check_at=as_utc(state.last_check_at) if state else None,
        latency_ms=state.last_latency_ms if state else None,
        updated_at=as_utc(monitor.updated_at) or monitor.updated_at,
        options=dict(monitor.options or {}),
        failures_before_down=monitor.failures_before_down,
        successes_before_up=monitor.successes_before_up,
        retry_interval=monitor.retry_interval,
        push_token=monitor.push_token,
        tags=tuple(monitor.tags or ()),
        runbook_url=monitor.runbook_url,
        group_name=monitor.group_name,
        severity=monitor.severity,
        depends_on=tuple(monitor.depends_on or ()),
        rules=tuple(dict(rule) for rule in monitor.rules or ()),
        remind_every_minutes=monitor.remind_every_minutes,
        flap_changes=monitor.flap_changes,
        flap_window_minutes=monitor.flap_window_minutes,
    )


def _unique_slug(session: Session, name: str, own_id: int | None = None) -> str:
    def free(slug: str) -> bool:
        taken = session.exec(select(Monitor.id).where(Monitor.slug == slug)).first()
        return taken is None or taken == own_id

    return next(slug for slug in slug_candidates(name) if free(slug))


# A concurrent writer may take the slug between our look-up and insert: try again, a few times.
_WRITE_ATTEMPTS = 3


def _refuse_duplicate_name(session: Session, name: str, own_id: int | None = None) -> None:
    existing = session.exec(select(Monitor.id).where(Monitor.name == name)).first()
    if existing is not None and existing != own_id:
        raise InvalidInput({"name": f"a monitor named '{name}' already exists"})


def _answerable(view: MonitorView) -> MonitorView:
    """The view, once its API answer is known to encode (strict JSON, as the API sends it).

    Called inside the transaction: should a value ever slip past validation that the answer
    cannot carry (NaN, say), the write is rolled back instead of stored and failing every
    answer that lists it afterwards.
    """
    json.dumps(view.to_api(), allow_nan=False)
    return view


def _refuse_if_name_taken(name: str, own_id: int | None = None) -> None:
    """After an IntegrityError: say so when the name is what collided."""
    with session_scope() as session:
        _refuse_duplicate_name(session, name, own_id)


def _audit(session: Session, actor: str, action: str, slug: str,
           before: MonitorView | None, after: MonitorView | None) -> None:
    record(session.connection(), actor=actor, action=action, subject_kind="monitor",
           subject=slug, before=before.settings() if before else None,
           after=after.settings() if after else None)


def _refuse_bad_dependencies(session: Session, slug: str | None, parents: list[str]) -> None:
    if not parents:
        return
    known = {row[0]: list(row[1] or ()) for row in session.exec(
        select(Monitor.slug, Monitor.depends_on)).all() if row[0] != slug}
    problem = dependency_problem(slug, parents, known)
    if problem:
        raise InvalidInput({"depends_on": problem})


def _insert(session: Session, spec: MonitorInput, actor: str) -> MonitorView:
    _refuse_duplicate_name(session, spec.name)
    _refuse_bad_dependencies(session, None, spec.depends_on)
    monitor = Monitor(
        **spec.model_dump(), slug=_unique_slug(session, spec.name),
        push_token=new_push_token() if spec.kind == "push" else None,
    )
    session.add(monitor)
    session.flush()
    assert monitor.id is not None
    state = MonitorState(monitor_id=monitor.id)
    session.add(state)
    view = _answerable(_as_view(monitor, state))
    _audit(session, actor, "created", view.slug, None, view)
    return view


def _change(session: Session, monitor: Monitor, changes: dict[str, Any],
            actor: str) -> MonitorView:
    assert monitor.id is not None
    state = session.get(MonitorState, monitor.id)
    before = _as_view(monitor, state)
    spec = parse_monitor_update(before.to_input(), changes)
    _refuse_duplicate_name(session, spec.name, monitor.id)
    _refuse_bad_dependencies(session, monitor.slug, spec.depends_on)
    for field, value in spec.model_dump().items():
        setattr(monitor, field, value)
    if spec.kind == "push" and monitor.push_token is None:
        monitor.push_token = new_push_token()
    monitor.updated_at = utcnow()
    session.add(monitor)
    session.flush()
    view = _answerable(_as_view(monitor, state))
    _audit(session, actor, "updated", before.slug, before, view)
    return view


def create_monitor(spec: MonitorInput, *, actor: str = DASHBOARD_ADMIN) -> MonitorView:
    """Save a validated monitor; a duplicate name is refused and nothing is written."""
    attempt = 1
    while True:
        try:
            with session_scope() as session:
                return _insert(session, spec, actor)
        except IntegrityError:  # a concurrent writer took the name or the slug meanwhile
            _refuse_if_name_taken(spec.name)
            if attempt == _WRITE_ATTEMPTS:
                raise
            attempt += 1


def _locked(session: Session, slug: str, expect: Expectation | None) -> Monitor | None:
    """The monitor `slug`, its row locked until the transaction ends (PostgreSQL; SQLite has one
    writer), after `expect` (which raises to refuse the write) saw it as it is now."""
    monitor = session.exec(select(Monitor).where(Monitor.slug == slug).with_for_update()).first()
    if monitor is not None and expect is not None:
        expect(_as_view(monitor, session.get(MonitorState, monitor.id)))
    return monitor


def update_monitor(slug: str, changes: dict[str, Any], *, actor: str = DASHBOARD_ADMIN,
                   expect: Expectation | None = None) -> MonitorView | None:
    """Apply a partial change, validated as a whole; None when the monitor does not exist.
    `expect` sees the stored monitor in the writing transaction first (an If-Match check)."""
    monitor: Monitor | None = None
    try:
        with session_scope() as session:
            monitor = _locked(session, slug, expect)
            if monitor is None:
                return None
            return _change(session, monitor, changes, actor)
    except IntegrityError:  # a concurrent writer took the name meanwhile
        name = changes.get("name")
        if isinstance(name, str) and monitor is not None:
            _refuse_if_name_taken(name.strip(), monitor.id)
        raise


def save_monitors_file(monitors_file: MonitorsFile) -> tuple[int, int]:
    """Create or update (matched by name) every monitor of a validated file, in one
    transaction: all of them, or, when one is refused, none. (created, updated).

    An entry valid on its own can still be refused once merged into the stored monitor (a
    bearer token given where basic auth is stored): InvalidMonitorsFile says which and why.
    """
    created = updated = 0
    try:
        with session_scope() as session:
            by_name = {m.name: m for m in session.exec(select(Monitor)).all()}
            for index, (spec, entry) in enumerate(monitors_file.entries):
                existing = by_name.get(spec.name)
                try:
                    if existing is None:
                        _insert(session, spec, MONITORS_FILE_ACTOR)
                        created += 1
                    else:
                        _change(session, existing, entry, MONITORS_FILE_ACTOR)
                        updated += 1
                except InvalidInput as refused:
                    raise InvalidMonitorsFile("; ".join(
                        f"monitors[{index}].{field}: {message}"
                        for field, message in refused.errors.items())) from None
    except IntegrityError:  # another process changed the monitors meanwhile: nothing applied
        raise InvalidMonitorsFile(
            "the monitors changed while the file was applied: nothing was saved, apply it again"
        ) from None
    return created, updated


def delete_monitor(slug: str, *, actor: str = DASHBOARD_ADMIN,
                   expect: Expectation | None = None) -> bool:
    with session_scope() as session:
        monitor = _locked(session, slug, expect)
        if monitor is None:
            return False
        _audit(session, actor, "deleted", slug,
               _as_view(monitor, session.get(MonitorState, monitor.id)), None)
        session.delete(monitor)
        # Its children no longer wait on it (a slug holds no LIKE wildcard: [a-z0-9-]).
        children = select(Monitor).where(cast(Monitor.depends_on, String).like(f'%"{slug}"%'))
        for child in session.exec(children).all():
            if slug in (child.depends_on or ()):
                child.depends_on = [parent for parent in child.depends_on if parent != slug]
                session.add(child)
        return True


def list_monitors(public_only: bool = False) -> list[MonitorView]:
    with session_scope() as session:
        query = select(Monitor, MonitorState).join(
            MonitorState, col(MonitorState.monitor_id) == col(Monitor.id), isouter=True
        )
        if public_only:
            query = query.where(Monitor.public == True)  # noqa: E712  (SQL expression)
        rows = session.exec(query.order_by(Monitor.name)).all()
        return [_as_view(monitor, state) for monitor, state in rows]


def get_monitor(slug: str) -> MonitorView | None:
    with session_scope() as session:
        monitor = session.exec(select(Monitor).where(Monitor.slug == slug)).first()
        if monitor is None:
            return None
        return _as_view(monitor, session.get(MonitorState, monitor.id))


def set_paused(slug: str, paused: bool, *, actor: str = DASHBOARD_ADMIN) -> MonitorView | None:
    """Pause or resume checks; the engine drops or picks up the monitor at its next sync."""
    with session_scope() as session:
        monitor = session.exec(select(Monitor).where(Monitor.slug == slug)).first()
        if monitor is None:
            return None
        was = monitor.paused
        monitor.paused = paused
        monitor.updated_at = utcnow()
        session.add(monitor)
        if was != paused:
            record(session.connection(), actor=actor, action="paused" if paused else "resumed",
                   subject_kind="monitor", subject=slug,
                   before={"paused": was}, after={"paused": paused})
        return _as_view(monitor, session.get(MonitorState, monitor.id))


def record_heartbeat(token: str, result: ProbeResult) -> bool:
    """Record a push monitor's beat; False (and nothing written) when no monitor has `token`.

    A beat of a paused monitor is acknowledged but not recorded, like a check that did not run.
    """
    if not token:
        return False
    with get_engine().begin() as connection:
        row = connection.execute(
            sa_select(
                MONITORS.c.id, MONITORS.c.paused, MONITORS.c.failures_before_down,
                MONITORS.c.successes_before_up,
            ).where(MONITORS.c.push_token == token, MONITORS.c.kind == "push")
        ).first()
        if row is None:
            return False
        if not row.paused:
            limits = {row.id: Thresholds(row.failures_before_down, row.successes_before_up)}
            record_batch(connection, [(row.id, result)], get_settings().zone, limits)
        return True


# What an export leaves out when it has its default value (a shorter file says the same).
_EXPORT_DEFAULTS = {name: info.default for name, info in MonitorInput.model_fields.items()
                    if name not in ("name", "kind", "url")}


def exported_monitors() -> list[dict[str, Any]]:
    """Every monitor's fields as a monitors file entry (secrets masked), each after the
    monitors it depends on, so the file applies in one pass."""
    monitors = {m.slug: m for m in list_monitors()}
    ordered: list[MonitorView] = []
    placed: set[str] = set()

    def place(monitor: MonitorView) -> None:
        if monitor.slug in placed:
            return
        placed.add(monitor.slug)
        for parent in monitor.depends_on:
            if parent in monitors:
                place(monitors[parent])
        ordered.append(monitor)

    for monitor in sorted(monitors.values(), key=lambda m: m.name.casefold()):
        place(monitor)
    return [_entry(monitor) for monitor in ordered]


def _entry(monitor: MonitorView) -> dict[str, Any]:
    fields = monitor.to_input().model_dump()
    entry: dict[str, Any] = {"name": fields.pop("name"), "kind": fields.pop("kind")}
    url = fields.pop("url")
    if url:
        entry["url"] = url
    defaults = default_options(monitor.kind)
    fields["options"] = {name: value for name, value in
                         masked_options(monitor.options, monitor.kind).items()
                         if name not in defaults or defaults[name] != value}
    entry.update({name: value for name, value in fields.items()
                  if name not in _EXPORT_DEFAULTS or value != _EXPORT_DEFAULTS[name]})
    if entry["kind"] == "http":
        del entry["kind"]
    return {k: v for k, v in entry.items() if v not in ({}, [], None)}
