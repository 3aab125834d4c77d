"""Validation of a monitor as a user submits it: the same rules for the form, the API and YAML."""

from __future__ import annotations

from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

MIN_INTERVAL_S = 10
MAX_INTERVAL_S = 86_400
SUPPORTED_SCHEMES = ("http", "https")


class InvalidInput(Exception):
    """Bad input, as a message per field, ready to show next to the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = errors


class MonitorInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str
    kind: Literal["http"] = "http"
    url: str
    interval: int = 60
    timeout: float = 10.0
    public: bool = False

    @field_validator("name")
    @classmethod
    def _name_present(cls, name: str) -> str:
        if not name:
            raise ValueError("give the monitor a name")
        if len(name) > 100:
            raise ValueError("keep the name under 100 characters")
        return name

    @field_validator("url")
    @classmethod
    def _url_is_probeable(cls, url: str) -> str:
        if "://" not in url:
            raise ValueError("start the URL with http:// or https://")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise ValueError(f"this is not a valid URL ({exc})") from None
        if parsed.scheme not in SUPPORTED_SCHEMES:
            raise ValueError(f"'{parsed.scheme}' URLs are not supported: use http:// or https://")
        if not parsed.host:
            raise ValueError("the URL has no host name")
        return url

    @field_validator("interval")
    @classmethod
    def _interval_in_range(cls, interval: int) -> int:
        if not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
            raise ValueError(
                f"choose an interval between {MIN_INTERVAL_S} s and {MAX_INTERVAL_S} s (1 day)"
            )
        return interval

    @field_validator("timeout")
    @classmethod
    def _timeout_positive(cls, timeout: float) -> float:
        if timeout <= 0:
            raise ValueError("the timeout must be more than 0 s")
        return timeout

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> MonitorInput:
        if self.timeout >= self.interval:
            raise ValueError("timeout: the timeout must be shorter than the interval")
        return self


def _field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if not field and ": " in message:  # model-level rule naming its field
            field, message = message.split(": ", 1)
        if error["type"] == "missing":
            message = "this field is required"
        elif error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] in ("int_parsing", "float_parsing", "int_from_float"):
            message = "enter a number"
        elif error["type"] == "literal_error" and field == "kind":
            message = "only 'http' monitors are supported"
        errors.setdefault(field or "monitor", message)
    return errors


def parse_monitor_input(data: dict[str, Any]) -> MonitorInput:
    """Validate raw input or raise InvalidInput with one message per bad field."""
    try:
        return MonitorInput.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_field_errors(exc)) from None


def parse_monitor_update(current: MonitorInput, changes: dict[str, Any]) -> MonitorInput:
    """Apply a partial update and validate the result as a whole."""
    return parse_monitor_input({**current.model_dump(), **changes})
