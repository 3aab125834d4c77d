"""What an anonymous visitor can send to the public side: no 500, no memory growth, no framing.

The routes are mounted as app.py mounts them (the fast path and the security headers ahead of
the routes, inside a Starlette app, where an exception a route raises is a 500), over a real
read model; one test runs the real server, `streamlit run app.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes, fast_routes
from config.settings import get_settings
from notifiers.ack import MalformedLink, ack_token, verify_token
from notifiers.dispatcher import secret_key
from readmodel import snapshot as snapshot_module
from readmodel.read_model import ReadModel
from storage.db import get_engine
from storage.models import Incident, Monitor
from storage.tables import table_of
from tests.browser import READY, chromium_page
from tests.conftest import free_port
from tests.server_process import UpwatchServer, running_upwatch, wait_until
from tests.status_support import monitor
from web.fast_paths import MAX_QUERY_BYTES, FastPathMiddleware
from web.security_headers import SecurityHeadersMiddleware, with_security_headers

INCIDENTS = table_of(Incident)
READ_ONLY_PATHS = ["/api/v1/status", "/badge/api/status.svg", "/badge/api/uptime.json",
                   "/badge/status.svg", "/badge/nobody/status.svg"]
HOSTILE_TOKENS = [
    "1.2.é", "", ".", "..", "." * 10_000, "1" * 20_000, "1.2.3\x00", "1\x00.2.3",
    "١.٢.abc",  # digits of another script, which int() reads
    " 1.2.abc", "1.2.abc ", "+1.2.abc", "1_0.2.abc", "-1.2.abc", "1.2.3.4",
    "9" * 40 + ".1.abc", "1." + "9" * 40 + ".abc", "1.2." + "a" * 20_000, "1.2.ÄBC",
    "1.2.\ud7ff", "%00", "<script>alert(1)</script>",
]


def public_app() -> tuple[TestClient, ReadModel]:
    """The web process's routes as app.py mounts them, without Streamlit behind them."""
    runtime = Runtime()
    runtime.read_model.refresh()
    app = Starlette(routes=build_routes(runtime), middleware=[
        Middleware(SecurityHeadersMiddleware),
        Middleware(FastPathMiddleware, routes=fast_routes(runtime),
                   read_model=runtime.read_model)])
    return TestClient(app, raise_server_exceptions=False), runtime.read_model


# -- methods and links that were 500s -------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "PATCH", "OPTIONS"])
def test_writes_to_the_read_only_answers_are_405_with_allow(method: str) -> None:
    monitor("Api")
    client, _ = public_app()
    for path in READ_ONLY_PATHS:
        answer = client.request(method, path)
        assert answer.status_code == 405, (method, path, answer.status_code)
        assert answer.headers["allow"] == "GET, HEAD"
    assert client.get("/api/v1/status").status_code == 200
    assert client.head("/badge/api/status.svg").status_code == 200


def incident() -> int:
    monitor_id = monitor("Api").id
    with get_engine().begin() as connection:
        return connection.execute(insert(INCIDENTS).values(
            monitor_id=monitor_id, title="Api is down", started_at=datetime.now(UTC))
            .returning(INCIDENTS.c.id)).scalar_one()


@pytest.mark.parametrize("token", HOSTILE_TOKENS)
def test_a_hostile_ack_token_is_a_400_that_says_the_link_is_damaged(token: str) -> None:
    client, _ = public_app()
    for answer in (client.get("/ack", params={"t": token}),
                   client.post("/ack", data={"t": token, "who": "mallory"})):
        assert answer.status_code == 400, (token[:20], answer.status_code)
        assert "damaged" in answer.text  # the link, or (too long a token) the form
        assert answer.headers["content-type"].startswith("text/html")
    with pytest.raises(MalformedLink):
        verify_token("k", token)


def test_ack_refuses_files_and_huge_forms_and_keeps_control_characters_out_of_the_name() -> None:
    incident_id = incident()
    token = ack_token(secret_key(get_engine(), get_settings()), incident_id)
    client, _ = public_app()
    as_file = client.post("/ack", files={"t": ("t.txt", token.encode())}, data={"who": "x"})
    assert as_file.status_code == 400
    too_big = client.post("/ack", data={"t": token, "who": "x" * 100_000})
    assert too_big.status_code == 400
    done = client.post("/ack", data={"t": token, "who": "mal\x00lory\x1b[31m"})
    assert done.status_code == 200 and "acknowledged by" in done.text
    with get_engine().connect() as connection:
        who = connection.execute(select(INCIDENTS.c.acknowledged_by)).scalar()
    assert who is not None and who.startswith("mal") and "\x00" not in who and "\x1b" not in who
    # A well-formed link that was tampered with is still told apart from a damaged one.
    tampered = token[:-1] + ("1" if token.endswith("0") else "0")
    assert client.get("/ack", params={"t": tampered}).status_code == 403


# -- what the answer cache keeps ------------------------------------------------------------------


def test_junk_parameters_and_their_order_do_not_make_new_entries() -> None:
    monitor("Api")
    client, read_model = public_app()
    for number in range(2_000):
        junk = f"utm_{number}={'x' * 1_000}&cache_bust={number}"
        assert client.get(f"/badge/api/status.svg?{junk}").status_code == 200
        assert client.get(f"/api/v1/status?{junk}").status_code == 200
    answers = read_model.snapshot.answers
    assert len(answers) == 2 and answers.size_bytes < 20_000
    # Order, repeated defaults, and percent-encoding name the same badge.
    for query in ("style=flat&label=Shop", "label=Shop&style=flat", "label=%53hop",
                  "label=Shop&window=7d", "x=1&label=Shop&y=2"):
        assert client.get(f"/badge/api/status.svg?{query}").status_code == 200
    assert len(read_model.snapshot.answers) == 3


def test_an_over_long_query_string_or_label_is_refused_and_not_kept() -> None:
    monitor("Api")
    client, read_model = public_app()
    huge = client.get("/badge/api/status.svg?junk=" + "x" * 65_000)
    assert huge.status_code == 400 and "too long" in huge.json()["error"]
    assert client.get("/api/v1/status?" + "x" * (MAX_QUERY_BYTES + 1)).status_code == 400
    long_label = client.get("/badge/api/status.svg?label=" + "L" * 101)
    assert long_label.status_code == 400 and "at most 100" in long_label.json()["error"]
    assert len(read_model.snapshot.answers) == 0
    # The longest label, each character percent-encoded, still fits.
    emoji = quote("\N{ROCKET}" * 100)
    assert len(emoji) < MAX_QUERY_BYTES
    assert client.get(f"/badge/api/status.svg?style=for-the-badge&label={emoji}").status_code == 200


def test_the_answer_cache_is_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_module, "MAX_ANSWER_BYTES", 256 * 1024)
    monitor("Api")
    client, read_model = public_app()
    for number in range(2_000):
        assert client.get(f"/badge/api/status.svg?label=visitor-{number}").status_code == 200
    answers = read_model.snapshot.answers
    assert answers.size_bytes <= 256 * 1024 and 10 < len(answers) < 2_000
    # The bound holds across a new snapshot too.
    read_model.refresh()
    assert read_model.snapshot.answers.size_bytes <= 256 * 1024
    assert client.get("/badge/api/status.svg?label=visitor-1999").status_code == 200


# -- security headers -----------------------------------------------------------------------------


def test_html_answers_carry_the_security_headers_and_every_answer_nosniff() -> None:
    monitor("Api")
    client, _ = public_app()
    page = client.get("/ack", params={"t": "x"})
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"  # the page's own, kept
    assert page.headers["x-content-type-options"] == "nosniff"
    for path in ("/badge/api/status.svg", "/badge/api/status.svg", "/api/v1/status",
                 "/healthz", "/badge/nobody/status.svg"):
        answer = client.get(path)  # the second badge comes from memory
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert "content-security-policy" not in answer.headers, path


def test_security_headers_never_change_a_shared_list_nor_replace_an_answers_own() -> None:
    shared = [(b"content-type", b"text/html; charset=utf-8"), (b"Referrer-Policy", b"no-referrer")]
    secured = with_security_headers(shared, framed_by_the_app=False)
    assert len(shared) == 2 and secured is not shared
    assert dict(secured)[b"x-frame-options"] == b"DENY"
    assert [name for name, _ in secured].count(b"referrer-policy") == 0  # its own is kept
    # Streamlit's older custom components are pages the app frames itself.
    component = dict(with_security_headers(shared, framed_by_the_app=True))
    assert component[b"x-frame-options"] == b"SAMEORIGIN"
    assert b"frame-ancestors 'self'" in component[b"content-security-policy"]
    svg = [(b"content-type", b"image/svg+xml"), (b"x-content-type-options", b"nosniff")]
    assert with_security_headers(svg, framed_by_the_app=False) is svg  # nothing missing


# -- fuzzing the public routes --------------------------------------------------------------------

PARAMETER_NAMES = st.sampled_from(["label", "style", "window", "q", "t", "utm", "", "label[]",
                                   "Label", "\x00", "é"])
PARAMETER_VALUES = st.one_of(
    st.sampled_from(["flat", "for-the-badge", "7d", "1y", "p99", "p42", ""]),
    st.text(max_size=120), st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")))
QUERIES = st.one_of(
    st.lists(st.tuples(PARAMETER_NAMES, PARAMETER_VALUES), max_size=6).map(
        lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)),
    st.binary(max_size=300).map(lambda raw: quote(raw, safe="=&;%+")))
SEGMENTS = st.one_of(st.sampled_from(["api", "status", "nobody", "", "..", "%00", "uptime"]),
                     st.text(max_size=30).map(lambda text: quote(text, safe="")))
EXTENSIONS = st.sampled_from([".svg", ".json", ".png", "", ".svg.json", "."])
PATHS = st.one_of(
    st.tuples(SEGMENTS, st.sampled_from(["status", "uptime", "latency", "cert", "x"]),
              EXTENSIONS).map(lambda parts: f"/badge/{parts[0]}/{parts[1]}{parts[2]}"),
    st.tuples(SEGMENTS, EXTENSIONS).map(lambda parts: f"/badge/{parts[0]}{parts[1]}"),
    st.sampled_from(["/api/v1/status", "/api/v1/status/", "/api/v1/statusx", "/badge/"]),
)


def test_fuzzed_paths_and_query_strings_never_get_a_500() -> None:
    monitor("Api", latency_ms=120)
    client, read_model = public_app()

    @settings(max_examples=200, deadline=None)
    @given(path=PATHS, query=QUERIES, method=st.sampled_from(["GET", "GET", "HEAD", "POST"]))
    def case(path: str, query: str, method: str) -> None:
        answer = client.request(method, f"{path}?{query}" if query else path)
        assert answer.status_code < 500, (method, path, query, answer.status_code)
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert client.get("/api/v1/status").status_code == 200

    case()
    assert len(read_model.snapshot.answers) <= 200 + 1


def test_fuzzed_ack_tokens_never_get_a_500() -> None:
    client, _ = public_app()

    @settings(max_examples=200, deadline=None)
    @given(token=st.one_of(st.text(max_size=80), st.from_regex(r"[0-9.a-f]{0,60}"),
                           st.binary(max_size=80).map(lambda raw: raw.decode("latin-1"))))
    def case(token: str) -> None:
        shown = client.get("/ack", params={"t": token})
        posted = client.post("/ack", data={"t": token, "who": token})
        assert {shown.status_code, posted.status_code} <= {400, 403, 404}, token
        assert client.get("/api/v1/status").status_code == 200

    case()


# -- the real server ------------------------------------------------------------------------------


SERVER_SECRET = "hostile-public-test-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpwatchServer]:
    """`streamlit run app.py` over a database of its own, shared by the tests below."""
    folder = tmp_path_factory.mktemp("hostile-server")
    env = {"UPWATCH_DATABASE_URL": f"sqlite:///{folder / 'upwatch.db'}",  # server_ack_token
           "UPWATCH_ADMIN_PASSWORD": "pw", "UPWATCH_API_TOKEN": "s3cret-token",
           "UPWATCH_SECRET_KEY": SERVER_SECRET, "UPWATCH_PROBES": "false"}
    with running_upwatch(free_port(), env, folder / "server.log") as running:
        created = httpx.post(f"{running.url}/api/v1/monitors", timeout=10,
                             headers={"Authorization": "Bearer s3cret-token"},
                             json={"name": "Api", "url": "http://127.0.0.1:9/", "public": True})
        assert created.status_code == 201, created.text

        def published() -> bool:
            answer = httpx.get(f"{running.url}/api/v1/status", timeout=10)
            return answer.status_code == 200 and bool(answer.json()["components"])

        wait_until(published, 60, "a snapshot with the monitor")
        yield running


def test_the_real_server_refuses_hostile_requests_and_sends_the_headers(
    server: UpwatchServer,
) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for path in ("/api/v1/status", "/badge/status.svg"):
            for method in ("POST", "DELETE"):
                refused = http.request(method, path)
                assert refused.status_code == 405, (method, path, server.log())
                assert refused.headers["allow"] == "GET, HEAD"
        for path in ("/healthz", "/feed.atom", "/metrics"):  # routed by Starlette itself
            assert http.post(path).status_code == 405, path
        assert http.put("/ack").status_code == 405
        damaged = http.get("/ack", params={"t": "1.2.é"})
        assert damaged.status_code == 400 and "incomplete or damaged" in damaged.text
        assert http.get("/badge/status.svg?junk=" + "x" * 65_000).status_code == 400
        for path in ("/status", "/"):  # the status page's shell, and Streamlit's index.html
            page = http.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith(
                "text/html"), path
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"], path
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["referrer-policy"] == "same-origin"
            assert page.headers["x-content-type-options"] == "nosniff"
        for path in ("/badge/status.svg", "/api/v1/status", "/healthz"):
            answer = http.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["x-content-type-options"] == "nosniff", path


# Each violation of the page's Content-Security-Policy, as the browser reports it.
CSP_VIOLATIONS = """document.addEventListener('securitypolicyviolation',
    e => (window.__violations = window.__violations || []).push(e.violatedDirective))"""


@pytest.mark.browser
def test_the_status_page_renders_and_connects_under_its_policy_and_cannot_be_framed(
    server: UpwatchServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with chromium_page() as page:
        page.add_init_script(CSP_VIOLATIONS)
        page.goto(f"{server.url}/status")
        page.wait_for_selector(READY)  # the websocket is connected and the script ran
        page.get_by_text("Api", exact=True).wait_for()  # the board drew its component
        assert page.evaluate("() => window.__violations || []") == []
        console: list[str] = []
        framing = page.context.new_page()
        framing.on("console", lambda message: console.append(message.text))
        framing.set_content(f'<iframe src="{server.url}/status"></iframe>')
        wait_until(lambda: any("frame-ancestors" in line for line in console), 15,
                   "the browser refusing to frame the page")
        assert framing.frames[-1].evaluate("() => document.querySelector('#root')") is None
        # The acknowledgement form still posts to its own page (form-action 'self').
        link = f"{server.url}/ack?t={server_ack_token(server, monkeypatch)}"
        page.goto(link)
        page.get_by_label("Your name").fill("alice")
        page.get_by_role("button", name="Acknowledge").click()
        page.get_by_text("acknowledged by alice").wait_for()
        assert page.evaluate("() => window.__violations || []") == []


def server_ack_token(server: UpwatchServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A link's token for a new incident in the server's database, signed as the server signs
    it: this process is pointed at the server's database and key for that."""
    monkeypatch.setenv("UPWATCH_DATABASE_URL",
                       f"sqlite:///{server.log_path.parent / 'upwatch.db'}")  # see `server`
    monkeypatch.setenv("UPWATCH_SECRET_KEY", SERVER_SECRET)
    get_settings.cache_clear()
    get_engine.cache_clear()
    with get_engine().begin() as connection:
        monitor_id = connection.execute(select(table_of(Monitor).c.id)).scalar_one()
        incident_id = connection.execute(insert(INCIDENTS).values(
            monitor_id=monitor_id, title="Api is down", started_at=datetime.now(UTC))
            .returning(INCIDENTS.c.id)).scalar_one()
    return ack_token(secret_key(get_engine(), get_settings()), incident_id)
