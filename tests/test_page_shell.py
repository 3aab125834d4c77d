"""The public status page's shell: Streamlit's index.html, told where the server is."""

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from web.page_shell import INDEX_HTML, SERVER_URL_SETTING, PageShellMiddleware


def client() -> TestClient:
    async def fallback(request):  # stands in for Streamlit's own answer
        return PlainTextResponse(f"streamlit {request.method} {request.url.path}")

    app = Starlette(routes=[Route("/{path:path}", fallback, methods=["GET", "HEAD", "POST"])])
    return TestClient(PageShellMiddleware(app))


def test_the_status_page_gets_streamlits_shell_with_the_server_url_first() -> None:
    answer = client().get("/status")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-cache"
    head = answer.text.split("<head>", 1)
    assert head[1].startswith(SERVER_URL_SETTING)  # before any of Streamlit's scripts
    assert answer.text.replace(SERVER_URL_SETTING, "") == INDEX_HTML.read_text(encoding="utf-8")


def test_other_paths_and_methods_are_streamlits() -> None:
    shell = client()
    assert shell.get("/").text == "streamlit GET /"
    assert shell.get("/status/_stcore/health").text == "streamlit GET /status/_stcore/health"
    assert shell.get("/alerting").text == "streamlit GET /alerting"
    assert shell.post("/status").text == "streamlit POST /status"
