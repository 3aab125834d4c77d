"""PagerDuty Events API v2: trigger when a monitor goes down, acknowledge when someone
acknowledges in Upwatch (the dashboard or a message's link), resolve when it recovers.

Every event for a monitor carries the dedup key `upwatch-<slug>`, so the recovery resolves the
incident the outage opened, and a repeated trigger (a retry, a reminder) lands in the same incident
instead of opening a second one. Certificate warnings use their own key, so a recovery of the
monitor does not close them. Maintenance notices and reminders are not sent: PagerDuty has its own
maintenance windows and re-notifies by itself.
"""

from __future__ import annotations

import ssl
from typing import Any, Literal

import httpx

from domain.formatting import format_duration
from notifiers.base import DEFAULT_TIMEOUT, connection_error, error_for_status
from notifiers.message import Notice, headline, label
from notifiers.templates import fallback_note, render_notice

EVENTS_API = "https://events.pagerduty.com"
Severity = Literal["critical", "error", "warning", "info"]

_TRIGGERS: dict[str, Severity] = {
    "down": "critical",
    "degraded": "warning",
    "flapping": "warning",
    "certificate": "warning",
}
# An outage's PagerDuty severity follows the monitor's (P1 and P2, the default, stay critical).
_DOWN_BY_SEVERITY: dict[str, Severity] = {
    "critical": "critical", "high": "critical", "medium": "error", "low": "warning"}


def dedup_key(notice: Notice) -> str:
    if notice.kind in ("rule_firing", "rule_resolved"):
        # One PagerDuty incident per alert rule, beside the monitor's own outage.
        return f"upwatch-{notice.monitor_slug}-rule-{notice.rule_key}"
    if notice.kind == "certificate":
        return f"upwatch-{notice.monitor_slug}-certificate"
    if notice.kind == "test":
        return f"upwatch-test-{notice.event_id}"
    return f"upwatch-{notice.monitor_slug}"


def pagerduty_events(
    notice: Notice, routing_key: str, summary: str | None = None
) -> list[dict[str, Any]]:
    """The events to enqueue for `notice`, in order (none for kinds PagerDuty does not need);
    `summary` replaces the default summary of a trigger (a template's)."""
    key = dedup_key(notice)
    if notice.kind in ("up", "rule_resolved"):
        return [{"routing_key": routing_key, "event_action": "resolve", "dedup_key": key}]
    if notice.kind == "acknowledged":
        return [{"routing_key": routing_key, "event_action": "acknowledge", "dedup_key": key}]
    if notice.kind == "test":
        # A test must show the path works without leaving an open incident behind.
        return [
            _trigger(notice, routing_key, key, "info", summary),
            {"routing_key": routing_key, "event_action": "resolve", "dedup_key": key},
        ]
    if notice.kind in ("down", "rule_firing"):
        # An alert rule's severity is its own (the warning and critical latency levels).
        severity = _DOWN_BY_SEVERITY.get(notice.severity or "", _TRIGGERS["down"])
        return [_trigger(notice, routing_key, key, severity, summary)]
    if notice.kind in _TRIGGERS:
        return [_trigger(notice, routing_key, key, _TRIGGERS[notice.kind], summary)]
    return []


def _trigger(
    notice: Notice, routing_key: str, key: str, severity: Severity, summary: str | None = None
) -> dict[str, Any]:
    if summary is None:
        summary = f"{label(notice)}: {headline(notice)}" + (
            f" ({notice.reason})" if notice.reason else ""
        )
    details: dict[str, Any] = {
        "state": notice.state,
        "reason": notice.reason,
        "since": notice.since.isoformat(),
        "event_id": notice.event_id,
    }
    if notice.downtime is not None:
        details["downtime"] = format_duration(notice.downtime)
    links = [
        {"href": notice.dashboard_url, "text": "Upwatch dashboard"},
        {"href": notice.status_url, "text": "Status page"},
    ]
    if notice.ack_url:
        links.append({"href": notice.ack_url, "text": "Acknowledge in Upwatch"})
    if notice.runbook_url:
        links.append({"href": notice.runbook_url, "text": "Runbook"})
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {
            "summary": summary[:1024],  # the API refuses longer summaries
            "source": notice.monitor_slug,
            "severity": severity,
            "timestamp": notice.since.isoformat(),
            "component": notice.monitor_name,
            "class": notice.kind,
            "custom_details": details,
        },
        "client": "Upwatch",
        "client_url": notice.dashboard_url,
        "links": links,
    }


def templated_summary(notice: Notice, template: str | None) -> tuple[str | None, str | None]:
    """A trigger's summary from the template (None: the default), and the reason the template
    was not used. One line: that is how PagerDuty lists it."""
    rendered = render_notice(template, notice)
    return (" ".join(rendered.text.split()) if rendered.text is not None else None,
            rendered.problem)


class PagerDutyChannel:
    def __init__(
        self,
        routing_key: str,
        *,
        name: str = "pagerduty",
        base_url: str = EVENTS_API,
        timeout: float = DEFAULT_TIMEOUT,
        template: str = "",
    ) -> None:
        self.name = name
        self._routing_key = routing_key
        self._template = template
        self._endpoint = base_url.rstrip("/") + "/v2/enqueue"
        self._timeout = timeout
        # Built once: a TLS context loads the trust store, ~20 ms that each send would pay again.
        self._tls = ssl.create_default_context()

    def send(self, notice: Notice) -> str | None:
        summary, problem = (templated_summary(notice, self._template)
                            if notice.kind in (*_TRIGGERS, "test", "rule_firing")
                            else (None, None))
        events = pagerduty_events(notice, self._routing_key, summary)
        if not events:
            return None
        try:
            with httpx.Client(timeout=self._timeout, verify=self._tls) as client:
                for event in events:
                    response = client.post(self._endpoint, json=event)
                    if not response.is_success:
                        raise error_for_status(
                            "PagerDuty", response.status_code, _reason(response), response.headers
                        )
        except httpx.HTTPError as error:
            raise connection_error("PagerDuty", error) from error
        return fallback_note(problem)


def _reason(response: httpx.Response) -> str:
    """PagerDuty explains a refusal as {"status", "message", "errors": [...]}."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(body, dict):
        return response.text[:200]
    errors = body.get("errors") or []
    return "; ".join([str(body.get("message", "")), *map(str, errors)]).strip("; ")
