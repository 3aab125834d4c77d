"""/login and /logout over HTTP: the cookie's attributes, safe redirects, the lockout."""

from __future__ import annotations

import logging
import time

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from access.lockout import LOCKOUT
from access.session_cookie import COOKIE_NAME, verify_any
from domain.links import login_path, safe_next
from web.login import cookie_keys, login_routes

PASSWORD = "correct horse"  # tests/conftest.py


@pytest.fixture(autouse=True)
def fresh_lockout():
    LOCKOUT._failures.clear()
    LOCKOUT._locked_until.clear()
    yield
    LOCKOUT._failures.clear()
    LOCKOUT._locked_until.clear()


def _client(base_url: str = "http://testserver") -> TestClient:
    return TestClient(Starlette(routes=login_routes()), base_url=base_url,
                      follow_redirects=False)


def _set_cookie(response) -> str:
    [header] = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return header


def test_the_page_has_labelled_username_and_password_fields_and_keeps_next():
    page = _client().get("/login", params={"next": "/incidents?id=3&x='\"<"})
    assert page.status_code == 200
    assert "<label for='password'>Password</label>" in page.text and "id='password'" in page.text
    # With UPWATCH_ADMIN_PASSWORD set, the username starts as its user's.
    assert "<label for='username'>Username</label>" in page.text
    assert "name='username'" in page.text and "value='admin'" in page.text
    assert ">Sign in</button>" in page.text
    assert "value='/incidents?id=3&amp;x=&#x27;&quot;&lt;'" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_signing_in_sets_the_cookie_and_goes_to_next():
    answer = _client().post("/login", data={"password": PASSWORD, "next": "/incidents?id=3"})
    assert answer.status_code == 303 and answer.headers["location"] == "/incidents?id=3"
    cookie = _set_cookie(answer)
    lowered = cookie.lower()
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    assert "max-age=43200" in lowered and "secure" not in lowered
    value = cookie.split(";")[0].split("=", 1)[1]
    assert verify_any(cookie_keys(), value, time.time())
    assert not verify_any(cookie_keys(), value, time.time() + 12 * 3600 + 1)


def test_the_cookie_is_secure_under_https():
    answer = _client("https://testserver").post("/login", data={"password": PASSWORD,
                                                                 "next": "/"})
    assert answer.status_code == 303 and "; secure" in _set_cookie(answer).lower()


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example",
                                    "\\\\evil.example", "/\t/evil.example", "", "incidents",
                                    "javascript:alert(1)", "/\n/evil.example"])
def test_next_never_leaves_the_site(target: str):
    answer = _client().post("/login", data={"password": PASSWORD, "next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert safe_next(target) == "/"


def test_login_path_quotes_the_path():
    assert login_path("/incidents?id=3") == "/login?next=%2Fincidents%3Fid%3D3"
    assert login_path("//evil.example") == "/login?next=%2F"


def test_a_wrong_password_is_a_401_without_a_cookie(caplog):
    caplog.set_level(logging.INFO, logger="upwatch")
    answer = _client().post("/login", data={"password": "guess-123", "next": "/x"})
    assert answer.status_code == 401 and "Wrong username or password." in answer.text
    assert "set-cookie" not in answer.headers
    assert "value='/x'" in answer.text
    assert "guess-123" not in caplog.text and "testclient" in caplog.text


def test_five_wrong_passwords_lock_the_client_out(caplog):
    caplog.set_level(logging.INFO, logger="upwatch")
    client = _client()
    statuses = [client.post("/login", data={"password": f"guess-{n}"}).status_code
                for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    locked = client.post("/login", data={"password": PASSWORD})
    assert locked.status_code == 429 and "set-cookie" not in locked.headers
    assert "Too many wrong passwords. Try again after " in locked.text and " UTC." in locked.text
    assert "guess-" not in caplog.text and "locked out" in caplog.text


def test_a_signed_in_visit_to_login_goes_straight_to_next():
    client = _client()
    client.post("/login", data={"password": PASSWORD, "next": "/"})
    answer = client.get("/login", params={"next": "/monitor?slug=api"})
    assert answer.status_code == 303 and answer.headers["location"] == "/monitor?slug=api"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_logout_clears_the_cookie(method: str):
    client = _client()
    client.post("/login", data={"password": PASSWORD, "next": "/"})
    assert client.cookies.get(COOKIE_NAME)
    answer = client.request(method, "/logout")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = _set_cookie(answer).lower()
    assert cookie.startswith(f"{COOKIE_NAME}=") and "max-age=0" in cookie
    assert not client.cookies.get(COOKIE_NAME)
    assert client.get("/login").status_code == 200
