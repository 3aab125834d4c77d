"""The public status as the JSON document GET /api/v1/status answers (served by web/status_api).

Serialised once per snapshot, where the snapshot is built (readmodel/wire).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from config.settings import get_settings
from readmodel.kept_encodings import KeptEncodings
from storage.incidents import IncidentView
from storage.status import (
    PAGE_WINDOWS,
    PublicComponent,
    PublicMaintenance,
    PublicStatus,
    facts_without_bars,
)

CACHE_CONTROL = "public, max-age=10"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def component_document(component: PublicComponent) -> dict[str, Any]:
    document: dict[str, Any] = {
        "slug": component.slug,
        "name": component.name,
        "group": component.group,
        "state": component.state,
        "since": _iso(component.since),
        "last_check_at": _iso(component.last_check_at),
        "uptime": {w: _rounded(component.uptime.get(w), 6) for w in PAGE_WINDOWS},
        "latency_ms": {
            q: _rounded(component.latency.get("24h", {}).get(q), 1) for q in ("p50", "p95")},
    }
    if component.has_certificate:
        document["certificate"] = certificate_document(component)
    if component.url is not None:
        document["url"] = component.url
    return document


def certificate_document(component: PublicComponent) -> dict[str, Any] | None:
    """When the last certificate seen expires, and the whole days left when the snapshot was
    built; None until a certificate was seen."""
    if component.cert_not_after is None:
        return None
    return {"not_after": _iso(component.cert_not_after), "days_left": component.cert_days_left}


def incident_document(incident: IncidentView) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "started_at": _iso(incident.started_at),
        "resolved_at": _iso(incident.resolved_at),
        "component": incident.monitor_name,
        "updates": [
            {"at": _iso(u.at), "status": u.status, "message": u.message}
            for u in incident.updates
        ],
    }


def maintenance_document(window: PublicMaintenance) -> dict[str, Any]:
    return {
        "title": window.title,
        "description": window.description,
        "starts_at": _iso(window.starts_at),
        "ends_at": _iso(window.ends_at),
        "active": window.active,
        "scope": window.scope,
    }


_BEFORE_COMPONENTS = ("title", "description", "state", "updated_at")


def status_document_without_components(status: PublicStatus) -> dict[str, Any]:
    settings = get_settings()
    return {
        "title": settings.status_title,
        "description": settings.status_description,
        "state": status.overall,
        "updated_at": _iso(status.built_at),
        "incidents": [incident_document(i) for i in status.active_incidents],
        "past_incidents": [incident_document(i) for i in status.past_incidents],
        "maintenance": [maintenance_document(m) for m in status.maintenance],
    }


def status_document(status: PublicStatus) -> dict[str, Any]:
    document = status_document_without_components(status)
    before = {key: document[key] for key in _BEFORE_COMPONENTS}
    return {**before, "components": [component_document(c) for c in status.components],
            **{key: value for key, value in document.items() if key not in before}}


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# Each component's part of the last document: a rebuild encodes only the components that changed.
_COMPONENTS: KeptEncodings[PublicComponent] = KeptEncodings(
    lambda component: _json(component_document(component)))


def status_json_body(status: PublicStatus) -> bytes:
    """`status_document(status)` encoded: the same bytes as encoding it whole, each component's
    part kept while the component stays the same."""
    document = status_document_without_components(status)
    components = _COMPONENTS.encoded((c.id, facts_without_bars(c), c) for c in status.components)
    before = {key: document[key] for key in _BEFORE_COMPONENTS}
    after = {key: document[key] for key in document if key not in _BEFORE_COMPONENTS}
    return (_json(before)[:-1] + b',"components":[' + b",".join(components) + b"],"
            + _json(after)[1:])
