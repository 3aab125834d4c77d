"""The deployment examples under deploy/ run what the package installs and keep Streamlit's
WebSocket working behind a proxy."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / name)
    return unit


def test_the_systemd_units_run_upwatch_serve_and_workers_as_their_own_user() -> None:
    web, worker = _unit("upwatch.service"), _unit("upwatch-worker@.service")
    assert web["Service"]["ExecStart"].split()[1:3] == ["serve", "--server.address=127.0.0.1"]
    assert worker["Service"]["ExecStart"].split()[1:] == ["worker"]
    for unit in (web, worker):
        assert unit["Service"]["User"] == "upwatch"
        assert unit["Service"]["ExecStart"].startswith("/opt/upwatch/bin/upwatch ")
        assert unit["Service"]["EnvironmentFile"] == "/etc/upwatch/upwatch.env"
    assert web["Service"]["Environment"] == "UPWATCH_DATA_DIR=/var/lib/upwatch"


def test_the_proxies_pass_websockets_and_the_client_address() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "proxy_set_header Connection $connection_upgrade;" in nginx
    assert "proxy_set_header X-Forwarded-For" in nginx
    assert "proxy_pass http://127.0.0.1:8501;" in nginx
    assert "reverse_proxy 127.0.0.1:8501" in (DEPLOY / "Caddyfile").read_text()
