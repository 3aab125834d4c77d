"""Streamlit's static files from memory: the same bytes and headers as Streamlit's own handler,
and anything this does not know left to Streamlit."""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from readmodel.read_model import ReadModel
from web.fast_paths import FastPathMiddleware
from web.static_assets import STATIC_DIR, StaticAssets

ENTRY = re.search(r'src="\./(static/js/[^"]+)"',
                  (STATIC_DIR / "index.html").read_text(encoding="utf-8")).group(1)


def client() -> TestClient:
    async def streamlit(request):  # stands in for Streamlit's own answer
        return PlainTextResponse(f"streamlit {request.method} {request.url.path}")

    app = Starlette(routes=[Route("/{path:path}", streamlit, methods=["GET", "HEAD"])])
    return TestClient(FastPathMiddleware(app, routes=[], read_model=ReadModel()))


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths StaticAssets looks up on disk, in order."""
    looked_up: list[str] = []
    load = StaticAssets._load
    monkeypatch.setattr(StaticAssets, "_load",
                        lambda self, path: looked_up.append(path) or load(self, path))
    return looked_up


def test_a_bundle_is_sent_from_memory_with_streamlits_headers(loads: list[str]) -> None:
    fast = client()
    answer = fast.get(f"/{ENTRY}")
    assert answer.status_code == 200
    assert answer.content == (STATIC_DIR / ENTRY).read_bytes()
    assert answer.headers["content-type"] in ("application/javascript",
                                              "text/javascript; charset=utf-8")
    assert answer.headers["cache-control"] == "public, immutable, max-age=31536000"
    assert answer.headers["content-length"] == str(len(answer.content))
    assert answer.headers["last-modified"] and answer.headers["accept-ranges"] == "bytes"
    again = fast.get(f"/{ENTRY}", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert fast.get(f"/{ENTRY}").content == answer.content
    assert len(loads) == 1  # read from disk once, then from memory
    css = next((STATIC_DIR / "static" / "css").glob("*.css")).name
    assert fast.get(f"/static/css/{css}").headers["content-type"] == "text/css; charset=utf-8"


def test_the_same_etag_as_streamlits_own_handler() -> None:
    # Starlette's FileResponse: md5 of "<mtime>-<size>"; a browser's cached copy revalidates.
    import hashlib
    stat = (STATIC_DIR / ENTRY).stat()
    expected = hashlib.md5(f"{stat.st_mtime}-{stat.st_size}".encode()).hexdigest()
    assert client().get(f"/{ENTRY}").headers["etag"] == f'"{expected}"'


def test_a_name_not_found_is_looked_up_once(loads: list[str]) -> None:
    fast = client()
    for _ in range(3):
        assert fast.get("/static/js/no-such-file.js").text.startswith("streamlit GET")
    assert loads == ["/static/js/no-such-file.js"]


def test_anything_else_goes_to_streamlit() -> None:
    fast = client()
    for path in ("/static/js/no-such-file.js", "/static/../index.html", "/static/js/.hidden",
                 "/static/index.html", "/static/js/", "/static/js/a/b.js"):
        assert fast.get(path).text.startswith("streamlit GET"), path
    ranged = fast.get(f"/{ENTRY}", headers={"Range": "bytes=0-9"})
    assert ranged.text == f"streamlit GET /{ENTRY}"
    assert fast.get("/status").text == "streamlit GET /status"
