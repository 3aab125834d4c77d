"""Monitors as code: a YAML file (UPWATCH_MONITORS_FILE) applied at start.

    monitors:
      - name: API
        url: https://api.example.com/health
        interval: 60
        public: true
        tags: [prod, api]          # or "prod, api"
        runbook_url: https://wiki.example.com/runbooks/api
        severity: critical         # critical (P1), high (P2, default), medium (P3), low (P4)
        depends_on: [db]           # addresses of monitors listed earlier in the file
        rules:                     # alert rules over windows, each with its own severity
          - {kind: latency, percentile: 95, threshold: 500, window_minutes: 5, severity: medium}
          - {kind: latency, percentile: 95, threshold: 1000, window_minutes: 5, severity: critical}
          - {kind: failure_rate, threshold: 5, window_minutes: 5}        # percent of checks
          - {kind: uptime, threshold: 99.9, period: month, severity: low}  # day, week, month
          - {kind: certificate_days, threshold: 14}
        remind_every_minutes: 30   # this monitor's own reminders (0: none) and flap threshold;
        flap_changes: 5            # left out, the global settings hold
        flap_window_minutes: 10
      - name: Nightly backup
        kind: push
        interval: 86400
      - name: Intranet
        url: https://intranet.corp.example/health
        options:
          ca_bundle: certs/corp-ca.pem           # a path (from the file's folder), or the PEM
          client_certificate: certs/probe.pem    # mutual TLS: the monitor's certificate
          client_key: /etc/upwatch/probe.key     # and its key (sealed once stored)
          ip_version: ipv6                       # any (the default), ipv4 or ipv6

Each entry takes the same fields as the REST API. Monitors are matched by name: new names are
created, existing ones updated to match the file; monitors missing from the file are left alone.
The whole file is validated first: one bad entry refuses the file and nothing is applied. The
file is held to the limits of `domain.limits` (its size, its nesting, and every value in it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from domain.limits import MAX_MONITORS_FILE_BYTES, MAX_PEM_CHARS, check_document_shape
from domain.monitor_input import InvalidInput, MonitorInput, parse_monitor_input

PEM_OPTIONS = ("ca_bundle", "client_certificate", "client_key")
_PEM_START = "-----BEGIN"


class InvalidMonitorsFile(Exception):
    """The file cannot be applied; the message says where and what to fix."""


@dataclass(frozen=True, slots=True)
class MonitorsFile:
    entries: list[tuple[MonitorInput, dict[str, Any]]]  # validated spec, and the raw entry


def _entries(document: Any) -> list[Any]:
    if isinstance(document, dict) and set(document) == {"monitors"}:
        document = document["monitors"]
    if not isinstance(document, list):
        raise InvalidMonitorsFile("the file must hold a list under 'monitors:'")
    return document


def _load(text: str) -> Any:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MONITORS_FILE_BYTES:
        raise InvalidMonitorsFile(
            f"the file is larger than {MAX_MONITORS_FILE_BYTES // 1024} KB: split it up")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        raise InvalidMonitorsFile(f"not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise InvalidMonitorsFile("not valid YAML: it is nested too deeply") from None
    except ValueError as exc:  # a tagged or implicit value that does not convert: 2026-13-45
        raise InvalidMonitorsFile(f"not valid YAML: {exc}") from None
    try:
        check_document_shape(document)
    except ValueError as exc:
        raise InvalidMonitorsFile(f"the file must {exc}") from None
    return document


def _read_pem(path_text: str, base_dir: Path | None) -> str:
    path = Path(path_text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        with path.open(encoding="ascii") as file:
            text = file.read(MAX_PEM_CHARS + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {path_text}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path_text} is not a PEM file (PEM is plain ASCII text)") from None
    if len(text) > MAX_PEM_CHARS:
        raise ValueError(f"{path_text} is larger than {MAX_PEM_CHARS // 1024} KB")
    return text


def _with_pem_files(entry: dict[str, Any], base_dir: Path | None,
                    problems: list[str], label: str) -> dict[str, Any]:
    """`entry` with each PEM option given as a path replaced by the file's text."""
    options = entry.get("options")
    if not isinstance(options, dict):
        return entry
    read = dict(options)
    for name in PEM_OPTIONS:
        value = options.get(name)
        if isinstance(value, str) and value.strip() and _PEM_START not in value:
            try:
                read[name] = _read_pem(value.strip(), base_dir)
            except ValueError as exc:
                problems.append(f"{label}.options.{name}: {exc}")
    return {**entry, "options": read}


def parse_monitors_file(text: str, base_dir: Path | None = None) -> MonitorsFile:
    """The file's monitors, validated; PEM paths are read relative to `base_dir`."""
    document = _load(text)
    problems: list[str] = []
    entries: list[tuple[MonitorInput, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, entry in enumerate(_entries(document) if document is not None else []):
        label = f"monitors[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{label}: each monitor is a mapping of fields")
            continue
        entry = _with_pem_files(entry, base_dir, problems, label)
        try:
            spec = parse_monitor_input(entry)
        except InvalidInput as refused:
            problems += [f"{label}.{field}: {message}" for field, message in refused.errors.items()]
            continue
        if spec.name in seen:
            problems.append(f"{label}.name: '{spec.name}' appears twice in the file")
        seen.add(spec.name)
        entries.append((spec, entry))
    if problems:
        raise InvalidMonitorsFile("; ".join(problems))
    return MonitorsFile(entries)


def load_monitors_file(path: str) -> MonitorsFile:
    try:
        with Path(path).open(encoding="utf-8") as file:
            text = file.read(MAX_MONITORS_FILE_BYTES + 1)  # more is refused: no need to read it
    except OSError as exc:
        raise InvalidMonitorsFile(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidMonitorsFile(f"cannot read {path}: it is not UTF-8 text") from None
    return parse_monitors_file(text, Path(path).parent)


def dump_monitors_file(entries: list[dict[str, Any]]) -> str:
    """`entries` (monitor fields, as the REST API takes them) as a monitors file that
    parse_monitors_file reads back: what `upwatch export-monitors` writes."""
    header = ("# Upwatch monitors, exported: apply with UPWATCH_MONITORS_FILE. Secrets show as\n"
              "# ********** (re-applied here they keep their stored values; elsewhere, put the\n"
              "# real ones in).\n")
    return header + yaml.safe_dump({"monitors": entries}, sort_keys=False, allow_unicode=True,
                                   default_flow_style=False, width=100)
