"""Hostile text in names, titles and updates, and a flooding push token: every public answer
stays up, shows text as text, and stays small.

Names are written straight into the database (as an older version, another door or a hand
edit would have left them), past the input checks.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import lxml.etree
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from config.settings import get_settings
from domain.formatting import plain
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from domain.text import clean_text, is_safe_url, safe_markdown, xml_safe
from readmodel import feeds as feeds_module
from readmodel.feeds import feed_body
from readmodel.snapshot import StatusSnapshot
from readmodel.wire import PackedSnapshot, pack_snapshot, pack_status, unpack_snapshot
from storage.db import get_engine, session_scope
from storage.incidents import (
    ADMIN_PAGE_SIZE,
    PUBLIC_PAST_LIMIT,
    admin_incident_page,
    create_incident,
    post_update,
    public_incidents,
)
from storage.models import CheckResult, Incident, IncidentUpdate, MaintenanceWindow, Monitor
from storage.monitors import create_monitor
from storage.results import record_result
from storage.status import public_status
from storage.tables import table_of
from tests.pages_support import logged_in, page
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.status_support import monitor, public_client
from web.push import BEAT_BURST, BEATS_PER_S, push_routes
from web.rate_limit import TokenBuckets

markdown_it = pytest.importorskip("markdown_it")  # comes with streamlit (through rich)

MONITORS = table_of(Monitor)
INCIDENTS = table_of(Incident)
UPDATES = table_of(IncidentUpdate)
RESULTS = table_of(CheckResult)
ATOM = "{http://www.w3.org/2005/Atom}"


def rename(monitor_id: int, name: str) -> None:
    """What an old database may hold: a name no form would take today."""
    with get_engine().begin() as connection:
        connection.execute(update(MONITORS).where(MONITORS.c.id == monitor_id).values(name=name))


def goes_down(monitor_id: int) -> None:
    for _ in range(3):
        record_result(monitor_id, ProbeResult("down", latency_ms=None, reason="refused"))


def status_json(snapshot: StatusSnapshot) -> dict[str, Any]:
    assert snapshot.status_json is not None
    return json.loads(snapshot.status_json.body)


def maintenance(title: str, description: str) -> None:
    now = datetime.now(UTC)
    with session_scope() as session:
        session.add(MaintenanceWindow(title=title, description=description,
                                      starts_at=now + timedelta(hours=1),
                                      ends_at=now + timedelta(hours=2)))


# -- 1. one control character takes nothing down ---------------------------------------------------


def test_a_public_monitor_named_with_a_control_character_going_down_leaves_every_answer_up(
) -> None:
    api, shop = monitor("Api"), monitor("Shop")
    rename(api.id, "Api\x01\u202e")
    goes_down(api.id)
    [opened] = public_incidents()
    assert opened.title == "Api\x01\u202e is down"  # the text as stored reaches the builder
    maintenance("Move\x02 the database", "Short \x0b stop")

    snapshot = unpack_snapshot(pack_snapshot())  # raised ValueError from lxml before
    document = status_json(snapshot)
    assert [c["slug"] for c in document["components"]] == [api.slug, shop.slug]
    for kind in ("atom", "rss"):
        ET.fromstring(snapshot.feeds[kind].body)  # well-formed XML

    client, _ = public_client()
    atom = client.get("/feed.atom")
    assert atom.status_code == 200
    titles = [e.findtext(f"{ATOM}title") for e in ET.fromstring(atom.content).iter(f"{ATOM}entry")]
    assert titles == ["Api is down (Investigating)", "Maintenance: Move the database"]
    rss = client.get("/feed.rss")
    assert rss.status_code == 200
    assert "Api is down" in rss.text and "\x01" not in rss.text
    status = client.get("/api/v1/status")
    assert status.status_code == 200
    assert status.json()["incidents"][0]["component"] == "Api\x01\u202e"  # JSON can carry it
    for path in (f"/badge/{api.slug}/status.svg", f"/badge/{shop.slug}/uptime.svg",
                 "/badge/status.svg"):
        badge = client.get(path)
        assert badge.status_code == 200, path
        ET.fromstring(badge.content)


def test_an_incident_update_with_control_characters_is_in_the_feed_without_them() -> None:
    incident = create_incident("Slow search", "investigating", "Looking")
    with get_engine().begin() as connection:
        connection.execute(insert(UPDATES).values(
            incident_id=incident, at=datetime.now(UTC), status="identified",
            message="Index\x00 rebuilt\x1f\r\nback \x85soon"))
    body = feed_body(public_status(), "atom")
    [entry] = ET.fromstring(body).iter(f"{ATOM}entry")
    content = entry.findtext(f"{ATOM}content") or ""
    assert "Index rebuilt<br>back soon" in content


def test_a_feed_that_fails_for_one_incident_is_served_without_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """Defence in depth: an output point that forgot to clean loses one entry, not the feed."""
    api = monitor("Api")
    rename(api.id, "Api\x01")
    goes_down(api.id)
    create_incident("Slow search", "investigating", "Looking")
    monkeypatch.setattr(feeds_module, "xml_safe", lambda text: text)
    with caplog.at_level(logging.ERROR):
        packed: PackedSnapshot = pickle.loads(pack_status(public_status(), time.time()))
    for kind in ("atom", "rss"):
        feed = ET.fromstring(packed.feeds[kind])
        assert [t.text for t in feed.iter() if t.tag in (f"{ATOM}title", "title")][1:] == [
            "Slow search (Investigating)"]
    assert "leaves out" in caplog.text and "'incidents': [1]" in caplog.text
    assert "Api\x01 is down" in [i["title"] for i in json.loads(packed.status_json)["incidents"]]


def test_a_board_entry_that_fails_leaves_the_other_components_on_the_board(
    caplog: pytest.LogCaptureFixture,
) -> None:
    monitor("Api")
    monitor("Shop")
    status = public_status()
    # A name the board's UTF-8 cannot encode (a lone surrogate): its entry cannot be built.
    broken = dataclasses.replace(status.components[0], name="Api\ud800")
    status = dataclasses.replace(status, components=(broken, *status.components[1:]))
    with caplog.at_level(logging.ERROR):
        snapshot = unpack_snapshot(pack_status(status, time.time()))
    rows = [row["name"] for group in json.loads(snapshot.board)["groups"]
            for row in group["rows"]]
    assert rows == ["Shop"]
    assert "'components': ['api']" in caplog.text
    assert set(snapshot.components) == {"api", "shop"}  # badges still know both
    assert status_json(snapshot)["components"][0]["slug"] == "api"


def test_a_part_that_cannot_be_built_at_all_is_the_last_snapshots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_incident("Slow search", "investigating", "Looking")
    last_parts: dict[str, bytes] = {}
    first = unpack_snapshot(pack_status(public_status(), time.time(), last_parts))
    monkeypatch.setattr(feeds_module, "xml_safe", lambda text: text)
    monkeypatch.setenv("UPWATCH_STATUS_TITLE", "Status\x01")
    get_settings.cache_clear()
    create_incident("Login fails", "investigating", "Looking")
    later = unpack_snapshot(pack_status(public_status(), time.time(), last_parts))
    assert later.feeds["atom"].body == first.feeds["atom"].body
    assert [i["title"] for i in status_json(later)["incidents"]] == [
        "Login fails", "Slow search"]
    with pytest.raises(ValueError):  # without a last snapshot the failure is not hidden
        pack_status(public_status(), time.time())


@given(st.text())
def test_xml_safe_text_is_always_accepted_by_lxml(text: str) -> None:
    cleaned = xml_safe(text)
    lxml.etree.Element("title").text = cleaned
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", cleaned)


def test_clean_text_keeps_tabs_line_breaks_and_every_script() -> None:
    assert clean_text("a\tb\r\nc\rd\n") == "a\tb\nc\nd\n"
    assert clean_text("Zürich 東京 مرحبا \u200f") == "Zürich 東京 مرحبا \u200f"
    assert clean_text("\x1b[31mred\x7f\x9b") == "[31mred"


# -- 2. text shown as text, Markdown without images or links that run code -----------------------


def _parsed(markdown: str) -> list[Any]:
    """The inline tokens CommonMark reads, every link kept whatever its scheme."""
    parser = markdown_it.MarkdownIt("commonmark")
    parser.validateLink = lambda url: True
    parser.normalizeLink = lambda url: url
    return [child for token in parser.parse(markdown) for child in token.children or ()]


def _links_and_images(markdown: str) -> list[tuple[str, str]]:
    return [(t.type, t.attrs.get("href") or t.attrs.get("src") or "") for t in _parsed(markdown)
            if t.type in ("link_open", "image")]


def _runs_or_fetches(kind: str, href: str) -> bool:
    """An image, or a link whose scheme a browser reads as another than http(s) or mailto (it
    drops tabs and line ends anywhere, spaces and controls around; the parser has already
    decoded character references and escapes)."""
    read = re.sub("[\t\n\r]", "", href).strip("".join(map(chr, range(0x21)))).lower()
    scheme = re.match(r"([a-z][a-z0-9+.\-]*):", read)
    return kind == "image" or (scheme is not None and scheme[1] not in ("http", "https", "mailto"))


HOSTILE_MARKDOWN = [
    "![pixel](https://track.example/p.gif)", "!![two](https://track.example/p.gif)",
    "[run](javascript:alert(1))", "[run](JaVaScRiPt:alert(1))", "[run](<java\tscript:alert(1)>)",
    "[run](&#106;avascript:alert(1))", "[run](javascript&colon;alert(1))",
    "[run](<javascript:alert(1)>)", "[run]( \n javascript:alert(1))",
    "[run](data:text/html;base64,PHNjcmlwdD4=)", "[run](vbscript:msgbox)",
    "[run][r]\n\n[r]: javascript:alert(1)", "<javascript:alert(1)>",
    "<data:text/html,hi>", "![a](x)[b](javascript:y)", "[a](<b c> [d](javascript:e))",
    "![![in](javascript:x)](data:image/png;base64,AA)",
]


@pytest.mark.parametrize("markdown", HOSTILE_MARKDOWN)
def test_safe_markdown_leaves_no_image_and_no_link_that_runs_code(markdown: str) -> None:
    assert any(_runs_or_fetches(*found) for found in _links_and_images(markdown))
    assert not any(_runs_or_fetches(*found) for found in _links_and_images(safe_markdown(markdown)))


def test_safe_markdown_keeps_markdown_that_is_safe() -> None:
    kept = ("We **restarted** the `db` — see [the runbook](https://docs.example/a_(b)), "
            "[this page](/status#x), <https://status.example>, [mail](mailto:ops@x.example).\n"
            "- data: none lost\n- ratio 1:2")
    assert safe_markdown(kept) == kept
    assert safe_markdown("![logo](https://t.example/p.png)") == "[logo](https://t.example/p.png)"


@pytest.mark.parametrize(("destination", "safe"), [
    ("https://docs.example/a", True), ("/status#x", True), ("#top", True), ("mailto:a@b", True),
    ("relative/page:with-colon", True), ("javascript:x", False), (" \x01JavaScript:x", False),
    ("java\tscript:x", False), ("&#x6A;avascript:x", False), ("javascript\\:x", False),
    ("data:,x", False), ("file:///etc/passwd", False),
])
def test_a_destination_is_safe_with_no_scheme_or_a_scheme_that_leads_to_a_page(
    destination: str, safe: bool,
) -> None:
    assert is_safe_url(destination) is safe


FRAGMENTS = ["[", "]", "(", ")", "!", "<", ">", "\\", "`", " ", "\t", "\n", ":", "x", "[r]: ",
             "javascript:", "JaVa\tScript:", "data:", "vbscript:", "&#106;", "&colon;", "&Tab;",
             "&#32;", "\x01", "\u202e", "\xa0", "http://a.example", '"t"', "](<", "![", "!!"]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join))
def test_safe_markdown_never_leaves_an_image_or_a_link_that_runs_code(markdown: str) -> None:
    assert not any(_runs_or_fetches(*found) for found in _links_and_images(safe_markdown(markdown)))


def test_the_status_page_shows_titles_as_text_and_updates_without_images_or_script() -> None:
    link_title = "<https://evil.example|click>"
    create_incident(link_title, "investigating", "![pixel](https://track.example/p.gif) "
                    "[run](javascript:alert(1)) [runbook](https://docs.example)")
    past = create_incident("[click](https://evil.example) **now**", "investigating", "x")
    post_update(past, "resolved", "Fixed")
    at = page("status.py").run()
    assert not at.exception
    [subheader] = [s.value for s in at.subheader if "evil" in s.value]
    assert subheader == f"⚠️ {plain(link_title)}"
    assert _links_and_images(subheader) == []
    [label] = [e.label for e in at.expander if "evil" in e.label]
    assert _links_and_images(label) == [] and "\\*\\*now\\*\\*" in label
    shown = [m.value for m in at.markdown if "runbook" in m.value]
    assert [found for text in shown for found in _links_and_images(text)] == [
        ("link_open", "https://track.example/p.gif"), ("link_open", "#javascript:alert(1)"),
        ("link_open", "https://docs.example")]
    content = "".join(e.findtext(f"{ATOM}content") or "" for e in
                      ET.fromstring(feed_body(public_status(), "atom")).iter(f"{ATOM}entry"))
    assert "![" not in content and "(#javascript:alert(1))" in content


def test_the_admin_list_shows_titles_and_causes_as_text() -> None:
    api = monitor("Api")
    rename(api.id, "[Api](https://evil.example)")
    goes_down(api.id)
    at = logged_in("incidents.py")
    [label] = [e.label for e in at.expander]
    assert label.startswith(plain("[Api](https://evil.example) is down"))
    assert _links_and_images(label) == []


# -- 3. a flooding push token -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(clock: Clock) -> Iterator[tuple[TestClient, TokenBuckets]]:
    buckets = TokenBuckets(BEATS_PER_S, BEAT_BURST, clock=clock)
    with TestClient(Starlette(routes=push_routes(lambda: None, buckets))) as test_client:
        yield test_client, buckets


def _recorded(monitor_id: int) -> int:
    with get_engine().connect() as connection:
        return connection.execute(select(func.count()).select_from(RESULTS)
                                  .where(RESULTS.c.monitor_id == monitor_id)).scalar_one()


def test_beats_past_the_burst_are_429_with_retry_after_and_record_nothing(
    limited: tuple[TestClient, TokenBuckets], clock: Clock,
) -> None:
    client, _ = limited
    backup = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    path = f"/api/v1/push/{backup.push_token}"
    answers = [client.get(path, params={"status": ("up", "down")[i % 2]}) for i in range(30)]
    assert [a.status_code for a in answers] == [200] * BEAT_BURST + [429] * (30 - BEAT_BURST)
    refused = answers[-1]
    assert refused.headers["retry-after"] == "1" and "too many beats" in refused.json()["detail"]
    assert _recorded(backup.id) == BEAT_BURST
    clock.now += 1 / BEATS_PER_S
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 429
    assert _recorded(backup.id) == BEAT_BURST + 1


def test_each_token_has_its_own_bucket_and_unknown_tokens_hold_no_memory(
    limited: tuple[TestClient, TokenBuckets],
) -> None:
    client, buckets = limited
    first, second = (create_monitor(parse_monitor_input({"name": n, "kind": "push"}))
                     for n in ("Backup", "Cron"))
    for _ in range(BEAT_BURST + 1):
        client.get(f"/api/v1/push/{first.push_token}")
    assert client.get(f"/api/v1/push/{second.push_token}").status_code == 200
    for i in range(50):
        assert client.get(f"/api/v1/push/guess-{i}").status_code == 404
    assert len(buckets) == 2


def test_a_flood_of_flapping_beats_through_the_real_routes_makes_few_incidents() -> None:
    backup = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    path = f"/api/v1/push/{backup.push_token}"
    began = time.monotonic()
    with TestClient(Starlette(routes=build_routes(Runtime()))) as client:
        codes = [client.get(path, params={"status": ("down", "up")[i % 2]}).status_code
                 for i in range(300)]
    allowed = BEAT_BURST + BEATS_PER_S * (time.monotonic() - began) + 1
    assert codes.count(200) == _recorded(backup.id) <= allowed
    assert codes.count(429) == 300 - codes.count(200)
    with get_engine().connect() as connection:
        incidents = connection.execute(select(func.count()).select_from(INCIDENTS)).scalar_one()
    assert incidents <= allowed / 2 + 1


def _flood_of_incidents(monitor_id: int, count: int) -> None:
    """What a flapping monitor leaves: many short incidents, resolved (as the recorder writes
    them, in one go: the recorder's way, a transaction each, would take minutes)."""
    start = datetime.now(UTC) - timedelta(days=2)
    rows = [{"monitor_id": monitor_id, "title": f"Api is down #{i}", "status": "resolved",
             "started_at": start + timedelta(seconds=10 * i),
             "resolved_at": start + timedelta(seconds=10 * i + 5), "public": True}
            for i in range(count)]
    with get_engine().begin() as connection:
        connection.execute(insert(INCIDENTS), rows)


def test_past_incidents_are_capped_in_every_public_answer() -> None:
    api = monitor("Api")
    _flood_of_incidents(api.id, 1003)
    create_incident("Still open", "investigating", "Looking", monitor_id=api.id,
                    now=datetime.now(UTC) - timedelta(days=20))
    incidents = public_incidents()
    assert len(incidents) == PUBLIC_PAST_LIMIT + 1
    assert incidents[0].title == "Api is down #1002" and incidents[-1].title == "Still open"
    assert [i.title for i in incidents[1:4]] == [
        "Api is down #1001", "Api is down #1000", "Api is down #999"]
    client, _ = public_client()
    document = client.get("/api/v1/status")
    assert len(document.json()["past_incidents"]) == PUBLIC_PAST_LIMIT
    assert [i["title"] for i in document.json()["incidents"]] == ["Still open"]
    assert len(document.content) < 60_000
    feed = client.get("/feed.atom")
    assert len(list(ET.fromstring(feed.content).iter(f"{ATOM}entry"))) == PUBLIC_PAST_LIMIT + 1
    assert len(feed.content) < 100_000
    at = page("status.py").run(timeout=60)
    assert not at.exception
    assert len([e for e in at.expander if "Api is down" in e.label]) == PUBLIC_PAST_LIMIT
    assert f"The {PUBLIC_PAST_LIMIT} most recent." in [c.value for c in at.caption]


@pytest.mark.usefixtures("backend")
def test_the_cap_and_the_pages_are_read_alike_on_both_backends() -> None:
    api = monitor("Api")
    _flood_of_incidents(api.id, 1003)
    create_incident("Still open", "investigating", "Looking", monitor_id=api.id,
                    now=datetime.now(UTC) - timedelta(days=20))
    public = public_incidents()
    assert len(public) == PUBLIC_PAST_LIMIT + 1 and public[-1].title == "Still open"
    first = admin_incident_page(1)
    assert (first.total, first.pages) == (1004, -(-1004 // ADMIN_PAGE_SIZE))
    assert (first.first, first.last) == (1, ADMIN_PAGE_SIZE)
    assert [i.title for i in first.incidents[:3]] == [
        "Still open", "Api is down #1002", "Api is down #1001"]
    last = admin_incident_page(999)  # past the end: the last page
    assert last.number == first.pages
    assert len(last.incidents) == (1004 % ADMIN_PAGE_SIZE or ADMIN_PAGE_SIZE)
    assert last.incidents[-1].title == "Api is down #0"


def test_the_admin_incidents_page_shows_a_page_at_a_time_open_ones_first() -> None:
    api = monitor("Api")
    _flood_of_incidents(api.id, 1003)
    create_incident("Still open", "investigating", "Looking", monitor_id=api.id,
                    now=datetime.now(UTC) - timedelta(days=20))
    began = time.monotonic()
    at = logged_in("incidents.py")
    assert time.monotonic() - began < 30
    labels = [e.label for e in at.expander]
    assert len(labels) == ADMIN_PAGE_SIZE and labels[0].startswith("Still open")
    assert f"Incidents 1–{ADMIN_PAGE_SIZE} of 1,004, open ones first" in [
        c.value for c in at.caption]
    at.number_input(key="incident_page").set_value(3).run()
    assert not at.exception
    assert at.expander[0].label.startswith(plain(f"Api is down #{1003 - 2 * ADMIN_PAGE_SIZE}"))
