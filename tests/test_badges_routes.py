"""Badge routes: every kind as SVG and shields JSON, caching headers, and what is a 404."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from storage.db import get_engine
from storage.models import StateChange
from storage.tables import table_of
from tests.cert_days_support import record_certificate
from tests.status_support import monitor, public_client
from web import badges

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(body: str) -> list[str]:
    root = ET.fromstring(body)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_each_kind_answers_as_svg_and_shields_json() -> None:
    monitor("Web shop", latency_ms=120)
    client, _ = public_client()
    for path, label, message in [
        ("status", "Web shop", "up"),
        ("uptime?window=7d", "uptime 7d", None),
        ("latency?q=p99&window=24h", "p99 24h", "120 ms"),
        ("cert", "certificate", "no data"),
    ]:
        kind, _, query = path.partition("?")
        query = f"?{query}" if query else ""
        as_json = client.get(f"/badge/web-shop/{kind}.json{query}")
        assert as_json.status_code == 200
        body = as_json.json()
        assert set(body) == {"schemaVersion", "label", "message", "color"}
        assert body["schemaVersion"] == 1 and body["label"] == label
        if message:
            assert body["message"] == message
        as_svg = client.get(f"/badge/web-shop/{kind}.svg{query}")
        assert as_svg.headers["content-type"].startswith("image/svg+xml")
        assert body["message"] in svg_texts(as_svg.text)


def test_status_badge_is_red_when_down_and_overall_says_major_outage() -> None:
    monitor("Api", state="down", reason="connection refused")
    client, _ = public_client()
    assert client.get("/badge/api/status.json").json()["color"] == "red"
    overall = client.get("/badge/status.json").json()
    assert (overall["message"], overall["color"]) == ("major outage", "red")
    assert "major outage" in svg_texts(client.get("/badge/status.svg").text)


def test_cert_badge_reads_the_certificate_facts_not_a_warning_text() -> None:
    created = monitor("Tls site")
    with get_engine().begin() as connection:  # a warning's text alone no longer counts
        connection.execute(table_of(StateChange).insert().values(
            monitor_id=created.id, at=created.updated_at, from_state="up", to_state="up",
            reason="TLS certificate expires in 10 days (2999-01-01)", kind="certificate"))
    client, _ = public_client()
    assert client.get("/badge/tls-site/cert.json").json()["message"] == "no data"
    record_certificate(created.id, days=200)
    client, _ = public_client()
    body = client.get("/badge/tls-site/cert.json").json()
    assert (body["message"], body["color"]) == ("200 days", "brightgreen")


def test_cert_badge_of_a_plain_http_monitor_is_not_found() -> None:
    monitor("Plain", url="http://plain.example/")
    client, _ = public_client()
    assert client.get("/badge/plain/cert.svg").status_code == 404


def test_etag_and_cache_control_and_304() -> None:
    monitor("Api")
    client, _ = public_client()
    first = client.get("/badge/api/status.svg")
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    again = client.get("/badge/api/status.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/badge/api/status.svg", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200


@pytest.mark.parametrize("path", [
    "/badge/nobody/status.svg",
    "/badge/secret/status.svg",
    "/badge/secret/uptime.json",
    "/badge/api/uptime.svg?window=2d",
    "/badge/api/latency.svg?q=p42",
    "/badge/api/latency.svg?window=forever",
    "/badge/api/weather.svg",
    "/badge/api/status.png",
    "/badge/api/status.svg?style=round",
    "/badge/status.gif",
])
def test_unknown_private_or_bad_parameters_are_404(path: str) -> None:
    monitor("Api")
    monitor("Secret", public=False)
    client, _ = public_client()
    assert client.get(path).status_code == 404


def test_no_query_parameter_changes_the_value() -> None:
    monitor("Api", state="down", reason="boom")
    client, _ = public_client()
    plain = client.get("/badge/api/status.json").json()
    tricked = client.get(
        "/badge/api/status.json?message=up&color=green&state=up&value=1&window=1y").json()
    assert (tricked["message"], tricked["color"]) == (plain["message"], plain["color"])
    labelled = client.get("/badge/api/status.json?label=Shop").json()
    assert labelled["label"] == "Shop" and labelled["message"] == plain["message"]


def test_a_label_longer_than_100_characters_is_a_400_and_not_kept() -> None:
    monitor("Api")
    client, read_model = public_client()
    assert client.get("/badge/api/status.json?label=" + "L" * 100).json()["label"] == "L" * 100
    kept = len(read_model.snapshot.answers)
    answer = client.get("/badge/api/status.json?label=" + "L" * 101)
    assert answer.status_code == 400 and "at most 100 characters" in answer.json()["error"]
    assert len(read_model.snapshot.answers) == kept


QUERY_PIECES = st.sampled_from(["label", "style", "window", "q", "=", "&", "+", "%", "%2", "%41",
                                "%C3%A9", "%ff", ";", "x", "é", "\x00", " ", "flat", "7d"])


@settings(max_examples=300, deadline=None)
@given(query=st.one_of(st.lists(QUERY_PIECES, max_size=12).map("".join),
                       st.text(max_size=40)).map(lambda text: text.encode("utf-8")) | st.binary())
def test_badge_parameters_read_a_query_as_starlette_does(query: bytes) -> None:
    expected = {k: v for k, v in QueryParams(query).items() if k in badges.PARAMETERS}
    assert badges.badge_parameters(query) == expected


def test_hostile_names_and_labels_are_escaped() -> None:
    monitor("<script>alert(1)</script>")
    client, read_model = public_client()
    [slug] = read_model.snapshot.components
    svg = client.get(f"/badge/{slug}/status.svg?label=<img src=x onerror=alert(1)>").text
    assert "<script" not in svg and "<img" not in svg
    ET.fromstring(svg)  # still well-formed XML
    svg = client.get(f"/badge/{slug}/status.svg").text
    assert "<script" not in svg and "&lt;script&gt;" in svg


def counted_renders(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every badge SVG rendered from now on, with an empty cache of rendered badges."""
    renders: list[tuple] = []
    render = badges.render_badge_svg
    monkeypatch.setattr(badges, "RENDERED", badges.RenderedBadges())

    def counting_render(*args: str) -> str:
        renders.append(args)
        return render(*args)

    monkeypatch.setattr(badges, "render_badge_svg", counting_render)
    return renders


def test_styles_render_and_each_badge_is_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monitor("Api")
    client, _ = public_client()
    renders = counted_renders(monkeypatch)
    bodies = {s: client.get(f"/badge/api/uptime.svg?style={s}").text
              for s in ("flat", "flat-square", "for-the-badge")}
    assert len(set(bodies.values())) == 3
    assert "UPTIME 30D" in svg_texts(bodies["for-the-badge"])
    assert client.get("/badge/api/uptime.svg?style=flat").text == bodies["flat"]
    assert len(renders) == 3  # served from memory


def test_a_badge_whose_text_is_unchanged_is_not_rendered_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from domain.result import ProbeResult
    from storage.results import record_result

    created = monitor("Api")
    client, read_model = public_client()
    renders = counted_renders(monkeypatch)
    first = client.get("/badge/api/status.svg?label=Shop")
    record_result(created.id, ProbeResult("up", latency_ms=90.0))
    read_model.refresh()
    again = client.get("/badge/api/status.svg?label=Shop")
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert len(renders) == 1


def test_rendered_badges_are_bounded_and_keep_what_is_still_asked_for() -> None:
    rendered = badges.RenderedBadges(limit=2)
    kept = rendered.get("json", "a", "up", "green", "flat")
    rendered.get("json", "b", "up", "green", "flat")
    rendered.get("json", "c", "up", "green", "flat")  # the newer generation was full
    assert rendered.get("json", "a", "up", "green", "flat") is kept  # still in the older one
    for label in "defgh":
        rendered.get("json", label, "up", "green", "flat")
    assert rendered.get("json", "a", "up", "green", "flat") is not kept  # long forgotten
    assert len(rendered._newer) + len(rendered._older) <= 4


def test_rendered_badges_are_bounded_in_bytes_too() -> None:
    rendered = badges.RenderedBadges(limit=1_000, limit_bytes=20_000)
    for number in range(200):
        rendered.get("svg", f"{number:03d}" + "L" * 97, "up", "green", "flat")
    kept = [*rendered._newer.values(), *rendered._older.values()]
    assert 2 <= len(kept) < 50
    assert sum(len(prepared.body) for prepared in kept) <= 2 * 20_000


def test_badges_follow_the_read_model_not_the_database() -> None:
    from domain.result import ProbeResult
    from storage.results import record_result

    created = monitor("Api")
    client, read_model = public_client()
    record_result(created.id, ProbeResult("down", reason="x"))
    record_result(created.id, ProbeResult("down", reason="x"))
    assert client.get("/badge/api/status.json").json()["message"] == "up"  # snapshot
    read_model.refresh()
    assert client.get("/badge/api/status.json").json()["message"] == "down"


def test_before_the_first_snapshot_every_public_answer_is_the_same_503() -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from readmodel.read_model import ReadModel
    from web.feeds import feed_routes
    from web.status_api import status_api_routes

    monitor("Api")
    read_model = ReadModel()  # just started: nothing built yet
    client = TestClient(Starlette(routes=[*badges.badge_routes(read_model),
                                          *status_api_routes(read_model),
                                          *feed_routes(read_model)]))
    paths = ["/badge/api/status.svg", "/badge/no-such-monitor/uptime.json",
             "/badge/status.svg", "/badge/status.json", "/api/v1/status", "/feed.atom"]
    answers = [client.get(path) for path in paths]
    # Alike for a monitor that exists and one that does not: nothing is confirmed.
    assert {(a.status_code, a.headers.get("retry-after"), a.text) for a in answers} == {
        (503, "2", '{"error":"the status is not known yet; try again in a few seconds"}')}
    read_model.refresh()
    assert [client.get(path).status_code for path in paths] == [200, 404, 200, 200, 200, 200]


def test_public_answers_may_be_fetched_by_other_sites() -> None:
    monitor("Api")
    client, _ = public_client()
    for path in ("/badge/api/status.svg", "/badge/api/uptime.json", "/badge/status.svg",
                 "/api/v1/status"):
        assert client.get(path).headers["access-control-allow-origin"] == "*", path
    assert "access-control-allow-origin" not in client.get("/api/v1/monitors").headers
