"""Configuration as code: every monitor exported as a monitors file reads back and applies to
the same monitors (a fresh installation gets them all; the same one changes nothing), through
the API and `upwatch export-monitors`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from config.monitors_file import dump_monitors_file, parse_monitors_file
from domain.monitor_input import SECRET_MASK, parse_monitor_input
from storage.audit import audit_page
from storage.db import get_engine
from storage.models import Monitor
from storage.monitors import create_monitor, exported_monitors, list_monitors, save_monitors_file
from storage.tables import table_of

SECRET = "hunter2-very-secret"


def _seed() -> None:
    create_monitor(parse_monitor_input({"name": "DB", "url": "127.0.0.1:5432",
                                        "kind": "tcp", "severity": "critical"}))
    create_monitor(parse_monitor_input({
        "name": "API", "url": "http://127.0.0.1:9/health", "interval": 30, "timeout": 5,
        "public": True, "tags": ["prod", "api"], "runbook_url": "https://wiki.example/rb/api",
        "depends_on": ["db"], "options": {"keyword": "ok", "basic_auth_user": "probe",
                                          "basic_auth_password": SECRET}}))
    create_monitor(parse_monitor_input({"name": "Nightly backup", "kind": "push",
                                        "interval": 86400}))


def _comparable() -> dict[str, dict]:
    keep = ("kind", "url", "interval", "timeout", "public", "tags", "runbook_url", "severity",
            "depends_on", "failures_before_down")
    return {m.name: {k: v for k, v in m.to_api().items() if k in keep} for m in list_monitors()}


def test_an_export_reads_back_and_changes_nothing_when_applied_here() -> None:
    _seed()
    text = dump_monitors_file(exported_monitors())
    assert SECRET not in text and SECRET_MASK in text
    assert text.index("name: DB") < text.index("name: API")  # a parent before its children
    before, entries_before = _comparable(), len(audit_page())
    created, updated = save_monitors_file(parse_monitors_file(text))
    assert (created, updated) == (0, 3)
    assert _comparable() == before
    assert len(audit_page()) == entries_before  # nothing changed: no entry
    api = next(m for m in list_monitors() if m.name == "API")
    assert api.options["basic_auth_password"] == SECRET  # the masked secret kept its value


def test_an_export_applied_to_a_fresh_installation_makes_the_same_monitors(
        tmp_path: Path, isolated_settings: Path) -> None:
    _seed()
    before = _comparable()
    target = tmp_path / "monitors.yaml"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "composition.cli", "export-monitors",
                           str(target)], capture_output=True, text=True, check=True, env=env)
    assert "wrote 3 monitors" in done.stdout
    with get_engine().begin() as connection:  # a fresh installation: no monitor
        connection.execute(table_of(Monitor).delete())
    assert list_monitors() == []
    assert save_monitors_file(parse_monitors_file(target.read_text())) == (3, 0)
    assert _comparable() == before


def test_the_api_exports_with_a_read_token_only() -> None:
    _seed()
    with TestClient(Starlette(routes=build_routes(Runtime()))) as client:
        assert client.get("/api/v1/monitors.yaml").status_code == 401
        answer = client.get("/api/v1/monitors.yaml",
                            headers={"Authorization": "Bearer s3cret-token"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "application/yaml")
    assert [spec.name for spec, _ in parse_monitors_file(answer.text).entries] == [
        "DB", "API", "Nightly backup"]
