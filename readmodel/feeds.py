"""The status page's incidents and maintenance as Atom and RSS feeds (served by web/feeds).

One entry per incident (its updates, newest first, in the entry's content) and one per
scheduled maintenance. Built with feedgen once per snapshot, where the snapshot is built
(readmodel/wire), and served from the in-memory read model.

Every text goes through `xml_safe` here, where it becomes XML: lxml refuses a control character
(a monitor named "Api\x01" went down, and its incident's title failed every rebuild), and names
reach this from older databases and other doors than the forms.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from feedgen.feed import FeedGenerator

from config.settings import get_settings
from domain.text import safe_markdown, xml_safe
from storage.incidents import STATUS_LABELS, IncidentView
from storage.status import PublicMaintenance, PublicStatus

CACHE_CONTROL = "public, max-age=60"
MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _html_text(text: str) -> str:
    return escape(xml_safe(text)).replace("\n", "<br>")


def _incident_html(incident: IncidentView) -> str:
    # The updates are Markdown; a feed reader gets them as escaped text in paragraphs, as the
    # page shows them (no images, no links that run code).
    parts = []
    for update in incident.updates:
        text = _html_text(safe_markdown(update.message))
        label = STATUS_LABELS.get(update.status, update.status)
        parts.append(f"<p><strong>{escape(label)}</strong> — {_when(update.at)}<br>{text}</p>")
    return "".join(parts) or "<p>No updates yet.</p>"


def _maintenance_html(window: PublicMaintenance) -> str:
    text = _html_text(window.description)
    span = f"{_when(window.starts_at)} to {_when(window.ends_at)}"
    return f"<p><strong>Scheduled maintenance</strong> ({_html_text(window.scope)}), {span}</p>" + (
        f"<p>{text}</p>" if text else "")


def build_feed(status: PublicStatus) -> FeedGenerator:
    settings = get_settings()
    base = xml_safe(settings.public_url).rstrip("/")
    feed = FeedGenerator()
    feed.id(f"{base}/status")
    feed.title(xml_safe(settings.status_title))
    feed.subtitle(xml_safe(settings.status_description)
                  or f"Incidents and maintenance: {base}/status")
    # RSS keeps the last link as the channel's link: the page, not the feed itself.
    feed.link(href=f"{base}/feed.atom", rel="self")
    feed.link(href=f"{base}/status", rel="alternate")
    feed.language("en")
    feed.updated(status.built_at)
    # feedgen puts the entry added last on top; add the oldest first.
    for window in reversed(status.maintenance):
        entry = feed.add_entry()
        title = xml_safe(window.title)
        entry.id(f"{base}/status#maintenance-{window.starts_at.isoformat()}-{title}")
        entry.title(f"Maintenance: {title}")
        entry.link(href=f"{base}/status")
        entry.published(window.starts_at)
        entry.updated(window.starts_at)
        entry.content(_maintenance_html(window), type="html")
        entry.description(_maintenance_html(window))
    for incident in reversed(status.incidents):
        latest = incident.updates[0].at if incident.updates else incident.started_at
        label = STATUS_LABELS.get(incident.status, incident.status)
        entry = feed.add_entry()
        entry.id(f"{base}/status#incident-{incident.id}")
        entry.title(f"{xml_safe(incident.title)} ({label})")
        entry.link(href=f"{base}/status")
        entry.published(incident.started_at)
        entry.updated(latest)
        entry.content(_incident_html(incident), type="html")
        entry.description(_incident_html(incident))
    return feed


def feed_body(status: PublicStatus, kind: str) -> bytes:
    feed = build_feed(status)
    return feed.atom_str(pretty=True) if kind == "atom" else feed.rss_str(pretty=True)
