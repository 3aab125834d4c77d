"""Served under a base path (`--server.baseUrlPath upwatch`, as behind a reverse proxy at
https://example.com/upwatch/): every route, the sign-in and the page answer under the prefix."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from domain import links
from tests.browser import READY, chromium_page
from tests.conftest import free_port
from tests.server_process import ROOT, wait_until
from web.base_path import BasePathMiddleware
from web.page_shell import server_url_setting
from web.security_headers import SecurityHeadersMiddleware

BASE = "/upwatch"


def test_the_base_path_option_reads_as_streamlit_reads_it() -> None:
    assert [links.base_path_of(option) for option in ("", "/", None, "upwatch", "/upwatch/",
                                                      "a/b/")] == ["", "", "", BASE, BASE, "/a/b"]
    assert links.under_base(BASE, "/login?next=%2F") == "/upwatch/login?next=%2F"
    assert links.under_base("", "/login") == "/login"
    assert links.below_base(BASE, "/upwatch/incidents") == "/incidents"
    assert links.below_base(BASE, "/upwatch") == "/"
    assert links.below_base(BASE, "/upwatchers") == "/upwatchers"  # not under the base


def test_links_in_notifications_keep_the_public_urls_path() -> None:
    public = "https://example.com/upwatch/"
    assert links.monitor_url(public, "api") == "https://example.com/upwatch/monitor?slug=api"
    assert links.incident_url(public, 3) == "https://example.com/upwatch/incidents?id=3"
    assert links.ack_url(public, "1.2.ab") == "https://example.com/upwatch/ack?t=1.2.ab"
    assert links.status_url(public) == "https://example.com/upwatch/status"
    assert links.home_url(public) == "https://example.com/upwatch/"


def test_the_shell_tells_streamlits_client_the_base_path() -> None:
    assert server_url_setting(BASE) == (
        '<script>window.__streamlit={BACKEND_BASE_URL:location.origin+"/upwatch"}</script>')
    assert "</script" not in server_url_setting("/x</script><script>alert(1)")[:-9]


def _middleware_client() -> TestClient:
    async def ours(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"upwatch {request.url.path}")

    async def streamlits(request: Request) -> PlainTextResponse:  # stands in for Streamlit
        return PlainTextResponse(f"streamlit {request.url.path}")

    routes = [Route("/healthz", ours), Route("/api/v1/push/{token}", ours, methods=["POST"])]
    # Streamlit's own routes are under the base (and its pages' fallback is the base itself).
    app = Starlette(routes=[*routes, Route("/upwatch{path:path}", streamlits),
                            Route("/elsewhere", streamlits)])
    return TestClient(BasePathMiddleware(app, routes=routes, base=BASE))


def test_upwatchs_paths_under_the_base_reach_the_routes_without_it() -> None:
    client = _middleware_client()
    assert client.get("/upwatch/healthz").text == "upwatch /healthz"
    assert client.post("/upwatch/api/v1/push/abc").text == "upwatch /api/v1/push/abc"
    assert client.get("/upwatch/api/v1/push/abc").status_code == 405  # the route's, not a page
    assert client.get("/upwatch/_stcore/health").text == "streamlit /upwatch/_stcore/health"
    assert client.get("/upwatch/monitorx").text == "streamlit /upwatch/monitorx"
    assert client.get("/upwatch", follow_redirects=False).text == "streamlit /upwatch"
    assert client.get("/healthz").status_code == 404  # one address: under the base
    assert client.get("/elsewhere").text == "streamlit /elsewhere"


def test_streamlits_component_pages_under_the_base_may_be_framed_by_the_app() -> None:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse("<p>component</p>")

    app = Starlette(routes=[Route("/{path:path}", page)])
    client = TestClient(SecurityHeadersMiddleware(app, base=BASE))
    assert client.get("/upwatch/component/x/index.html").headers["x-frame-options"] == "SAMEORIGIN"
    assert client.get("/upwatch/status").headers["x-frame-options"] == "DENY"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`upwatch` started as a user does, under /upwatch/; its URL with the base path."""
    directory = tmp_path_factory.mktemp("base-path")
    port = free_port()
    url = f"http://127.0.0.1:{port}{BASE}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("UPWATCH_")}
    env.update(UPWATCH_DATABASE_URL=f"sqlite:///{directory / 'upwatch.db'}",
               UPWATCH_ADMIN_PASSWORD="pw", UPWATCH_API_TOKEN="s3cret-token",
               UPWATCH_PUBLIC_URL=url, UPWATCH_PROBES="false")
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--server.baseUrlPath", "upwatch"]
    log_path = directory / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"Upwatch exited at start:\n{log_path.read_text()}")
            try:
                return httpx.get(f"{url}/api/v1/status", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 60, "the status JSON under /upwatch/")
        yield url
    finally:
        process.kill()
        process.wait()


def test_every_route_answers_under_the_base_path(served: str) -> None:
    origin = served.removesuffix(BASE)
    with httpx.Client(base_url=origin, timeout=5) as client:
        health = client.get("/upwatch/healthz")
        assert health.status_code == 200 and health.headers["content-type"] == "application/json"
        assert client.get("/upwatch/api/v1/status").json()["state"]
        badge = client.get("/upwatch/badge/status.svg")
        assert badge.headers["content-type"] == "image/svg+xml"
        assert client.get("/upwatch/metrics").text.startswith("#")
        assert client.get("/upwatch/api/v1/openapi.json").json()["openapi"]
        unknown = client.get("/upwatch/api/v1/nowhere")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
        created = client.post("/upwatch/api/v1/monitors", json={"name": "API", "url": origin},
                              headers={"Authorization": "Bearer s3cret-token"})
        assert created.status_code == 201, created.text
        # The feed's links are built from the public URL, which ends with the base path.
        assert f'href="{served}/status"' in client.get("/upwatch/feed.atom").text
        assert client.get("/upwatch/ack", params={"t": "1.2.3"}).status_code == 403
        shell = client.get("/upwatch/monitor", params={"slug": "api"})
        assert server_url_setting(BASE) in shell.text
        assert client.get("/upwatch/_stcore/health").text == "ok"  # Streamlit's, as before
        # Outside the base path neither Streamlit nor Upwatch answers.
        assert client.get("/healthz").status_code == 404
        assert client.get("/api/v1/status").status_code == 404


def test_the_sign_in_keeps_the_base_path(served: str) -> None:
    origin = served.removesuffix(BASE)
    with httpx.Client(base_url=origin, timeout=5, follow_redirects=False) as client:
        form = client.get("/upwatch/login", params={"next": "/incidents?id=3"})
        assert "action='/upwatch/login'" in form.text
        assert "value='/incidents?id=3'" in form.text
        signed_in = client.post("/upwatch/login", data={"password": "pw",
                                                        "next": "/incidents?id=3"})
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/upwatch/incidents?id=3"
        cookie = signed_in.headers["set-cookie"]
        assert "upwatch_session=" in cookie and "Path=/upwatch;" in cookie
        # Signed in, the sign-in page sends the browser on, under the base.
        again = client.get("/upwatch/login", params={"next": "/alerting"})
        assert again.headers["location"] == "/upwatch/alerting"
        signed_out = client.get("/upwatch/logout")
        assert signed_out.headers["location"] == "/upwatch/"
        assert "Path=/upwatch;" in signed_out.headers["set-cookie"]


def test_the_status_page_loads_in_a_browser_under_the_base_path(served: str) -> None:
    with chromium_page() as page:
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        began = time.monotonic()
        page.goto(f"{served}/status")
        page.wait_for_selector(READY)
        assert time.monotonic() - began < 20
        sign_in = page.get_by_role("link", name="Operator sign-in")
        assert sign_in.get_attribute("href") == "/upwatch/login?next=%2Fstatus"
    origin = served.removesuffix(BASE)
    # Streamlit's client was told the base path: it asked there at once, never at the root.
    stcore = [url.removeprefix(origin) for url in asked if "/_stcore/" in url]
    assert stcore and all(path.startswith("/upwatch/_stcore/") for path in stcore), stcore
    assert not any(path.startswith("/upwatch/status/") for path in stcore)
