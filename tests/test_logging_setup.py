"""Log lines: text or one JSON object a line (UPWATCH_LOG_FORMAT), from UPWATCH_LOG_LEVEL up, and a
start-up summary of the settings in which no secret appears."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from config.logging_setup import JsonFormatter, configure_logging, settings_summary
from config.settings import Settings
from domain.monitor_input import SECRET_MASK
from tests.conftest import free_port
from tests.server_process import running_upwatch, wait_until

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {
    "UPWATCH_ADMIN_PASSWORD": "adm1n-pa55word",
    "UPWATCH_API_TOKEN": "api-t0ken-value",
    "UPWATCH_SECRET_KEY": "k3y-material-abcdefghijklmnopqrstuvwxyz",
    "UPWATCH_SLACK_WEBHOOK_URL": "https://hooks.slack.example/services/T0/B0/sl4ck-secret",
    "UPWATCH_TWILIO_AUTH_TOKEN": "tw1lio-auth-token",
}
SECRET_VALUES = [*SECRETS.values(), "db-pa55word", "proxy-pa55word"]


def _every_setting_with_secrets(db_file: Path) -> dict[str, str]:
    return {
        **SECRETS,
        "UPWATCH_DATABASE_URL": f"sqlite:///{db_file}",
        "UPWATCH_TWILIO_API_BASE": "https://sms:proxy-pa55word@twilio.example",
        "UPWATCH_TWILIO_ACCOUNT_SID": "AC123", "UPWATCH_TWILIO_FROM": "+15550000000",
        "UPWATCH_TWILIO_TO": "+15550000001",
    }


def test_the_summary_names_every_setting_and_shows_no_secret() -> None:
    settings = Settings(
        admin_password=SECRETS["UPWATCH_ADMIN_PASSWORD"], api_token=SECRETS["UPWATCH_API_TOKEN"],
        secret_key=SECRETS["UPWATCH_SECRET_KEY"],
        slack_webhook_url=SECRETS["UPWATCH_SLACK_WEBHOOK_URL"],
        twilio_auth_token=SECRETS["UPWATCH_TWILIO_AUTH_TOKEN"],
        database_url="postgresql+psycopg://upwatch:db-pa55word@db.example/upwatch",
        twilio_api_base="https://sms:proxy-pa55word@twilio.example",
    )
    summary = "\n".join(settings_summary(settings))
    for secret in SECRET_VALUES:
        assert secret not in summary
    assert f"UPWATCH_API_TOKEN = {SECRET_MASK}" in summary
    assert f"postgresql+psycopg://upwatch:{SECRET_MASK}@db.example/upwatch" in summary
    assert "UPWATCH_PUBLIC_URL = http://localhost:8501" in summary
    assert len(summary.splitlines()) == len(Settings.model_fields) < 40  # one screen


def test_json_lines_carry_level_logger_message_and_the_exception() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("upwatch").makeRecord(
            "upwatch", logging.ERROR, __file__, 1, "send to %s failed", ("slack",),
            sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "ERROR" and parsed["logger"] == "upwatch"
    assert parsed["message"] == "send to slack failed"
    assert "RuntimeError: boom" in parsed["exception"]
    assert parsed["time"].endswith("+00:00")


def test_configuring_again_replaces_the_handler_and_honours_the_level() -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        configure_logging(Settings(log_level="warning"))
        configure_logging(Settings(log_level="error", log_format="json"))
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
        assert root.level == logging.ERROR
        # A root logger with someone else's handlers (here pytest's) is left alone on request.
        configure_logging(Settings(), unless_configured=True)
        assert root.level == logging.ERROR
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)


def test_a_log_level_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match="DEBUG, INFO, WARNING"):
        Settings(log_level="loud")


def test_a_worker_logs_one_json_object_a_line_without_secrets(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("UPWATCH_")},
           **_every_setting_with_secrets(tmp_path / "upwatch.db"),
           "UPWATCH_LOG_FORMAT": "json", "PYTHONPATH": str(ROOT)}
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "composition.cli", "worker"],
                                  cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "probe worker running" in log_path.read_text() or worker.poll(),
                   60, "the worker to start")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    messages = [line["message"] for line in lines]
    assert any(m.startswith("probe worker starting with these settings") for m in messages)
    assert "probe worker running; Ctrl-C stops it" in messages
    for secret in SECRET_VALUES:
        assert secret not in text


def test_the_web_process_logs_its_settings_and_lines_as_json(tmp_path: Path) -> None:
    env = {**_every_setting_with_secrets(tmp_path / "web.db"), "UPWATCH_LOG_FORMAT": "json"}
    log_path = tmp_path / "server.log"
    with running_upwatch(free_port(), env, log_path) as server:
        wait_until(lambda: "probe engine started" in server.log(), 30, "the engine's line")
        server.stop()
    text = log_path.read_text()
    # Streamlit prints its own banner; every line of Upwatch's is a JSON object.
    ours = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    messages = [line["message"] for line in ours]
    assert any(m.startswith("web process starting with these settings") for m in messages)
    assert "probe engine started" in messages
    for secret in SECRET_VALUES:
        assert secret not in text
