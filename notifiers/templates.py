"""A channel's own text from its template, or the built-in text when it has none or it fails.

A template that cannot be used never costs a page: the channel sends its default text and tells
the dispatcher why (`Rendered.problem`), which records it with the delivery attempt and shows it on
the channel's panel. The template language and its limits are `domain/notice_templates.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain import links
from domain.formatting import format_duration
from domain.notice_templates import Escape, TemplateRefused, plain, render
from domain.severity import DEFAULT_SEVERITY, priority
from domain.text import clean_text
from notifiers.message import Notice, format_time, format_timestamp, headline, label


@dataclass(frozen=True, slots=True)
class Rendered:
    """`text` is None when the default text goes out; `problem` says why a template was not used."""

    text: str | None
    problem: str | None = None


def template_values(notice: Notice) -> dict[str, object]:
    """The documented fields (domain.notice_templates.TEMPLATE_FIELDS) of one notice."""
    downtime = notice.downtime
    return {
        "kind": notice.kind,
        "label": label(notice),
        "headline": clean_text(headline(notice)),
        "monitor_name": clean_text(notice.monitor_name),
        "monitor_slug": notice.monitor_slug,
        "state": notice.state,
        "reason": clean_text(notice.reason) if notice.reason else None,
        "since": format_timestamp(notice.since),
        "since_time": format_time(notice.since),
        "downtime": format_duration(downtime) if downtime is not None else None,
        "downtime_seconds": int(downtime.total_seconds()) if downtime is not None else None,
        "dashboard_url": notice.dashboard_url,
        "status_url": notice.status_url,
        "ack_url": notice.ack_url,
        "runbook_url": notice.runbook_url,
        "severity": notice.severity or DEFAULT_SEVERITY,
        "priority": priority(notice.severity),
    }


def render_notice(template: str | None, notice: Notice, escape: Escape = plain) -> Rendered:
    """The template's text for `notice`, or no text (the default) and the reason it failed."""
    if not template or not template.strip():
        return Rendered(None)
    try:
        text = render(template, template_values(notice), escape)
    except TemplateRefused as refused:
        return Rendered(None, f"template refused: {refused}")
    except Exception as error:  # whatever a template meets at run time, the page still goes
        return Rendered(None, f"template failed: {type(error).__name__}: {error}")
    if not text.strip():
        return Rendered(None, "template produced no text")
    return Rendered(text)


def fallback_note(*problems: str | None) -> str | None:
    """The sentence recorded with a delivery that went out with the default text."""
    found = [problem for problem in problems if problem]
    if not found:
        return None
    return "Sent with the built-in text: " + "; ".join(found)


def sample_down_notice(public_url: str) -> Notice:
    """What the dashboard's preview renders: a plausible outage, with every link set."""
    slug = "checkout-api"
    return Notice(
        kind="down", monitor_name="Checkout API", monitor_slug=slug, state="down",
        reason="HTTP 503 Service Unavailable",
        since=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3),
        dashboard_url=links.monitor_url(public_url, slug),
        status_url=links.status_url(public_url),
        event_id=0,
        ack_url=links.ack_url(public_url, "sample-token"),
        runbook_url="https://wiki.example.com/runbooks/checkout-api", severity="critical",
    )
