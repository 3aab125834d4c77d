"""The fast path: badges and the status JSON bypass Streamlit, and a request answered before is
sent again from memory, without routing, also after the snapshot changed."""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.result import ProbeResult
from readmodel.read_model import ReadModel
from storage.monitors import update_monitor
from storage.results import record_result
from tests.status_support import monitor
from web.badges import badge_routes
from web.fast_paths import FastPathMiddleware
from web.pauses import SWITCH_INTERVAL_S, keep_pauses_short
from web.status_api import status_api_routes


class CountingRouter:
    """Stands in for the middleware's router, to see which requests reach it."""

    def __init__(self, router: ASGIApp) -> None:
        self.router = router
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await self.router(scope, receive, send)


def fast_client() -> tuple[TestClient, ReadModel, CountingRouter]:
    read_model = ReadModel()
    read_model.refresh()
    streamlit = PlainTextResponse("streamlit")
    middleware = FastPathMiddleware(
        streamlit, [*badge_routes(read_model), *status_api_routes(read_model)], read_model)
    counting = CountingRouter(middleware.router)
    middleware.router = counting  # type: ignore[assignment]  # a stand-in, not a Router
    return TestClient(middleware), read_model, counting


def without_date(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "date"}


def test_a_repeated_request_is_answered_from_memory_with_the_same_bytes() -> None:
    monitor("Api")
    client, _, router = fast_client()
    path = "/badge/api/uptime.svg?window=7d&style=flat-square"
    first = client.get(path)
    again = client.get(path)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert without_date(again.headers) == without_date(first.headers)
    assert again.headers["content-type"] == "image/svg+xml"
    assert again.headers["cache-control"] == "public, max-age=60"
    assert router.paths == ["/badge/api/uptime.svg"]  # the second never reached the router


def test_the_status_json_is_remembered_too() -> None:
    monitor("Api")
    client, _, router = fast_client()
    assert client.get("/api/v1/status").json()["components"][0]["slug"] == "api"
    assert client.get("/api/v1/status").json()["components"][0]["slug"] == "api"
    assert router.paths == ["/api/v1/status"]


def test_if_none_match_gets_304_from_memory() -> None:
    monitor("Api")
    client, _, router = fast_client()
    etag = client.get("/badge/api/status.svg").headers["etag"]
    cached = client.get("/badge/api/status.svg", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag and "content-type" not in cached.headers
    stale = client.get("/badge/api/status.svg", headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200 and stale.content
    assert router.paths == ["/badge/api/status.svg"]


def test_a_new_snapshot_answers_what_was_asked_before_with_its_own_values() -> None:
    created = monitor("Api")
    client, read_model, router = fast_client()
    assert client.get("/badge/api/status.json").json()["message"] == "up"
    assert client.get("/api/v1/status").json()["components"][0]["state"] == "up"
    record_result(created.id, ProbeResult("down", reason="x"))
    record_result(created.id, ProbeResult("down", reason="x"))
    assert client.get("/badge/api/status.json").json()["message"] == "up"  # from memory
    read_model.refresh()
    assert client.get("/badge/api/status.json").json()["message"] == "down"
    assert client.get("/api/v1/status").json()["components"][0]["state"] == "down"
    assert router.paths == ["/badge/api/status.json", "/api/v1/status"]  # made at the change


def test_an_answer_that_is_now_a_404_is_not_carried_to_the_new_snapshot() -> None:
    monitor("Api")
    client, read_model, router = fast_client()
    assert client.get("/badge/api/status.svg").status_code == 200
    update_monitor("api", {"public": False})
    read_model.refresh()
    assert client.get("/badge/api/status.svg").status_code == 404
    assert router.paths == ["/badge/api/status.svg"] * 2


def test_other_query_strings_errors_and_other_methods_go_to_the_router() -> None:
    monitor("Api")
    client, _, router = fast_client()
    client.get("/badge/api/status.svg")
    assert client.get("/badge/api/status.svg?label=Shop").status_code == 200
    assert client.get("/badge/nobody/status.svg").status_code == 404
    assert client.get("/badge/nobody/status.svg").status_code == 404  # a 404 is not kept
    assert client.head("/badge/api/status.svg").status_code == 200
    assert router.paths == ["/badge/api/status.svg", "/badge/api/status.svg",
                            "/badge/nobody/status.svg", "/badge/nobody/status.svg",
                            "/badge/api/status.svg"]


def test_everything_else_goes_to_streamlit() -> None:
    client, _, router = fast_client()
    assert client.get("/status").text == "streamlit"
    assert client.get("/badgeX").text == "streamlit"
    assert router.paths == []


def test_keep_pauses_short_freezes_the_heap_and_shortens_the_switch_interval() -> None:
    interval = sys.getswitchinterval()
    try:
        keep_pauses_short()
        assert gc.get_freeze_count() > 0
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S
    finally:
        gc.unfreeze()
        sys.setswitchinterval(interval)


def test_an_unknown_path_under_the_fast_prefixes_is_a_404_inside_a_starlette_app() -> None:
    # In the server the middleware runs inside Starlette's app (scope["app"] is set), where a
    # router's default answer for an unknown path is to raise; nothing there turns it into 404.
    read_model = ReadModel()
    read_model.refresh()
    app = Starlette(middleware=[Middleware(
        FastPathMiddleware, routes=[*badge_routes(read_model), *status_api_routes(read_model)],
        read_model=read_model)])
    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/badge/overall.svg", "/badge/", "/api/v1/status/nothing"):
        answer = client.get(path)
        assert answer.status_code == 404, (path, answer.status_code)


def test_other_methods_are_405_with_allow_inside_a_starlette_app() -> None:
    # There, a route's own 405 for a method it does not take is raised, and nothing between
    # here and the server turns it into an answer: it was a 500.
    monitor("Api")
    read_model = ReadModel()
    read_model.refresh()
    app = Starlette(middleware=[Middleware(
        FastPathMiddleware, routes=[*badge_routes(read_model), *status_api_routes(read_model)],
        read_model=read_model)])
    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/api/v1/status", "/badge/api/status.svg", "/badge/status.json"):
        for method in ("POST", "DELETE"):
            answer = client.request(method, path)
            assert (answer.status_code, answer.headers.get("allow")) == (405, "GET, HEAD")
    assert client.get("/api/v1/status").status_code == 200


def test_a_request_differing_only_in_what_the_route_ignores_is_answered_from_memory() -> None:
    monitor("Api")
    client, read_model, router = fast_client()
    first = client.get("/badge/api/uptime.svg?window=7d&label=Shop")
    for query in ("label=Shop&window=7d", "window=7d&label=%53hop&utm_source=x",
                  "q=p99&label=Shop&window=7d&style=flat"):
        again = client.get(f"/badge/api/uptime.svg?{query}")
        assert again.content == first.content, query
    assert client.get("/api/v1/status?v=1").status_code == 200
    assert client.get("/api/v1/status?v=2&x=3").status_code == 200
    assert router.paths == ["/badge/api/uptime.svg", "/api/v1/status"]
    assert len(read_model.snapshot.answers) == 2


def test_a_query_string_longer_than_any_badge_needs_is_a_400_before_routing() -> None:
    monitor("Api")
    client, read_model, router = fast_client()
    answer = client.get("/badge/api/status.svg?x=" + "y" * 4000)
    assert answer.status_code == 400 and "too long" in answer.json()["error"]
    assert router.paths == [] and len(read_model.snapshot.answers) == 0
