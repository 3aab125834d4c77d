"""A direct visit to the public status page gets Streamlit's page shell already told where the
server is.

Streamlit's browser client cannot tell whether `/status` is a page or the base URL the app is
served under, so it first asks `/status/_stcore/health`, gets a 404, waits for its retry timer
and only then connects at `/`: 100-150 ms of a first visit (measured in headless Chromium). The
client reads `window.__streamlit.BACKEND_BASE_URL` before guessing; this serves Streamlit's own
`index.html` (read once) with that one setting added, with the headers Streamlit gives it.

The shell also has the browser fetch, with Streamlit's own bundles, the code of the elements the
status page shows that Streamlit loads only when one first appears (the custom component of its
board). Without that, it was fetched only after the first messages of the page's run arrived, a
second round of requests on the way to a drawn page. Their file names come from Streamlit's
bundle (they carry content hashes); an element whose code cannot be found there is simply not
preloaded.

Every page of the app gets it: the public page, reached from links and bookmarks, and the
internal pages, reached from notification links (`/monitor?slug=`, `/incidents?id=`) as often
as from `/`. Each page's shell preloads the code of the elements it shows (the overview's table,
the monitor page's charts). `/` is the status page for a visitor and the overview for a signed-in
operator: which one is told by the presence of a sign-in cookie (a hint for what to fetch early,
never a decision about access: the page itself checks the sign-in).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import streamlit
from starlette.types import ASGIApp, Receive, Scope, Send

from config.base_path import base_path
from readmodel.prepared import PreparedResponse, etag_for

# The status page's path in router.py, which takes it from here: a renamed page keeps its shell.
STATUS_URL_PATH = "status"
INDEX_HTML = Path(streamlit.__file__).parent / "static" / "index.html"
# The bundles of the elements each page shows beyond Streamlit's core ones.
STATUS_PAGE_ELEMENTS = ("BidiComponent",)
OVERVIEW_ELEMENTS = ("DataFrame", "Metric", "Multiselect", "Selectbox", "TextInput")
PAGE_ELEMENTS: dict[str, tuple[str, ...]] = {
    f"/{STATUS_URL_PATH}": STATUS_PAGE_ELEMENTS,
    "/monitor": ("ArrowVegaLiteChart", "DataFrame", "BidiComponent", "ButtonGroup"),
    "/alerting": (), "/maintenance": (), "/incidents": ("DataFrame",), "/badges": (),
    "/reports": (), "/audit": ("DataFrame",), "/tokens": (), "/users": ("DataFrame",),
    "/configuration": (),
    "/home": STATUS_PAGE_ELEMENTS,
}
SHELL_PATHS = frozenset({"/", *PAGE_ELEMENTS})
# The cookies of a signed-in operator: the password sign-in's and Streamlit's single sign-on's.
_SIGNED_IN_COOKIES = (b"upwatch_session=", b"_streamlit_user")


# The app served at the root.
SERVER_URL_SETTING = "<script>window.__streamlit={BACKEND_BASE_URL:location.origin}</script>"


def server_url_setting(base: str = "") -> str:
    """The script telling Streamlit's client where the server is: this page's origin, and the
    base path the app is served under (web/base_path), so that it connects at once under
    /upwatch/ rather than at the origin's root."""
    if not base:
        return SERVER_URL_SETTING
    # A JavaScript string; "<" escaped so that nothing in it can end the script element.
    quoted = json.dumps(base).replace("<", "\\u003c")
    return f"<script>window.__streamlit={{BACKEND_BASE_URL:location.origin+{quoted}}}</script>"


def shell_with_server_url(index_html: str, base: str = "") -> str:
    """`index_html` with the server's URL set before any of Streamlit's scripts runs."""
    return index_html.replace("<head>", "<head>" + server_url_setting(base), 1)


def lazy_bundles(entry_js: str, elements: tuple[str, ...]) -> list[str]:
    """The JavaScript files (names relative to static/js) that Streamlit's entry bundle imports
    when one of `elements` first appears: the element's own file and what it needs. Read from
    the bundler's import calls, `import(`./Name.hash.js`),__vite__mapDeps([indices])`, whose
    indices point into the list of file names at the top of the bundle (an element that needs
    nothing more is imported without the list)."""
    listed = re.search(r"m\.f=\[([^\]]*)\]", entry_js)
    if listed is None:
        return []
    names = re.findall(r'"([^"]*)"', listed.group(1))
    found: list[str] = []
    for element in elements:
        # With the files it needs listed (`,__vite__mapDeps([...])`), or alone.
        call = re.search(rf"import\(`\./({re.escape(element)}\.[\w-]+\.js)`\)"
                         rf"(?:,__vite__mapDeps\(\[([\d,]*)\]\))?", entry_js)
        if call is None:
            continue
        needed = [f"./{call.group(1)}"] + [names[int(i)] for i in (call.group(2) or "").split(",")
                                          if i and int(i) < len(names)]
        found += [name.removeprefix("./") for name in needed
                  if name.startswith("./") and name.endswith(".js")]
    return list(dict.fromkeys(found))


def shell_with_preloads(index_html: str, static_dir: Path,
                        elements: tuple[str, ...] = STATUS_PAGE_ELEMENTS) -> str:
    """`index_html` with module preloads for `elements`, after Streamlit's own (so its entry
    bundle still comes first)."""
    entry = re.search(r'<script type="module" crossorigin src="\./static/js/([\w.-]+\.js)"',
                      index_html)
    if entry is None:
        return index_html
    try:
        entry_js = (static_dir / "static" / "js" / entry.group(1)).read_text(encoding="utf-8")
    except OSError:
        return index_html
    links = "".join(f'<link rel="modulepreload" crossorigin href="./static/js/{name}">'
                    for name in lazy_bundles(entry_js, elements)
                    if f"/static/js/{name}" not in index_html
                    and (static_dir / "static" / "js" / name).is_file())
    return index_html.replace("</head>", links + "</head>", 1)


@cache
def _shell(elements: tuple[str, ...], base: str) -> PreparedResponse:
    index_html = INDEX_HTML.read_text(encoding="utf-8")
    body = shell_with_server_url(
        shell_with_preloads(index_html, INDEX_HTML.parent, elements), base).encode()
    # As Streamlit serves index.html: always revalidated (a repeat visit gets a 304), its
    # scripts are cached by their hashed names.
    return PreparedResponse(body, "text/html; charset=utf-8", "no-cache", etag_for(body))


class PageShellMiddleware:
    """Under a base path, after web/base_path's middleware: the paths here are the site's."""

    def __init__(self, app: ASGIApp, base: str | None = None) -> None:
        self.app = app
        self.base = base_path() if base is None else base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in ("GET", "HEAD")
                or scope["path"] not in SHELL_PATHS):
            await self.app(scope, receive, send)
            return
        await _shell(_elements(scope), self.base)(scope, receive, send)


def _elements(scope: Scope) -> tuple[str, ...]:
    path = scope["path"]
    if path != "/":
        return PAGE_ELEMENTS[path]
    cookies = b"".join(value for name, value in scope["headers"] if name == b"cookie")
    signed_in = any(name in cookies for name in _SIGNED_IN_COOKIES)
    return OVERVIEW_ELEMENTS if signed_in else STATUS_PAGE_ELEMENTS
