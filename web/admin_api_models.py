"""The shapes of the REST API's monitor actions, reports, groups and tags, channels, routing and
quiet hours: pydantic models the routes build their answers with and read request bodies
through, and web/openapi_admin describes them from (so the document cannot drift).

A body's shape (types, unknown fields) is checked here; what its values mean is checked by the
dashboard's own rules (the channel form's, the routes', the monitors'), which name the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.limits import InvalidInput, SingleLineText
from notifiers.registry import CHANNEL_FIELDS
from storage.alerting_models import ALL_EVENTS

ChannelKind = Literal["slack_webhook", "slack_bot", "sms", "email", "webhook", "pagerduty"]
assert set(ChannelKind.__args__) == set(CHANNEL_FIELDS)  # type: ignore[attr-defined]

_STRICT = ConfigDict(extra="forbid", strict=True)


class CloneInput(BaseModel):
    """A copy of a monitor: every setting (stored secrets too) under a new name; any other
    monitor field given replaces the copied value."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(description="The copy's name (unique)")
    slug: SingleLineText | None = Field(default=None, description=(
        "The copy's slug: slugs are made from names, so this, when given, must be the one "
        "`name` makes (and free)"))


class CheckOutcome(BaseModel):
    """One check run now and recorded like the engine's."""

    outcome: Literal["up", "degraded", "down"]
    checked_at: datetime
    latency_ms: float | None
    http_status: int | None
    reason: str | None
    phases: dict[str, float] = Field(description="ms per phase: dns, connect, tls, ttfb, "
                                                 "transfer, total (those measured)")


class ReportIncident(BaseModel):
    id: int
    title: str
    status: str
    started_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


class MonitorReport(BaseModel):
    """A monitor over [from, to): the numbers of its page's window."""

    monitor: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    uptime: float | None = Field(description="up and degraded time over observed time, 0..1; "
                                             "null with nothing observed")
    up_s: int
    degraded_s: int
    down_s: int
    maintenance_s: int
    checks: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    incidents: int = Field(description="Incidents opened in the window (those wholly inside "
                                       "maintenance not counted), as the monitor page counts")
    response_times: dict[str, float | int | None] = Field(description=(
        "MTTA and MTTR of those incidents, in seconds (mean and median), with their counts: "
        "GET /api/v1/reports/response-times's figures for this monitor"))
    overlapping_incidents: list[ReportIncident] = Field(description=(
        "Every incident of the monitor open at some time in the window, newest first"))

    model_config = ConfigDict(populate_by_name=True)


class GroupCount(BaseModel):
    name: str | None = Field(description="null: monitors in no group")
    monitors: int
    states: dict[str, int] = Field(description="monitors per state (paused counts as paused)")


class TagCount(BaseModel):
    tag: str
    monitors: int


class ChannelInput(BaseModel):
    """A channel as it is created (PATCH takes any of these fields). `settings` holds the
    kind's connection settings and message templates; a secret setting sent empty or masked
    keeps the stored one."""

    model_config = _STRICT
    name: SingleLineText
    kind: ChannelKind
    settings: dict[str, str] = Field(default_factory=dict)
    events: list[SingleLineText] = Field(default_factory=lambda: list(ALL_EVENTS))
    enabled: bool = True
    escalate_after_minutes: int = 0
    quiet_start: SingleLineText | None = Field(default=None, description="HH:MM, with quiet_end")
    quiet_end: SingleLineText | None = None
    quiet_timezone: SingleLineText = "UTC"
    quiet_min_severity: SingleLineText = "critical"


class Channel(BaseModel):
    """A channel as the API shows it: its secret settings are never returned, a stored one is
    shown masked in `settings` and named in `stored_secrets`."""

    id: int
    name: str
    kind: str
    source: Literal["db", "env"] = Field(description="env: its connection comes from the "
                                                     "environment; only routing and templates "
                                                     "are set here")
    settings: dict[str, str]
    stored_secrets: list[str]
    events: list[str]
    enabled: bool
    escalate_after_minutes: int
    quiet_start: str | None
    quiet_end: str | None
    quiet_timezone: str
    quiet_min_severity: str
    failing_since: datetime | None
    failing_error: str | None


class TestSent(BaseModel):
    """A test notice's outcome: `sent` false carries the provider's error (secrets masked)."""

    sent: bool
    message: str
    note: str | None = Field(description="Sent, but with the built-in text: why the "
                                         "template was not used")


class QuietHours(BaseModel):
    """A channel's quiet hours: between start and end (HH:MM in `timezone`) only monitors of
    at least `min_severity` page it. Both null: no quiet hours."""

    model_config = _STRICT
    start: SingleLineText | None = None
    end: SingleLineText | None = None
    timezone: SingleLineText = "UTC"
    min_severity: SingleLineText = "critical"


class ChannelQuietHours(QuietHours):
    model_config = ConfigDict(extra="forbid")
    channel_id: int
    channel: str


class MonitorRouting(BaseModel):
    """The channels a monitor pages; an empty list pages every enabled channel."""

    model_config = _STRICT
    channels: list[SingleLineText] = Field(description="Channel names")


class MonitorRoutingShown(MonitorRouting):
    model_config = ConfigDict(extra="forbid")
    monitor: str
    every_enabled_channel: bool


def parsed(model: type[BaseModel], body: Any) -> Any:
    """`body` read through `model`, or InvalidInput naming each wrong field (by its path in
    the body, e.g. `settings.port`)."""
    try:
        return model.model_validate(body)
    except ValidationError as refused:
        raise InvalidInput(shape_errors(refused)) from None


def shape_errors(refused: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in refused.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        message = {"missing": "this field is required", "extra_forbidden": "unknown field",
                   "string_type": "give a string", "bool_type": "choose true or false",
                   "int_type": "give a whole number", "list_type": "give a list",
                   "dict_type": "give an object"}.get(error["type"],
                                                      str(error["msg"]).removeprefix(
                                                          "Value error, "))
        errors.setdefault(field, message)
    return errors
