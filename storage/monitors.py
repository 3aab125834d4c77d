"""Creating, reading, changing and removing monitors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from config.settings import get_settings
from domain.decide import Thresholds
from domain.monitor_input import InvalidInput, MonitorInput, masked_options, parse_monitor_update
from domain.push import new_push_token
from domain.result import ProbeResult
from domain.slugs import slug_candidates
from domain.states import NEW_STATE, effective_state
from storage.db import get_engine, session_scope
from storage.models import Monitor, MonitorState, as_utc, utcnow
from storage.recorder import record_batch

MONITORS = Monitor.__table__


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
        }

    def to_input(self) -> MonitorInput:
        return MonitorInput(
            name=self.name, url=self.url, interval=self.interval,
            timeout=self.timeout, public=self.public, kind=self.kind, options=self.options,
            failures_before_down=self.failures_before_down,
            successes_before_up=self.successes_before_up, retry_interval=self.retry_interval,
        )


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
    )


def _unique_slug(session: Session, name: str, own_id: int | None = None) -> str:
    def free(slug: str) -> bool:
        taken = session.exec(select(Monitor.id).where(Monitor.slug == slug)).first()
        return taken is None or taken == own_id

    return next(slug for slug in slug_candidates(name) if free(slug))


def _refuse_duplicate_name(session: Session, name: str, own_id: int | None = None) -> None:
    existing = session.exec(select(Monitor.id).where(Monitor.name == name)).first()
    if existing is not None and existing != own_id:
        raise InvalidInput({"name": f"a monitor named '{name}' already exists"})


def create_monitor(spec: MonitorInput) -> MonitorView:
    """Save a validated monitor; a duplicate name is refused and nothing is written."""
    try:
        with session_scope() as session:
            _refuse_duplicate_name(session, spec.name)
            monitor = Monitor(
                **spec.model_dump(), slug=_unique_slug(session, spec.name),
                push_token=new_push_token() if spec.kind == "push" else None,
            )
            session.add(monitor)
            session.flush()
            assert monitor.id is not None
            state = MonitorState(monitor_id=monitor.id)
            session.add(state)
            return _as_view(monitor, state)
    except IntegrityError:  # a concurrent writer took the name between our check and insert
        raise InvalidInput({"name": f"a monitor named '{spec.name}' already exists"}) from None


def update_monitor(slug: str, changes: dict[str, Any]) -> MonitorView | None:
    """Apply a partial change, validated as a whole; None when the monitor does not exist."""
    with session_scope() as session:
        monitor = session.exec(select(Monitor).where(Monitor.slug == slug)).first()
        if monitor is None:
            return None
        state = session.get(MonitorState, monitor.id)
        spec = parse_monitor_update(_as_view(monitor, state).to_input(), changes)
        _refuse_duplicate_name(session, spec.name, monitor.id)
        for field, value in spec.model_dump().items():
            setattr(monitor, field, value)
        if spec.kind == "push" and monitor.push_token is None:
            monitor.push_token = new_push_token()
        monitor.updated_at = utcnow()
        session.add(monitor)
        return _as_view(monitor, state)


def delete_monitor(slug: str) -> bool:
    with session_scope() as session:
        monitor = session.exec(select(Monitor).where(Monitor.slug == slug)).first()
        if monitor is None:
            return False
        session.delete(monitor)
        return True


def list_monitors(public_only: bool = False) -> list[MonitorView]:
    with session_scope() as session:
        query = select(Monitor, MonitorState).join(
            MonitorState, MonitorState.monitor_id == Monitor.id, isouter=True
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


def set_paused(slug: str, paused: bool) -> MonitorView | None:
    """Pause or resume checks; the engine drops or picks up the monitor at its next sync."""
    with session_scope() as session:
        monitor = session.exec(select(Monitor).where(Monitor.slug == slug)).first()
        if monitor is None:
            return None
        monitor.paused = paused
        monitor.updated_at = utcnow()
        session.add(monitor)
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
