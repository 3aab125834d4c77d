"""Configuration as code, against the database: export the whole configuration as a document,
plan what applying one would change, and apply it in one transaction.

`plan` only reads. `apply` plans again inside its transaction and makes each change there, each
audited as `actor`'s: any refusal (of the document or of the database) rolls all of it back.
A section the document leaves out is not managed by it. Without `prune`, what the database has
and the document does not is kept (and listed so); with it, deleted. Channels that come from the
environment (source "env") are never changed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, cast, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from sqlmodel import select as sm_select

from config.config_document import (
    VERSION,
    ConfigDocument,
    InvalidDocument,
    Layout,
    WindowEntry,
    secret_reference,
)
from domain.check_options import STORED_WHEN_SET
from domain.dependencies import dependency_problem
from domain.escalation import EscalationSettings
from domain.monitor_input import (
    OPTION_MODELS,
    SECRET_MASK,
    InvalidInput,
    MonitorInput,
    default_options,
    parse_monitor_update,
)
from domain.slugs import slug_candidates
from storage.alerting_admin import CHANNELS, ROUTES, ChannelSpec, _channel
from storage.alerting_admin import _view as channel_view
from storage.audit import CLI_ACTOR, masked, record
from storage.db import get_engine
from storage.escalation_settings import stored_escalation, write_escalation
from storage.maintenance import validate_cron
from storage.maintenance_admin import WINDOWS
from storage.models import Monitor, MonitorState, as_utc
from storage.monitors import MONITORS, _as_view, _audit, _change, _insert, exported_monitors

_ROUTING_FIELDS = ("events", "enabled", "escalate_after_minutes", "quiet_start", "quiet_end",
                   "quiet_timezone", "quiet_min_severity")
_WINDOW_FIELDS = ("description", "monitor", "group", "starts_at", "ends_at", "cron", "timezone",
                  "duration_minutes", "notify")


@dataclass(frozen=True, slots=True)
class Change:
    """One object the document creates, updates or deletes, or one it leaves alone ("keep")."""

    action: str  # create | update | delete | keep
    kind: str  # monitor | channel | routing | status page | escalation | maintenance
    subject: str
    before: dict[str, Any] | None = None  # secrets masked
    after: dict[str, Any] | None = None
    why: str = ""  # of a kept object: why it is left alone

    def line(self) -> str:
        """`+ monitor api`, `~ channel ops: events [down] -> [down, up]`, `= ... kept, ...`."""
        name = f'"{self.subject}"' if self.kind == "maintenance" else self.subject
        head = f"{self.kind} {name}"
        if self.action == "create":
            return f"+ {head}"
        if self.action == "delete":
            return f"- {head}"
        if self.action == "keep":
            return f"= {head}: {self.why}"
        before, after = self.before or {}, self.after or {}
        return f"~ {head}: " + ", ".join(
            f"{key} {_shown(before.get(key))} -> {_shown(after.get(key))}" for key in after)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return "none" if value is None else str(value)


@dataclass(slots=True)
class ConfigPlan:
    changes: list[Change] = field(default_factory=list)
    kept: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # What apply does with each change (bound to its transaction's connection and session).
    steps: list[Any] = field(default_factory=list, repr=False)

    def lines(self) -> list[str]:
        return [change.line() for change in [*self.changes, *self.kept]]

    def _add(self, change: Change, step: Any = None) -> None:
        if change.action == "keep":
            self.kept.append(change)
        else:
            self.changes.append(change)
            self.steps.append(step)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return ({k: masked(before.get(k), k) for k in keys},
            {k: masked(after.get(k), k) for k in keys})


# --- export -------------------------------------------------------------------------------------


def _with_references(value: Any, parts: tuple[str, ...]) -> Any:
    """Masked secrets (at any depth of a monitor's options) as `${UPWATCH_SECRET_...}`."""
    if isinstance(value, dict):
        return {k: _with_references(v, (*parts, str(k))) for k, v in value.items()}
    return secret_reference(*parts) if value == SECRET_MASK else value


def export_document() -> dict[str, Any]:
    """The whole configuration as a document (config/config_document.py); secrets as
    references, never their values."""
    with get_engine().connect() as connection:
        monitors = connection.execute(select(
            MONITORS.c.slug, MONITORS.c.name, MONITORS.c.group_name, MONITORS.c.sort_order,
            MONITORS.c.show_url)).all()
        slug_of = {row.name: row.slug for row in monitors}
        entries = []
        for entry in exported_monitors():
            if "options" in entry:
                entry = {**entry, "options": _with_references(
                    entry["options"], ("monitor", slug_of[entry["name"]]))}
            entries.append(entry)
        layout = {row.slug: _layout_entry(Layout(row.group_name, row.sort_order,
                                                 bool(row.show_url)))
                  for row in sorted(monitors, key=lambda r: r.slug)
                  if Layout(row.group_name, row.sort_order, bool(row.show_url)) != Layout()}
        return {
            "upwatch": VERSION,
            "monitors": entries,
            "status_page": layout,
            "channels": [_channel_entry(row) for row in connection.execute(
                select(CHANNELS).where(CHANNELS.c.source == "db").order_by(CHANNELS.c.name)
            ).mappings()],
            "routing": _current_routes(connection),
            "escalation": _current_escalation(connection).to_api(),
            "maintenance": [_window_entry(window) for window in
                            _current_windows(connection, _slugs_by_id(connection)).values()],
        }


def _layout_entry(layout: Layout) -> dict[str, Any]:
    return {"group": layout.group, "order": layout.order, "show_url": layout.show_url}


def _channel_entry(row: Any) -> dict[str, Any]:
    settings = {k: v for k, v in (row["config"] or {}).items() if v not in ("", None)}
    settings.update({k: secret_reference(row["name"], k)
                     for k, v in sorted((row["secrets"] or {}).items()) if v})
    entry: dict[str, Any] = {"name": row["name"], "kind": row["kind"], "settings": settings,
                             "events": list(row["events"] or [])}
    defaults = {"enabled": True, "escalate_after_minutes": 0, "quiet_start": None,
                "quiet_end": None, "quiet_timezone": "UTC", "quiet_min_severity": "critical"}
    entry.update({k: row[k] for k, default in defaults.items() if row[k] != default})
    return entry


def _window_entry(window: WindowEntry) -> dict[str, Any]:
    entry: dict[str, Any] = {"title": window.title}
    for key in _WINDOW_FIELDS:
        value = getattr(window, key)
        if isinstance(value, datetime):
            value = value.isoformat()
        if value not in (None, "") and not (key == "timezone" and value == "UTC") \
                and not (key == "notify" and value is False):
            entry[key] = value
    return entry


# --- reading the database ----------------------------------------------------------------------


def _slugs_by_id(connection: Connection) -> dict[int, str]:
    return {row.id: row.slug for row in connection.execute(
        select(MONITORS.c.id, MONITORS.c.slug))}


def _current_routes(connection: Connection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    rows = connection.execute(
        select(MONITORS.c.slug, CHANNELS.c.name)
        .select_from(ROUTES.join(CHANNELS, CHANNELS.c.id == ROUTES.c.channel_id)
                     .join(MONITORS, MONITORS.c.id == ROUTES.c.monitor_id))
        .order_by(MONITORS.c.slug, CHANNELS.c.name))
    for slug, name in rows:
        found.setdefault(slug, []).append(name)
    return found


def _current_escalation(connection: Connection) -> EscalationSettings:
    return stored_escalation(connection)


def _current_windows(connection: Connection, slugs: dict[int, str]) -> dict[int, WindowEntry]:
    return {row["id"]: WindowEntry(
        row["title"], row["description"] or "", slugs.get(row["monitor_id"]), row["group_name"],
        as_utc(row["starts_at"]), as_utc(row["ends_at"]), row["cron"], row["timezone"],
        row["duration_minutes"], bool(row["notify"]))
        for row in connection.execute(select(WINDOWS).order_by(WINDOWS.c.id)).mappings()}


# --- planning ----------------------------------------------------------------------------------


def plan(document: ConfigDocument, prune: bool = False) -> ConfigPlan:
    """What applying `document` would change; nothing is written. InvalidDocument when the
    document does not fit the database (an unknown channel in routing, say)."""
    with get_engine().connect() as connection, Session(bind=connection) as session:
        return _planned(connection, session, document, prune)


def apply(document: ConfigDocument, prune: bool = False, *, actor: str = CLI_ACTOR
          ) -> ConfigPlan:
    """Apply `document` in one transaction: every change, or (InvalidDocument) none."""
    try:
        with get_engine().begin() as connection, Session(bind=connection) as session:
            planned = _planned(connection, session, document, prune)
            for index, step in enumerate(planned.steps):
                try:
                    step(connection, session, actor)
                except InvalidInput as refused:
                    change = planned.changes[index]
                    raise InvalidDocument([
                        f"{change.kind} {change.subject}: {key}: {message}"
                        for key, message in refused.errors.items()]) from None
                session.flush()
            return planned
    except DBAPIError as error:  # the database refused a statement: nothing was saved
        reason = str(error.orig).splitlines()[0] if error.orig else "a statement failed"
        raise InvalidDocument([f"the database refused the change ({reason}): nothing was "
                               "saved"]) from None


def _planned(connection: Connection, session: Session, document: ConfigDocument,
             prune: bool) -> ConfigPlan:
    result = ConfigPlan()
    slugs = _plan_monitors(session, document, prune, result)
    channels = _plan_channels(connection, document, prune, result)
    _plan_layout(connection, document, prune, slugs, result)
    _plan_routing(connection, document, prune, slugs, channels, result)
    _plan_escalation(connection, document, channels, result)
    _plan_maintenance(connection, document, prune, slugs, result)
    if result.problems:
        raise InvalidDocument(result.problems)
    # Deletions last: what the document keeps is updated first (a child freed of its parent).
    order = sorted(range(len(result.changes)),
                   key=lambda i: result.changes[i].action == "delete")
    result.changes = [result.changes[i] for i in order]
    result.steps = [result.steps[i] for i in order]
    return result


def _full_changes(spec: MonitorInput, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry as a whole monitor: what it leaves out takes its default, not the stored
    value (a document says everything about a monitor)."""
    model = OPTION_MODELS.get(spec.kind)
    # Options stored only when set (a CA bundle) would otherwise keep their stored value.
    unset = {name: model.model_fields[name].default for name in STORED_WHEN_SET
             if model is not None and name in model.model_fields}
    options = {**default_options(spec.kind), **unset, **(entry.get("options") or {})}
    return {**spec.model_dump(exclude={"options"}), "options": options}


def _plan_monitors(session: Session, document: ConfigDocument, prune: bool,
                   result: ConfigPlan) -> set[str]:
    """Plan the monitors; the slugs there will be once applied."""
    stored = {m.name: m for m in session.exec(sm_select(Monitor)).all()}
    slugs = {m.slug for m in stored.values()}
    if document.monitors is None:
        return slugs
    named = {spec.name for spec, _entry in document.monitors}
    # A monitor may depend on one the document does not list, unless --prune deletes it.
    known = {m.slug: list(m.depends_on or ()) for m in stored.values()
             if not prune or m.name in named}
    for index, (spec, entry) in enumerate(document.monitors):
        monitor = stored.get(spec.name)
        if monitor is None:
            slug = next(s for s in slug_candidates(spec.name) if s not in slugs)
            slugs.add(slug)
            target = spec
        else:
            slug = monitor.slug
            view = _as_view(monitor, None)
            try:
                target = parse_monitor_update(view.to_input(), _full_changes(spec, entry))
            except InvalidInput as refused:
                result.problems += [f"monitors[{index}].{key}: {message}"
                                    for key, message in refused.errors.items()]
                continue
        if problem := dependency_problem(slug, target.depends_on,
                                         {k: v for k, v in known.items() if k != slug}):
            result.problems.append(f"monitors[{index}].depends_on: {problem}")
        known[slug] = list(target.depends_on)
        if monitor is None:
            result._add(Change("create", "monitor", slug, after=masked(target.model_dump())),
                        lambda c, s, actor, spec=spec: _insert(s, spec, actor))
            continue
        before, after = _diff(view.to_input().model_dump(), target.model_dump())
        if after:
            changes = _full_changes(spec, entry)
            result._add(Change("update", "monitor", slug, before, after),
                        lambda c, s, actor, m=monitor, ch=changes: _change(s, m, ch, actor))
    for name, monitor in sorted(stored.items()):
        if name in named:
            continue
        if prune:
            slugs.discard(monitor.slug)
            result._add(Change("delete", "monitor", monitor.slug),
                        lambda c, s, actor, m=monitor: _delete_monitor(s, m, actor))
        else:
            result._add(Change("keep", "monitor", monitor.slug, why="kept, not in the file"))
    return slugs


def _delete_monitor(session: Session, monitor: Monitor, actor: str) -> None:
    """As storage.monitors.delete_monitor does, in this transaction."""
    _audit(session, actor, "deleted", monitor.slug,
           _as_view(monitor, session.get(MonitorState, monitor.id)), None)
    session.delete(monitor)
    children = sm_select(Monitor).where(
        cast(Monitor.depends_on, String).like(f'%"{monitor.slug}"%'))
    for child in session.exec(children).all():
        if monitor.slug in (child.depends_on or ()):
            child.depends_on = [parent for parent in child.depends_on if parent != monitor.slug]
            session.add(child)


def _channel_compared(config: dict[str, Any], secrets: dict[str, str], values: dict[str, Any],
                      stored_secrets: dict[str, str] | None = None) -> dict[str, Any]:
    """A channel as a plan compares it: a secret shows as "stored", or "changed"."""
    kept = stored_secrets if stored_secrets is not None else secrets
    # Which secrets are set, and whether each is the stored one: never a value (and under a
    # name the audit masking leaves readable).
    shown = [f"{k} {'stored' if kept.get(k) == v else 'changed'}"
             for k, v in sorted(secrets.items()) if v]
    return {"config": {k: v for k, v in config.items() if v not in ("", None)},
            "credentials": shown, **values}


def _plan_channels(connection: Connection, document: ConfigDocument, prune: bool,
                   result: ConfigPlan) -> set[str]:
    """Plan the channels; the channel names there will be once applied."""
    rows = {row["name"]: dict(row) for row in connection.execute(select(CHANNELS)).mappings()}
    names = set(rows)
    if document.channels is None:
        return names
    listed: set[str] = set()
    for spec in document.channels:
        assert isinstance(spec, ChannelSpec)
        listed.add(spec.name)
        values = {key: getattr(spec, key) for key in _ROUTING_FIELDS}
        row = rows.get(spec.name)
        if row is not None and row["source"] != "db":
            result._add(Change("keep", "channel", spec.name,
                               why="from the environment, not touched"))
            continue
        after = {"kind": spec.kind, **_channel_compared(
            spec.config, spec.secrets, values, row["secrets"] or {} if row else None)}
        if row is None:
            names.add(spec.name)
            result._add(Change("create", "channel", spec.name, after=masked(after)),
                        lambda c, s, actor, spec=spec: _write_channel(c, spec, None, actor))
            continue
        before = {"kind": row["kind"], **_channel_compared(
            row["config"] or {}, row["secrets"] or {}, {k: row[k] for k in _ROUTING_FIELDS})}
        old, new = _diff(before, after)
        if new:
            result._add(Change("update", "channel", spec.name, old, new),
                        lambda c, s, actor, spec=spec, i=row["id"]: _write_channel(
                            c, spec, i, actor))
    for name, row in sorted(rows.items()):
        if name in listed:
            continue
        if row["source"] != "db":
            result._add(Change("keep", "channel", name, why="from the environment, not touched"))
        elif prune:
            names.discard(name)
            result._add(Change("delete", "channel", name),
                        lambda c, s, actor, i=row["id"]: _delete_channel(c, i, actor))
        else:
            result._add(Change("keep", "channel", name, why="kept, not in the file"))
    return names


def _write_channel(connection: Connection, spec: ChannelSpec, channel_id: int | None,
                   actor: str) -> None:
    """Store the channel as the document has it: exactly its secrets, none kept besides."""
    values = {key: getattr(spec, key) for key in _ROUTING_FIELDS}
    values.update(name=spec.name, kind=spec.kind, config=spec.config,
                  secrets={k: v for k, v in spec.secrets.items() if v})
    before = None if channel_id is None else _channel(connection, channel_id)
    if channel_id is None:
        channel_id = connection.execute(insert(CHANNELS).values(source="db", **values)
                                        .returning(CHANNELS.c.id)).scalar_one()
    else:
        connection.execute(update(CHANNELS).where(CHANNELS.c.id == channel_id).values(
            failing_since=None, failing_error=None, **values))
    saved = _channel(connection, channel_id)
    assert saved is not None
    record(connection, actor=actor, action="created" if before is None else "updated",
           subject_kind="channel", subject=saved.name,
           before=before.settings() if before else None, after=saved.settings())


def _delete_channel(connection: Connection, channel_id: int, actor: str) -> None:
    row = connection.execute(select(CHANNELS).where(CHANNELS.c.id == channel_id)).mappings()
    before = channel_view(row.one())
    connection.execute(delete(CHANNELS).where(CHANNELS.c.id == channel_id))
    record(connection, actor=actor, action="deleted", subject_kind="channel",
           subject=before.name, before=before.settings())


def _monitor_id(connection: Connection, slug: str) -> int:
    return int(connection.execute(
        select(MONITORS.c.id).where(MONITORS.c.slug == slug)).scalar_one())


def _plan_layout(connection: Connection, document: ConfigDocument, prune: bool,
                 slugs: set[str], result: ConfigPlan) -> None:
    if document.status_page is None:
        return
    current = {row.slug: Layout(row.group_name, row.sort_order, bool(row.show_url))
               for row in connection.execute(select(
                   MONITORS.c.slug, MONITORS.c.group_name, MONITORS.c.sort_order,
                   MONITORS.c.show_url))}
    wanted = dict(document.status_page)
    for slug in wanted:
        if slug not in slugs:
            result.problems.append(f"status_page.{slug}: no monitor has this slug (in the "
                                   "database or the file)")
    for slug in sorted(slugs):
        layout = wanted.get(slug)
        now = current.get(slug, Layout())
        if layout is None:
            if now == Layout():
                continue
            if not prune:
                result._add(Change("keep", "status page", slug, why="kept, not in the file"))
                continue
            layout = Layout()
        old, new = _diff(_layout_entry(now), _layout_entry(layout))
        if new:
            result._add(Change("update", "status page", slug, old, new),
                        lambda c, s, actor, slug=slug, old=now, new=layout: _write_layout(
                            c, slug, old, new, actor))


def _write_layout(connection: Connection, slug: str, old: Layout, new: Layout,
                  actor: str) -> None:
    connection.execute(update(MONITORS).where(MONITORS.c.slug == slug).values(
        group_name=new.group, sort_order=new.order, show_url=new.show_url))
    record(connection, actor=actor, action="updated", subject_kind="layout", subject=slug,
           before=_layout_entry(old), after=_layout_entry(new))


def _plan_routing(connection: Connection, document: ConfigDocument, prune: bool,
                  slugs: set[str], channels: set[str], result: ConfigPlan) -> None:
    if document.routing is None:
        return
    current = _current_routes(connection)
    for slug, names in document.routing.items():
        if slug not in slugs:
            result.problems.append(f"routing.{slug}: no monitor has this slug (in the database "
                                   "or the file)")
        result.problems += [f"routing.{slug}: no channel named {name!r}"
                            for name in names if name not in channels]
    for slug in sorted(slugs):
        now = current.get(slug, [])
        if slug not in document.routing:
            if not now:
                continue
            if not prune:
                result._add(Change("keep", "routing", slug, why="kept, not in the file"))
                continue
        names = document.routing.get(slug, [])
        if names != now:
            result._add(Change("update", "routing", slug, {"channels": now}, {"channels": names}),
                        lambda c, s, actor, slug=slug, old=now, new=names: _write_routes(
                            c, slug, old, new, actor))


def _write_routes(connection: Connection, slug: str, old: list[str], new: list[str],
                  actor: str) -> None:
    monitor_id = _monitor_id(connection, slug)
    connection.execute(delete(ROUTES).where(ROUTES.c.monitor_id == monitor_id))
    ids = connection.execute(select(CHANNELS.c.id).where(CHANNELS.c.name.in_(new))).scalars()
    rows = [{"monitor_id": monitor_id, "channel_id": channel_id} for channel_id in ids]
    if rows:
        connection.execute(insert(ROUTES), rows)
    record(connection, actor=actor, action="updated", subject_kind="routing", subject=slug,
           before={"channels": old}, after={"channels": new})


def _plan_escalation(connection: Connection, document: ConfigDocument, channels: set[str],
                     result: ConfigPlan) -> None:
    if document.escalation is None:
        return
    result.problems += [
        f"escalation.steps.{severity}[{index}].channels: no channel is named {name!r}"
        for severity, steps in document.escalation.steps.items()
        for index, step in enumerate(steps) for name in step.channels if name not in channels]
    now = _current_escalation(connection)
    old, new = _diff(now.to_api(), document.escalation.to_api())
    if new:
        wanted = document.escalation
        result._add(Change("update", "escalation", "reminders and flapping", old, new),
                    lambda c, s, actor: _write_escalation(c, now, wanted, actor))


def _write_escalation(connection: Connection, old: EscalationSettings, new: EscalationSettings,
                      actor: str) -> None:
    write_escalation(connection, new)  # the channels the document makes exist by now
    record(connection, actor=actor, action="updated", subject_kind="escalation",
           subject="reminders and flapping", before=old.to_api(), after=new.to_api())


def _plan_maintenance(connection: Connection, document: ConfigDocument, prune: bool,
                      slugs: set[str], result: ConfigPlan) -> None:
    if document.maintenance is None:
        return
    current = _current_windows(connection, _slugs_by_id(connection))
    by_title: dict[str, int] = {}
    for window_id, window in current.items():
        by_title.setdefault(window.title, window_id)
    listed: set[int] = set()
    for index, window in enumerate(document.maintenance):
        if window.monitor is not None and window.monitor not in slugs:
            result.problems.append(f"maintenance[{index}].monitor: no monitor has the slug "
                                   f"{window.monitor!r}")
        if window.cron and (problem := validate_cron(window.cron)):
            result.problems.append(f"maintenance[{index}].cron: {problem}")
        after = _window_entry(window)
        if window.title not in by_title:
            result._add(Change("create", "maintenance", window.title, after=after),
                        lambda c, s, actor, w=window: _write_window(c, None, w, actor))
            continue
        window_id = by_title[window.title]
        listed.add(window_id)
        old, new = _diff(_window_entry(current[window_id]), after)
        if new:
            result._add(Change("update", "maintenance", window.title, old, new),
                        lambda c, s, actor, w=window, i=window_id: _write_window(c, i, w, actor))
    for window_id, window in current.items():
        if window_id in listed:
            continue
        if prune:
            result._add(Change("delete", "maintenance", window.title),
                        lambda c, s, actor, i=window_id: _delete_window(c, i, actor))
        else:
            result._add(Change("keep", "maintenance", window.title, why="kept, not in the file"))


def _window_values(connection: Connection, window: WindowEntry) -> dict[str, Any]:
    return {"title": window.title, "description": window.description,
            "monitor_id": _monitor_id(connection, window.monitor) if window.monitor else None,
            "group_name": window.group, "starts_at": window.starts_at,
            "ends_at": window.ends_at, "cron": window.cron, "timezone": window.timezone,
            "duration_minutes": window.duration_minutes, "notify": window.notify}


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()
            if k != "id"}


def _write_window(connection: Connection, window_id: int | None, window: WindowEntry,
                  actor: str) -> None:
    values = _window_values(connection, window)
    if window_id is None:
        key = connection.execute(insert(WINDOWS).values(**values)).inserted_primary_key
        assert key is not None
        record(connection, actor=actor, action="created", subject_kind="maintenance",
               subject=f"{int(key[0])} {window.title}", after=_audited(values))
        return
    before = connection.execute(select(WINDOWS).where(WINDOWS.c.id == window_id)).mappings().one()
    connection.execute(update(WINDOWS).where(WINDOWS.c.id == window_id).values(**values))
    record(connection, actor=actor, action="updated", subject_kind="maintenance",
           subject=f"{window_id} {window.title}", before=_audited(dict(before)),
           after=_audited(values))


def _delete_window(connection: Connection, window_id: int, actor: str) -> None:
    before = connection.execute(select(WINDOWS).where(WINDOWS.c.id == window_id)).mappings().one()
    connection.execute(delete(WINDOWS).where(WINDOWS.c.id == window_id))
    record(connection, actor=actor, action="deleted", subject_kind="maintenance",
           subject=f"{window_id} {before['title']}", before=_audited(dict(before)))
