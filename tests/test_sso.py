"""Single sign-on: the allow-list rule (access/sso), the gate of internal pages with an SSO
identity (ui/auth under AppTest), and the /login, /login/sso and /logout routes (web/login)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from access.sso import AUTH_KEYS, Verdict, allowed_emails, auth_configured, refusal, verdict
from config.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a cookie secret of some length",
    "client_id": "upwatch",
    "client_secret": "client secret",
    "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration",
}
ALLOWED = frozenset({"ann@example.com", "bob@example.com"})


@pytest.mark.parametrize(("text", "emails"), [
    ("", set()),
    (" , ,", set()),
    ("ann@example.com", {"ann@example.com"}),
    (" Ann@Example.COM , bob@example.com,", {"ann@example.com", "bob@example.com"}),
])
def test_the_allow_list_is_comma_separated_and_without_case(text: str, emails: set[str]) -> None:
    assert allowed_emails(text) == emails


@pytest.mark.parametrize(("user", "expected"), [
    ({}, Verdict.NOT_SIGNED_IN),
    ({"email": "ann@example.com"}, Verdict.NOT_SIGNED_IN),  # AppTest's default st.user
    ({"is_logged_in": False, "email": "ann@example.com"}, Verdict.NOT_SIGNED_IN),
    ({"is_logged_in": "true", "email": "ann@example.com"}, Verdict.NOT_SIGNED_IN),
    ({"is_logged_in": True, "email": "ann@example.com"}, Verdict.OPERATOR),
    ({"is_logged_in": True, "email": " ANN@example.com "}, Verdict.OPERATOR),
    ({"is_logged_in": True, "email": "ann@example.com", "email_verified": True}, Verdict.OPERATOR),
    ({"is_logged_in": True, "email": "ann@example.com", "email_verified": False},
     Verdict.REFUSED),
    ({"is_logged_in": True, "email": "ann@example.com", "email_verified": "false"},
     Verdict.REFUSED),
    ({"is_logged_in": True, "email": "mallory@example.com"}, Verdict.REFUSED),
    ({"is_logged_in": True, "email": "ann@example.com.evil.test"}, Verdict.REFUSED),
    ({"is_logged_in": True}, Verdict.REFUSED),
    ({"is_logged_in": True, "email": ["ann@example.com"]}, Verdict.REFUSED),
])
def test_who_is_an_operator(user: dict, expected: Verdict) -> None:
    assert verdict(user, ALLOWED) is expected


def test_an_empty_list_lets_nobody_in() -> None:
    assert verdict({"is_logged_in": True, "email": "ann@example.com"}, frozenset()) \
        is Verdict.REFUSED


def test_the_refusal_says_who_and_what_to_do() -> None:
    assert refusal({"is_logged_in": True, "email": "Mallory@Example.com"}) == (
        "mallory@example.com is not allowed to operate Upwatch; ask an operator to add it to "
        "UPWATCH_SSO_ALLOWED_EMAILS")
    assert "not verified" in refusal({"email": "ann@example.com", "email_verified": False})
    assert "no e-mail address" in refusal({"is_logged_in": True})


def test_every_auth_setting_is_needed() -> None:
    assert auth_configured(AUTH)
    for key in AUTH_KEYS:
        assert not auth_configured({**AUTH, key: ""})
        assert not auth_configured({k: v for k, v in AUTH.items() if k != key})


@pytest.fixture
def sso_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """An [auth] section, as Streamlit would read it from secrets.toml, and an allow-list."""
    import ui.auth
    import web.login

    monkeypatch.setattr(ui.auth, "get_secrets_auth_section", lambda: dict(AUTH))
    monkeypatch.setattr(web.login, "get_secrets_auth_section", lambda: dict(AUTH))
    monkeypatch.setenv("UPWATCH_SSO_ALLOWED_EMAILS", "Ann@Example.com")
    get_settings.cache_clear()


def _page(user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "badges.py"), default_timeout=30)
    if user is not None:
        at.user = user
    return at.run()


def test_without_sso_the_page_offers_the_password_only() -> None:
    at = _page({"is_logged_in": True, "email": "ann@example.com"})
    assert [t.value for t in at.title] == ["Upwatch — sign in required"]
    assert not at.button and not at.error


@pytest.mark.usefixtures("sso_on")
def test_an_allowed_sso_identity_opens_internal_pages() -> None:
    at = _page({"is_logged_in": True, "email": "ann@example.com", "email_verified": True})
    assert not at.exception
    assert "Upwatch — sign in required" not in [t.value for t in at.title]


@pytest.mark.usefixtures("sso_on")
def test_a_visitor_gets_the_sso_button_beside_the_password_link() -> None:
    at = _page({})
    assert [t.value for t in at.title] == ["Upwatch — sign in required"]
    assert [b.label for b in at.button] == ["Sign in with single sign-on"]
    assert any("/login?next=" in m.value for m in at.markdown)


@pytest.mark.usefixtures("sso_on")
def test_an_identity_not_on_the_list_is_told_so_and_can_sign_out() -> None:
    at = _page({"is_logged_in": True, "email": "mallory@example.com"})
    assert [t.value for t in at.title] == ["Upwatch — sign in required"]
    assert [e.value for e in at.error] == [
        "mallory@example\\.com is not allowed to operate Upwatch; ask an operator to add it to "
        "UPWATCH\\_SSO\\_ALLOWED\\_EMAILS"]
    assert any(">Sign out</a>" in m.value for m in at.markdown)
    assert not at.button


def _client() -> TestClient:
    from web.login import login_routes

    return TestClient(Starlette(routes=login_routes()), follow_redirects=False)


def test_without_sso_login_has_no_sso_link_and_sso_goes_back_to_login() -> None:
    assert "single sign-on" not in _client().get("/login").text
    answer = _client().get("/login/sso")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


@pytest.mark.usefixtures("sso_on")
def test_login_offers_sso_which_starts_streamlits_login(monkeypatch: pytest.MonkeyPatch) -> None:
    import web.login

    page = _client().get("/login")
    assert "<a href='/login/sso'>Sign in with single sign-on</a>" in page.text
    assert "id='password'" in page.text  # the password sign-in is still there
    monkeypatch.setattr(web.login, "generate_login_redirect_url",
                        lambda provider: f"/auth/login?provider=token-for-{provider}")
    answer = _client().get("/login/sso")
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query) == {"provider": ["token-for-default"]}
    assert answer.headers["cache-control"] == "no-store"


def test_logout_hands_an_sso_session_to_streamlits_logout() -> None:
    client = _client()
    assert client.get("/logout").headers["location"] == "/"
    client.cookies.set("_streamlit_user", "signed identity")
    answer = client.get("/logout")
    assert answer.status_code == 303 and answer.headers["location"] == "/auth/logout"
    assert "upwatch_session=" in answer.headers["set-cookie"]


@pytest.mark.usefixtures("sso_on")
def test_beside_an_editor_list_the_allowed_list_names_viewers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPWATCH_SSO_EDITOR_EMAILS", "bob@example.com")
    get_settings.cache_clear()
    ann = {"is_logged_in": True, "email": "ann@example.com", "email_verified": True}
    bob = {**ann, "email": "bob@example.com"}
    assert "Save layout" not in [b.label for b in _page(ann).button]  # a viewer
    assert "Save layout" in [b.label for b in _page(bob).button]  # an editor
    alerting = AppTest.from_file(str(ROOT / "pages" / "alerting_page.py"), default_timeout=30)
    alerting.user = bob
    alerting.run()
    assert alerting.warning[0].value.startswith(
        "This page is for admins only. You are signed in as bob@example\\.com, an editor")
