"""Certificate days everywhere come from the last certificate's facts: the badge and its
shields JSON, the status JSON and the overview, after a renewal too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.monitors import MonitorView
from storage.overview import overview_rows
from tests.cert_days_support import record_certificate
from tests.status_support import monitor, public_client


@pytest.mark.parametrize(("days", "message", "color"), [
    (200, "200 days", "brightgreen"),
    (5, "5 days", "red"),
    (-3, "expired", "red"),
])
def test_badge_days_of_a_certificate(days: int, message: str, color: str) -> None:
    created = monitor("Shop")
    record_certificate(created.id, days, outcome="up" if days > 7 else "down")
    client, _ = public_client()
    shields = client.get("/badge/shop/cert.json").json()
    assert (shields["label"], shields["message"], shields["color"]) == (
        "certificate", message, color)
    assert message in client.get("/badge/shop/cert.svg").text


def _status_certificate(client, slug: str) -> dict:
    components = client.get("/api/v1/status").json()["components"]
    return next(c for c in components if c["slug"] == slug)["certificate"]


def test_a_renewal_shows_at_the_next_check(monkeypatch: pytest.MonkeyPatch) -> None:
    created: MonitorView = monitor("Shop")
    record_certificate(created.id, 5, outcome="down")
    client, read_model = public_client()
    assert client.get("/badge/shop/cert.json").json()["message"] == "5 days"
    assert _status_certificate(client, "shop")["days_left"] == 5
    renewed = record_certificate(created.id, 90)
    read_model.refresh()  # what the read-model process does when a result is recorded
    assert client.get("/badge/shop/cert.json").json()["message"] == "90 days"
    certificate = _status_certificate(client, "shop")
    assert certificate["days_left"] == 90
    assert datetime.fromisoformat(certificate["not_after"]) == datetime.fromisoformat(
        str(renewed["not_after"]))
    row = next(r for r in overview_rows(datetime.now(UTC)) if r.slug == "shop")
    assert row.cert_days_left == 90


def test_a_monitor_without_a_certificate_seen_has_no_certificate_in_the_status_json() -> None:
    monitor("Shop")
    client, _ = public_client()
    assert _status_certificate(client, "shop") is None
    assert client.get("/badge/shop/cert.json").json()["message"] == "no data"
