"""Nothing private reaches a public answer: page, feeds, status JSON, badges.

Private monitors, a public monitor's URL and host, and raw error texts all carry recognisable
strings; every public answer is searched for them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from domain.result import ProbeResult
from storage.db import get_engine
from storage.incidents import create_incident
from storage.models import MaintenanceWindow
from storage.results import record_result
from storage.status import LayoutRow, page_layout, save_layout
from tests.status_support import monitor, public_client

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("zz-private-name", "zz-private-host", "zz-public-host", "zz-raw-error",
           "zz-private-incident", "zz-private-maintenance", "zz-private-group")


def seed() -> None:
    hidden = monitor("zz-private-name", url="https://zz-private-host.example/", public=False,
                     state="down", reason="zz-raw-error on zz-private-host")
    shown = monitor("Checkout", url="https://zz-public-host.example/pay")
    for _ in range(3):
        record_result(shown.id, ProbeResult("down", reason="zz-raw-error: refused"))
    create_incident("zz-private-incident", "investigating", "x", monitor_id=hidden.id)
    create_incident("Public trouble", "identified", "We know", monitor_id=shown.id)
    save_layout([LayoutRow(r.monitor_id, r.name, r.public,
                           "zz-private-group" if not r.public else "Shop", 0, False)
                 for r in page_layout()])
    now = datetime.now(UTC)
    with get_engine().begin() as connection:
        connection.execute(MaintenanceWindow.__table__.insert().values(
            title="zz-private-maintenance", description="", timezone="UTC", monitor_id=hidden.id,
            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)))


def assert_clean(where: str, text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"{where} shows {leaked}"


def test_no_public_answer_shows_private_things() -> None:
    seed()
    client, read_model = public_client()
    assert "checkout" in read_model.snapshot.components
    paths = ["/api/v1/status", "/feed.atom", "/feed.rss", "/badge/status.svg",
             "/badge/status.json"]
    for kind in ("status", "uptime", "latency", "cert"):
        for ext in ("svg", "json"):
            paths.append(f"/badge/checkout/{kind}.{ext}")
            assert client.get(f"/badge/zz-private-name/{kind}.{ext}").status_code == 404
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert_clean(path, answer.text)
    assert "Public trouble" in client.get("/api/v1/status").text

    page = AppTest.from_file(str(ROOT / "pages" / "status.py"), default_timeout=30).run()
    assert not page.exception
    shown = []
    for element_type in ("markdown", "caption", "success", "error", "warning", "info",
                         "subheader", "title", "expander"):
        for element in getattr(page, element_type):
            shown.append(str(getattr(element, "value", "") or getattr(element, "label", "")))
    # The components travel to the browser as the status board's payload: their names, states,
    # URLs and hover texts are searched too.
    boards = [element.proto.bytes.decode() for element in page.get("bidi_component")]
    assert boards and "Checkout" in boards[0]
    shown.extend(boards)
    text = " ".join(shown)
    assert "Checkout" in text and "Public trouble" in text
    assert_clean("the status page", text)
