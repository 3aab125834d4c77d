"""The public status page's shell: Streamlit's index.html, told where the server is and what
the page's elements need."""

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from web.page_shell import (
    INDEX_HTML,
    SERVER_URL_SETTING,
    STATUS_PAGE_ELEMENTS,
    PageShellMiddleware,
    lazy_bundles,
)

PRELOAD = re.compile(r'<link rel="modulepreload" crossorigin href="\./static/js/([^"]+)">')


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
    # Streamlit's shell as it is, plus the preloads just before </head>.
    index_html = INDEX_HTML.read_text(encoding="utf-8")
    before, added, after = re.fullmatch(r"(.*?)((?:<link[^>]*>)*)(</head>.*)",
                                        answer.text.replace(SERVER_URL_SETTING, ""),
                                        re.DOTALL).groups()
    assert before + after == index_html
    # Revalidated, as Streamlit's index.html is: a repeat visit gets a 304 without the body.
    again = client().get("/status", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    preloaded = PRELOAD.findall(added)
    assert "".join(f'<link rel="modulepreload" crossorigin href="./static/js/{name}">'
                   for name in preloaded) == added


def test_the_shell_preloads_the_code_of_the_status_pages_elements_once() -> None:
    index_html = INDEX_HTML.read_text(encoding="utf-8")
    entry = re.search(r'src="\./static/js/([^"]+)"', index_html).group(1)
    static_js = INDEX_HTML.parent / "static" / "js"
    needed = lazy_bundles((static_js / entry).read_text(encoding="utf-8"), STATUS_PAGE_ELEMENTS)
    # Each element's own bundle (its name carries a content hash) and what it imports.
    for element in STATUS_PAGE_ELEMENTS:
        assert any(name.startswith(f"{element}.") for name in needed), element
    everything = PRELOAD.findall(client().get("/status").text)
    assert len(everything) == len(set(everything))  # none twice, none already Streamlit's own
    preloaded = [name for name in everything if name not in index_html]
    assert preloaded == [name for name in needed if name not in index_html]
    assert all((static_js / name).is_file() for name in preloaded)


def test_no_preloads_when_the_bundle_is_not_understood() -> None:
    assert lazy_bundles("console.log('a bundle of another shape')", STATUS_PAGE_ELEMENTS) == []
    bundle = ('const __vite__mapDeps=(i,m=__vite__mapDeps,d=(m.f||(m.f=["./a.js","./b.css",'
              '"./c.js"])))=>i.map(i=>d[i]);x=()=>H(()=>import(`./Checkbox.X1.js`),'
              '__vite__mapDeps([0,1,2,9]),import.meta.url)')
    assert lazy_bundles(bundle, ("Checkbox", "Missing")) == ["Checkbox.X1.js", "a.js", "c.js"]


def test_other_paths_and_methods_are_streamlits() -> None:
    shell = client()
    assert shell.get("/status/_stcore/health").text == "streamlit GET /status/_stcore/health"
    assert shell.get("/static/js/x.js").text == "streamlit GET /static/js/x.js"
    assert shell.get("/nowhere").text == "streamlit GET /nowhere"
    assert shell.post("/status").text == "streamlit POST /status"


def _preloaded_elements(answer_text: str) -> set[str]:
    return {name.split(".", 1)[0] for name in PRELOAD.findall(answer_text)}


def test_every_page_of_the_router_gets_a_shell_with_the_server_url() -> None:
    source = (Path(__file__).resolve().parent.parent / "router.py").read_text()
    paths = {f"/{name}" for name in re.findall(r'url_path="([\w-]+)"', source)}
    assert {"/monitor", "/incidents", "/alerting"} <= paths
    for path in paths | {"/", "/status"}:
        answer = client().get(path)
        assert SERVER_URL_SETTING in answer.text, path


def test_each_page_preloads_what_it_draws_and_slash_follows_the_sign_in_cookie() -> None:
    assert {"ArrowVegaLiteChart", "DataFrame"} <= _preloaded_elements(client().get("/monitor").text)
    visitor = _preloaded_elements(client().get("/").text)
    assert "BidiComponent" in visitor and "DataFrame" not in visitor  # the status page
    operator = client().get("/", headers={"Cookie": "upwatch_session=anything"})
    assert "DataFrame" in _preloaded_elements(operator.text)  # the overview's table
