"""Configuration as code: one YAML document (`upwatch export`, `upwatch apply -f`).

    upwatch: 1
    monitors:                      # exactly as in a monitors file (config/monitors_file.py)
      - name: API
        url: https://api.example.com/health
        options: {bearer_token: "${UPWATCH_SECRET_MONITOR_API_BEARER_TOKEN}"}
    status_page:                   # monitor slug -> its place on the status page
      api: {group: Backend, order: 1, show_url: true}
    channels:
      - name: ops-slack
        kind: slack_webhook
        settings: {webhook_url: "${UPWATCH_SECRET_OPS_SLACK_WEBHOOK_URL}"}
        events: [down, up]
        quiet_start: "22:00"       # and quiet_end, quiet_timezone, quiet_min_severity
    routing:                       # monitor slug -> channel names
      api: [ops-slack]
    escalation:
      remind_every_minutes: 30
      flap_changes: 5
      flap_window_minutes: 10
      steps:                       # severity -> after M minutes unacknowledged, page these too
        critical:
          - {after_minutes: 5, channels: [on-call-sms]}
          - {after_minutes: 15, channels: [lead]}
      digest: [low]                # severities listed once an hour per channel, never paged
    maintenance:                   # matched by title
      - title: Backups
        cron: "0 2 * * 0"          # or starts_at / ends_at (ISO 8601)
        duration_minutes: 60
        monitor: api               # or group: Backend; neither: every monitor

Secrets are never written in clear: a channel's secret settings, and any value of a monitor, are
`${NAME}` references read from the environment when the document is applied (a missing
variable refuses the document, naming it). A monitors file is a valid document.

Pure: the environment and the channel rules (which live above this layer) are passed in.
Every problem is reported with the path of its key, all at once; nothing is applied then.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from config.monitors_file import InvalidMonitorsFile, _load, parse_monitors_file
from domain.escalation import EscalationSettings, parse_escalation
from domain.limits import (
    MAX_CRON_CHARS,
    MAX_GROUP_CHARS,
    MAX_MONITORS_FILE_BYTES,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    InvalidInput,
    check_date,
    checked_line,
    checked_text,
    parse_time_zone,
)
from domain.monitor_input import MonitorInput
from domain.notice_templates import TEMPLATE_KEYS
from domain.slugs import is_slug

VERSION = 1
SECTIONS = ("upwatch", "monitors", "status_page", "channels", "routing", "escalation",
            "maintenance")
CHANNEL_KEYS = ("name", "kind", "settings", "events", "enabled", "escalate_after_minutes",
                "quiet_start", "quiet_end", "quiet_timezone", "quiet_min_severity")
LAYOUT_KEYS = ("group", "order", "show_url")
WINDOW_KEYS = ("title", "description", "monitor", "group", "starts_at", "ends_at", "cron",
               "timezone", "duration_minutes", "notify")
MAX_DURATION_MINUTES = 7 * 24 * 60
MAX_ORDER = 1_000_000
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NOT_ENV = re.compile(r"[^A-Z0-9]+")


class InvalidDocument(Exception):
    """The document cannot be applied; `problems` says where (the key's path) and what to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# kind -> (plain settings, secret settings), and the dashboard form's check of a channel's
# values (field -> what to fix; raises InvalidInput): given by the layer that owns them.
ChannelFields = Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
ChannelCheck = Callable[[dict[str, object]], Any]


@dataclass(frozen=True, slots=True)
class DocumentRules:
    channel_fields: ChannelFields
    check_channel: ChannelCheck


@dataclass(frozen=True, slots=True)
class Layout:
    group: str | None = None
    order: int = 0
    show_url: bool = False


@dataclass(frozen=True, slots=True)
class WindowEntry:
    title: str
    description: str = ""
    monitor: str | None = None  # a slug
    group: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cron: str | None = None
    timezone: str = "UTC"
    duration_minutes: int | None = None
    notify: bool = False


@dataclass(frozen=True, slots=True)
class ConfigDocument:
    """A validated document. A section left out (None) is not managed by it."""

    monitors: list[tuple[MonitorInput, dict[str, Any]]] | None = None
    status_page: dict[str, Layout] | None = None
    channels: list[Any] | None = None  # what DocumentRules.check_channel returned, in order
    routing: dict[str, list[str]] | None = None
    escalation: EscalationSettings | None = None
    maintenance: list[WindowEntry] | None = None

    def __repr__(self) -> str:  # secrets stay out of logs and tracebacks
        return "ConfigDocument(<settings hidden>)"


def secret_reference(*parts: str) -> str:
    """`${UPWATCH_SECRET_OPS_SLACK_WEBHOOK_URL}` for ("ops-slack", "webhook_url")."""
    name = "_".join(_NOT_ENV.sub("_", part.upper()).strip("_") for part in parts)
    return "${UPWATCH_SECRET_" + name + "}"


def _resolve(value: Any, path: str, environ: Mapping[str, str], problems: list[str]) -> Any:
    """`value` with each `${NAME}` string (at any depth) replaced by the variable's value."""
    if isinstance(value, dict):
        return {k: _resolve(v, f"{path}.{k}", environ, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, f"{path}[{i}]", environ, problems) for i, v in enumerate(value)]
    if isinstance(value, str) and (match := _REFERENCE.fullmatch(value.strip())):
        name = match.group(1)
        if name not in environ:
            problems.append(f"{path}: the environment variable {name} is not set: export it "
                            "with the secret's value")
            return ""
        return environ[name]
    return value


def _unknown_keys(entry: Mapping[Any, Any], allowed: tuple[str, ...], path: str) -> list[str]:
    return [f"{path}.{key}: unknown field (use {', '.join(allowed)})"
            for key in entry if key not in allowed]


def _mapping(value: Any, path: str, what: str, problems: list[str]) -> dict[Any, Any] | None:
    if not isinstance(value, dict):
        problems.append(f"{path}: {what}")
        return None
    return value


def parse_document(text: str, rules: DocumentRules, environ: Mapping[str, str],
                   base_dir: Path | None = None) -> ConfigDocument:
    """The document in `text`, validated whole; InvalidDocument lists every problem."""
    try:
        raw = _load(text)
    except InvalidMonitorsFile as exc:
        raise InvalidDocument([str(exc)]) from None
    if raw is None or isinstance(raw, list):  # an empty file, or a bare list of monitors
        raw = {"monitors": raw or []}
    problems: list[str] = []
    top = _mapping(raw, "document", "the document must be a mapping of sections", problems)
    if top is None:
        raise InvalidDocument(problems)
    problems += [f"{key}: unknown section (use {', '.join(SECTIONS)})"
                 for key in top if key not in SECTIONS]
    if top.get("upwatch", VERSION) != VERSION:
        problems.append(f"upwatch: this Upwatch reads version {VERSION} documents")
    document = ConfigDocument(
        monitors=_monitors(top, environ, base_dir, problems),
        status_page=_status_page(top.get("status_page"), problems),
        channels=_channels(top.get("channels"), rules, environ, problems),
        routing=_routing(top.get("routing"), problems),
        escalation=_escalation(top.get("escalation"), problems),
        maintenance=_maintenance(top.get("maintenance"), problems),
    )
    if problems:
        raise InvalidDocument(problems)
    return document


def _monitors(top: dict[Any, Any], environ: Mapping[str, str], base_dir: Path | None,
              problems: list[str]) -> list[tuple[MonitorInput, dict[str, Any]]] | None:
    if "monitors" not in top:
        return None
    entries = top["monitors"] or []
    if not isinstance(entries, list):
        problems.append("monitors: give a list of monitors")
        return None
    resolved = _resolve(entries, "monitors", environ, problems)
    try:  # the monitors file's own parser (it reads text): one rule for both
        return parse_monitors_file(yaml.safe_dump({"monitors": resolved}), base_dir).entries
    except InvalidMonitorsFile as exc:
        problems += str(exc).split("; ")
        return None


def _status_page(section: Any, problems: list[str]) -> dict[str, Layout] | None:
    if section is None:
        return None
    places = _mapping(section, "status_page", "give a mapping of monitor slug -> "
                      "{group, order, show_url}", problems)
    if places is None:
        return None
    found: dict[str, Layout] = {}
    for slug, place in places.items():
        path = f"status_page.{slug}"
        if not isinstance(slug, str) or not is_slug(slug):
            problems.append(f"{path}: not a monitor slug (lower-case letters, digits, hyphens)")
            continue
        entry = _mapping(place or {}, path, "give {group, order, show_url}", problems)
        if entry is None:
            continue
        problems += _unknown_keys(entry, LAYOUT_KEYS, path)
        group = entry.get("group")
        try:
            group = checked_line(f"{path}.group", group, MAX_GROUP_CHARS) or None \
                if group is not None else None
        except InvalidInput as exc:
            problems += [f"{k}: {v}" for k, v in exc.errors.items()]
        order = entry.get("order", 0)
        if not isinstance(order, int) or isinstance(order, bool) or abs(order) > MAX_ORDER:
            problems.append(f"{path}.order: use a whole number between -1,000,000 and 1,000,000")
            order = 0
        show_url = entry.get("show_url", False)
        if not isinstance(show_url, bool):
            problems.append(f"{path}.show_url: use true or false")
        found[slug] = Layout(group, order, bool(show_url))
    return found


def _channels(section: Any, rules: DocumentRules, environ: Mapping[str, str],
              problems: list[str]) -> list[Any] | None:
    if section is None:
        return None
    if not isinstance(section, list):
        problems.append("channels: give a list of channels")
        return None
    found: list[Any] = []
    names: set[str] = set()
    for index, entry in enumerate(section):
        path = f"channels[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{path}: each channel is a mapping of fields")
            continue
        problems += _unknown_keys(entry, CHANNEL_KEYS, path)
        values = _channel_values(entry, path, rules, environ, problems)
        if values is None:
            continue
        try:
            spec = rules.check_channel(values)
        except InvalidInput as refused:
            problems += [f"{path}.{_channel_key(entry, key)}: {message}"
                         for key, message in refused.errors.items()]
            continue
        if spec.name in names:
            problems.append(f"{path}.name: {spec.name!r} appears twice in the document")
        names.add(spec.name)
        found.append(spec)
    return found


def _channel_key(entry: Mapping[Any, Any], key: str) -> str:
    """Where the form's field `key` is written in a channel entry."""
    return key if key in CHANNEL_KEYS else f"settings.{key}"


def _channel_values(entry: dict[Any, Any], path: str, rules: DocumentRules,
                    environ: Mapping[str, str], problems: list[str]) -> dict[str, object] | None:
    """The entry as the dashboard's channel form gives it, secrets read from the environment."""
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in rules.channel_fields:
        problems.append(f"{path}.kind: use one of {', '.join(rules.channel_fields)}")
        return None
    plain, secret = rules.channel_fields[kind]
    allowed = (*plain, *secret, *TEMPLATE_KEYS.get(kind, ()))
    settings = _mapping(entry.get("settings") or {}, f"{path}.settings",
                        "give the channel's settings as a mapping", problems)
    if settings is None:
        return None
    bad = _unknown_keys(settings, allowed, f"{path}.settings")
    for key in secret:
        value = settings.get(key)
        if value not in (None, "") and not (isinstance(value, str)
                                            and _REFERENCE.fullmatch(value.strip())):
            bad.append(f"{path}.settings.{key}: a secret is never written in the file: write "
                       f"{secret_reference(str(entry.get('name') or 'channel'), key)} and set "
                       "that variable")
    if bad:
        problems += bad
        return None
    settings = _resolve(settings, f"{path}.settings", environ, problems)
    values: dict[str, object] = {k: v for k, v in entry.items() if k != "settings"}
    for key in ("quiet_start", "quiet_end"):
        # YAML 1.1 reads an unquoted 22:00 as the number 1320 (base 60): read it back as a time.
        if isinstance(values.get(key), int) and not isinstance(values[key], bool):
            minutes = int(values[key])  # type: ignore[call-overload]
            values[key] = f"{minutes // 60:02d}:{minutes % 60:02d}"
    values.update({k: ("" if v is None else str(v)) for k, v in settings.items()})
    values.setdefault("events", [])
    return values


def _routing(section: Any, problems: list[str]) -> dict[str, list[str]] | None:
    if section is None:
        return None
    routes = _mapping(section, "routing", "give a mapping of monitor slug -> channel names",
                      problems)
    if routes is None:
        return None
    found: dict[str, list[str]] = {}
    for slug, names in routes.items():
        path = f"routing.{slug}"
        if not isinstance(slug, str) or not is_slug(slug):
            problems.append(f"{path}: not a monitor slug (lower-case letters, digits, hyphens)")
        elif not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(f"{path}: give a list of channel names")
        else:
            found[slug] = sorted({name.strip() for name in names})
    return found


def _escalation(section: Any, problems: list[str]) -> EscalationSettings | None:
    if section is None:
        return None
    try:
        return parse_escalation(section, EscalationSettings())
    except InvalidInput as refused:
        problems += [f"escalation.{key}: {message}" for key, message in refused.errors.items()]
        return None


def _instant(value: Any, path: str, problems: list[str]) -> datetime | None:
    if value is None:
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            problems.append(f"{path}: give an ISO 8601 time, like 2026-12-01T02:00:00Z")
            return None
    if not isinstance(moment, datetime):
        problems.append(f"{path}: give an ISO 8601 time, like 2026-12-01T02:00:00Z")
        return None
    try:
        check_date(moment.date())
    except ValueError as exc:
        problems.append(f"{path}: {exc}")
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _maintenance(section: Any, problems: list[str]) -> list[WindowEntry] | None:
    if section is None:
        return None
    if not isinstance(section, list):
        problems.append("maintenance: give a list of windows")
        return None
    found: list[WindowEntry] = []
    titles: set[str] = set()
    for index, entry in enumerate(section):
        path = f"maintenance[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{path}: each window is a mapping of fields")
            continue
        before = len(problems)
        problems += _unknown_keys(entry, WINDOW_KEYS, path)
        window = _window(entry, path, problems)
        if window is None or len(problems) > before:
            continue
        if window.title in titles:
            problems.append(f"{path}.title: {window.title!r} appears twice: windows are "
                            "matched by title")
        titles.add(window.title)
        found.append(window)
    return found


def _window(entry: dict[Any, Any], path: str, problems: list[str]) -> WindowEntry | None:
    try:
        title = checked_line(f"{path}.title", entry.get("title"), MAX_TITLE_CHARS,
                             missing="give the window a title, e.g. 'Database upgrade'")
        description = checked_text(f"{path}.description", entry.get("description") or "",
                                   MAX_TEXT_CHARS)
        group = checked_line(f"{path}.group", entry.get("group"), MAX_GROUP_CHARS) or None \
            if entry.get("group") is not None else None
        cron = " ".join(checked_line(f"{path}.cron", entry.get("cron"), MAX_CRON_CHARS)
                        .split()) or None if entry.get("cron") is not None else None
    except InvalidInput as exc:
        problems += [f"{key}: {message}" for key, message in exc.errors.items()]
        return None
    monitor = entry.get("monitor")
    if monitor is not None and (not isinstance(monitor, str) or not is_slug(monitor)):
        problems.append(f"{path}.monitor: give the monitor's slug")
    if monitor is not None and group is not None:
        problems.append(f"{path}.group: a window is for one monitor or for one group, not both")
    zone = str(entry.get("timezone") or "UTC").strip()
    try:
        parse_time_zone(zone)
    except ValueError as exc:
        problems.append(f"{path}.timezone: {exc}")
    starts_at = _instant(entry.get("starts_at"), f"{path}.starts_at", problems)
    ends_at = _instant(entry.get("ends_at"), f"{path}.ends_at", problems)
    duration = entry.get("duration_minutes")
    if cron is not None:
        if starts_at or ends_at:
            problems.append(f"{path}.cron: a recurring window has no starts_at / ends_at")
        if (not isinstance(duration, int) or isinstance(duration, bool)
                or not 1 <= duration <= MAX_DURATION_MINUTES):
            problems.append(f"{path}.duration_minutes: give 1 to {MAX_DURATION_MINUTES} minutes")
    elif starts_at is None or ends_at is None:
        problems.append(f"{path}: give starts_at and ends_at (one-off) or cron and "
                        "duration_minutes (recurring)")
    elif ends_at <= starts_at:
        problems.append(f"{path}.ends_at: the window must end after it starts")
    elif duration is not None:
        problems.append(f"{path}.duration_minutes: only a recurring (cron) window has one")
    notify = entry.get("notify", False)
    if not isinstance(notify, bool):
        problems.append(f"{path}.notify: use true or false")
    return WindowEntry(title, description, monitor, group, starts_at, ends_at, cron, zone,
                       duration if cron is not None else None, bool(notify))


def load_document(path: Path, rules: DocumentRules, environ: Mapping[str, str]
                  ) -> ConfigDocument:
    try:
        with path.open(encoding="utf-8") as file:
            text = file.read(MAX_MONITORS_FILE_BYTES + 1)  # more is refused: no need to read it
    except OSError as exc:
        raise InvalidDocument([f"cannot read {path}: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise InvalidDocument([f"cannot read {path}: it is not UTF-8 text"]) from None
    return parse_document(text, rules, environ, path.parent)


def dump_document(document: Mapping[str, Any]) -> str:
    """A document (storage.config_apply.export_document) as YAML that parse_document reads."""
    header = ("# Upwatch configuration: `upwatch apply -f FILE` makes Upwatch match it. Secrets\n"
              "# are ${VARIABLE} references: set each variable when applying.\n")
    return header + yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True,
                                   default_flow_style=False, width=100)
