"""Where every Upwatch process's log lines go: stderr, as text or one JSON object a line
(UPWATCH_LOG_FORMAT), from UPWATCH_LOG_LEVEL up; and the start-up summary of the settings.

The web process, `upwatch` commands and the child processes (probe engine, read-model builder)
all call `configure_logging` first. Streamlit sets up only its own loggers, so without it the
INFO lines of the web process (probe engine started, retention pruned, a send retried) went
nowhere.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from config.settings import Settings
from domain.monitor_input import SECRET_MASK

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Libraries that would log a line per request or job run; their warnings still show.
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^/@\s]+@")
CHATTY = ("apscheduler", "httpx", "httpcore", "urllib3", "twilio.http_client")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.processName,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _UpwatchHandler(logging.StreamHandler):
    """Ours, so configuring again replaces it rather than doubling every line."""


def configure_logging(settings: Settings, *, quiet: bool = False,
                      unless_configured: bool = False) -> None:
    """Log to stderr in the chosen format. `quiet` (child processes) keeps to warnings unless
    UPWATCH_LOG_LEVEL asks for more; `unless_configured` leaves a root logger someone else
    already gave handlers to (a test runner, an embedding program) alone."""
    root = logging.getLogger()
    others = [h for h in root.handlers if not isinstance(h, _UpwatchHandler)]
    if unless_configured and others:
        return
    for handler in root.handlers[:]:
        if isinstance(handler, _UpwatchHandler):
            root.removeHandler(handler)
    handler = _UpwatchHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(settings.log_level or ("WARNING" if quiet else "INFO"))
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def mask_url_passwords(text: str) -> str:
    """scheme://user:password@host -> scheme://user:**********@host, anywhere in `text`."""
    return _URL_PASSWORD.sub(rf"\1{SECRET_MASK}@", text)


def _shown(name: str, value: object) -> str:
    if isinstance(value, SecretStr):
        return SECRET_MASK if value.get_secret_value() else "(empty)"
    if value is None or value == "" or value == []:
        return "(unset)"
    if isinstance(value, str):  # a URL may carry a password: scheme://user:password@host
        return mask_url_passwords(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def settings_summary(settings: Settings) -> list[str]:
    """One line a setting, `UPWATCH_NAME = value`, every secret shown as its mask."""
    return [f"UPWATCH_{name.upper()} = {_shown(name, getattr(settings, name))}"
            for name in type(settings).model_fields]


def log_settings_summary(settings: Settings, process: str) -> None:
    log = logging.getLogger("upwatch")
    log.info("%s starting with these settings:\n  %s", process,
             "\n  ".join(settings_summary(settings)))
