"""Users and roles: the rule (domain/roles), the users table (storage/users), the sign-in with a
username (web/login), what each role sees and may do on the pages (AppTest), single sign-on's
lists, and `upwatch user` (composition/cli)."""

from __future__ import annotations

import io
import logging
import time

import pytest
from sqlalchemy import insert, select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from access.lockout import LOCKOUT
from access.passwords import hash_password
from access.session_cookie import COOKIE_NAME, issue, username_of
from access.sso import SsoRoles, sso_role, sso_roles
from composition.cli import main
from config.settings import Settings, get_settings
from domain.limits import InvalidInput
from domain.monitor_input import parse_monitor_input
from domain.roles import ADMIN, EDITOR, NEEDS, ROLES, VIEWER, Action, highest, may
from storage.audit import audit_page
from storage.db import get_engine
from storage.monitors import create_monitor, get_monitor
from storage.users import (
    USERS,
    add_user,
    forget_roles,
    list_users,
    remove_user,
    role_of,
    set_password,
    set_role,
    sign_in,
)
from tests.pages_support import ADMIN_PASSWORD, PAGES, logged_in, signed_in_as
from web.login import cookie_keys, login_routes

PASSWORD = "a long passphrase"
ADMINS_ONLY = "This page is for admins only."


@pytest.fixture(autouse=True)
def fresh_lockout():
    LOCKOUT._failures.clear()
    LOCKOUT._locked_until.clear()
    yield
    LOCKOUT._failures.clear()
    LOCKOUT._locked_until.clear()


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)  # hashing is slow on purpose: once for the module


@pytest.fixture
def people(password_hash: str) -> None:
    """vera the viewer, ed the editor, ada an admin (besides the bootstrap admin), as add_user
    writes them (add_user itself is tested below)."""
    with get_engine().begin() as connection:
        connection.execute(insert(USERS), [
            {"username": name, "role": role, "password_hash": password_hash}
            for name, role in (("vera", VIEWER), ("ed", EDITOR), ("ada", ADMIN))])
    forget_roles()


@pytest.fixture
def no_admin_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPWATCH_ADMIN_PASSWORD")
    get_settings.cache_clear()


def _monitor() -> str:
    return create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:9/"})).slug


def _labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def _warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


# --- the rule --------------------------------------------------------------------------------

@pytest.mark.parametrize(("action", "viewer", "editor", "admin"), [
    (Action.VIEW, True, True, True),
    (Action.EDIT_MONITORS, False, True, True),
    (Action.EDIT_MAINTENANCE, False, True, True),
    (Action.EDIT_INCIDENTS, False, True, True),
    (Action.EDIT_LAYOUT, False, True, True),
    (Action.EDIT_ALERTING, False, False, True),
    (Action.MANAGE_TOKENS, False, False, True),
    (Action.MANAGE_USERS, False, False, True),
])
def test_what_each_role_may_do(action: Action, viewer: bool, editor: bool, admin: bool) -> None:
    assert [may(role, action) for role in ROLES] == [viewer, editor, admin]
    assert not may(None, action) and not may("owner", action)


def test_every_action_names_the_role_it_needs() -> None:
    assert set(NEEDS) == set(Action) and set(NEEDS.values()) <= set(ROLES)
    assert highest([VIEWER, ADMIN, EDITOR]) == ADMIN and highest(["x"]) is None


# --- the users table -------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "problem"), [
    ("", "give a username"),
    ("ann lee", "use letters a-z"),
    ("-ann", "use letters a-z"),
    ("ann<script>", "use letters a-z"),
    ("a" * 65, "at most 64 characters"),
])
def test_a_bad_username_is_refused_with_what_to_fix(name: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        add_user(name, VIEWER, PASSWORD, actor="admin")
    assert problem in refused.value.errors["username"]
    assert [u.username for u in list_users()] == ["admin"]  # nothing saved


def test_a_bad_role_and_a_short_password_are_refused_together() -> None:
    with pytest.raises(InvalidInput) as refused:
        add_user("Ann", "owner", "short", actor="admin")
    assert refused.value.errors == {"role": "choose one of viewer, editor, admin",
                                    "password": "choose a password of at least 8 characters"}
    with pytest.raises(InvalidInput, match="already"):
        add_user("ann", VIEWER, PASSWORD, actor="admin")
        add_user("ANN", VIEWER, PASSWORD, actor="admin")


def test_the_hash_is_argon2id_and_no_password_reaches_the_log_or_the_audit(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    add_user("Ann", EDITOR, PASSWORD, actor="admin")
    set_password("ann", "another long one", actor="admin")
    assert sign_in("ann", "another long one") == "ann"
    assert sign_in("ann", PASSWORD) is None
    with get_engine().connect() as connection:
        stored = connection.execute(select(USERS.c.password_hash)
                                    .where(USERS.c.username == "ann")).scalar_one()
    assert stored.startswith("$argon2id$")
    entries = [e.summary() + str(e.before) + str(e.after) for e in audit_page()]
    assert entries[:2] == ["admin password changed user annNoneNone",
                           "admin created user annNone{'role': 'editor'}"]
    for secret in (PASSWORD, "another long one", stored):
        assert secret not in caplog.text and all(secret not in e for e in entries)


def test_changes_are_audited_and_roles_follow_at_once(people: None) -> None:
    assert role_of("ed") == EDITOR
    set_role("ed", VIEWER, actor="ada")
    assert role_of("ed") == VIEWER
    remove_user("ed", actor="ada")
    assert role_of("ed") is None and sign_in("ed", PASSWORD) is None
    assert [e.summary() for e in audit_page()][:2] == [
        "ada deleted user ed", "ada updated user ed: role \"editor\" -> \"viewer\""]


@pytest.mark.usefixtures("no_admin_password")
def test_the_last_admin_can_be_neither_removed_nor_demoted() -> None:
    add_user("ada", ADMIN, PASSWORD, actor="cli")
    for change in (lambda: remove_user("ada", actor="cli"),
                   lambda: set_role("ada", EDITOR, actor="cli")):
        with pytest.raises(InvalidInput, match="'ada' is the last admin"):
            change()
    assert role_of("ada") == ADMIN
    add_user("bo", ADMIN, PASSWORD, actor="cli")
    remove_user("ada", actor="cli")
    assert [u.username for u in list_users()] == ["bo"]


def test_the_bootstrap_admin_follows_the_admin_password() -> None:
    [admin] = list_users()
    assert (admin.username, admin.role, admin.password_from_settings) == ("admin", ADMIN, True)
    assert sign_in("admin", "wrong password") is None
    assert sign_in("Admin", ADMIN_PASSWORD) == "admin"
    assert list_users()[0].last_sign_in_at is not None
    for change in (lambda: remove_user("admin", actor="x"),
                   lambda: set_role("admin", VIEWER, actor="x"),
                   lambda: set_password("admin", PASSWORD, actor="x")):
        with pytest.raises(InvalidInput, match="UPWATCH_ADMIN_PASSWORD"):
            change()


# --- signing in over HTTP --------------------------------------------------------------------

def _client() -> TestClient:
    return TestClient(Starlette(routes=login_routes()), follow_redirects=False)


def test_a_user_signs_in_with_a_username_and_the_cookie_names_them(people: None) -> None:
    answer = _client().post("/login", data={"username": " Ed ", "password": PASSWORD,
                                            "next": "/maintenance"})
    assert answer.status_code == 303 and answer.headers["location"] == "/maintenance"
    cookie = answer.cookies[COOKIE_NAME]
    assert username_of(cookie_keys(), cookie, time.time()) == "ed"
    # The admin password alone still signs in "admin", as before there were users.
    alone = _client().post("/login", data={"password": ADMIN_PASSWORD})
    assert username_of(cookie_keys(), alone.cookies[COOKIE_NAME], time.time()) == "admin"


@pytest.mark.usefixtures("no_admin_password")
def test_without_the_admin_password_the_first_admin_comes_from_the_command_line() -> None:
    page = _client().get("/login").text
    assert "id='password'" not in page and "upwatch user add NAME --role admin" in page
    locked = logged_in_nobody("dashboard.py")
    assert "`upwatch user add NAME --role admin`" in _warnings(locked)[0]
    add_user("ada", ADMIN, PASSWORD, actor="cli")
    page = _client().get("/login").text
    assert "value='' required autofocus" in page  # the username is to be typed first
    answer = _client().post("/login", data={"username": "ada", "password": PASSWORD})
    assert answer.status_code == 303
    assert _client().post("/login", data={"password": PASSWORD}).status_code == 401


def logged_in_nobody(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=30).run()


def test_a_cookie_from_before_users_names_the_admin() -> None:
    key = b"k" * 32
    legacy = issue(key, 1000.0, 60, username="")
    assert username_of([key], legacy, 1000.0) == "admin"
    assert username_of([key], issue(key, 1000.0, 60, "ann.lee"), 1000.0) == "ann.lee"


def test_a_removed_user_is_signed_out_of_login(people: None) -> None:
    client = _client()
    client.post("/login", data={"username": "vera", "password": PASSWORD})
    assert client.get("/login").status_code == 303  # signed in: straight on
    remove_user("vera", actor="ada")
    assert client.get("/login").status_code == 200  # the cookie names nobody now


def test_wrong_usernames_and_passwords_lock_the_address_out(
        people: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="upwatch")
    client = _client()
    tries = [("ed", "wrong one 1"), ("nobody", PASSWORD), ("vera", "wrong one 2"),
             ("x y", PASSWORD), ("ada", "wrong one 3")]
    statuses = [client.post("/login", data={"username": u, "password": p}).status_code
                for u, p in tries]
    assert statuses == [401, 401, 401, 401, 429]
    locked = client.post("/login", data={"username": "ed", "password": PASSWORD})
    assert locked.status_code == 429 and COOKIE_NAME not in locked.cookies
    assert "nobody" not in caplog.text and "wrong one" not in caplog.text


# --- the pages, by role ----------------------------------------------------------------------

EDIT_BUTTONS = {"Add monitor", "Pause", "Resume", "Check now", "Delete…"}


def _window() -> None:
    from datetime import UTC, datetime

    from storage.maintenance_admin import create_window
    from ui.maintenance_forms import parse_window_form

    create_window(parse_window_form({"title": "Backups", "recurring": True, "cron": "0 2 * * 0",
                                     "duration_minutes": 60}, datetime.now(UTC)), actor="ed")


def test_a_viewer_sees_every_internal_page_without_edit_buttons(people: None) -> None:
    slug = _monitor()
    _window()
    dashboard = signed_in_as("dashboard.py", "vera")
    assert [t.value for t in dashboard.title] == ["Monitors"]
    assert not EDIT_BUTTONS & _labels(dashboard)
    assert not dashboard.dataframe[0].proto.selection_mode  # no selection boxes to tick
    monitor = signed_in_as("monitor.py", "vera", slug=slug)
    assert not {"⏸️ Pause checks", "🔄 Check now", "📄 Clone…", "🗑️ Delete…"} & _labels(monitor)
    assert "Manage" not in [s.value for s in monitor.subheader]
    maintenance = signed_in_as("maintenance.py", "vera")
    assert any("Backups" in m.value for m in maintenance.markdown)
    assert not {"Save window", "Delete"} & _labels(maintenance)
    assert not {"Open incident"} & _labels(signed_in_as("incidents.py", "vera"))
    badges = signed_in_as("badges.py", "vera")
    assert "Save layout" not in _labels(badges) and badges.dataframe
    for name in ("reports.py", "audit.py"):
        assert not signed_in_as(name, "vera").warning
    for name in ("alerting_page.py", "tokens.py", "users.py"):
        page = signed_in_as(name, "vera")
        assert _warnings(page)[0].startswith(ADMINS_ONLY) and "vera, a viewer" in _warnings(page)[0]


def test_an_editor_edits_monitors_but_not_alerting_tokens_or_users(people: None) -> None:
    slug = _monitor()
    dashboard = signed_in_as("dashboard.py", "ed")
    assert "Add monitor" in _labels(dashboard) and dashboard.dataframe[0].proto.selection_mode
    monitor = signed_in_as("monitor.py", "ed", slug=slug)
    next(b for b in monitor.button if b.label == "⏸️ Pause checks").click().run()
    paused = get_monitor(slug)
    assert paused is not None and paused.paused
    assert audit_page()[0].actor == "ed"  # the username, not "admin"
    _window()
    assert {"Save window", "Delete"} <= _labels(signed_in_as("maintenance.py", "ed"))
    assert "Save layout" in _labels(signed_in_as("badges.py", "ed"))
    for name in ("alerting_page.py", "tokens.py", "users.py"):
        assert _warnings(signed_in_as(name, "ed"))[0].startswith(ADMINS_ONLY)


def test_an_admin_manages_users_on_the_users_page(people: None) -> None:
    at = signed_in_as("users.py", "ada")
    assert [t.value for t in at.title] == ["Users"]
    assert list(at.dataframe[0].value["Username"]) == ["ada", "admin", "ed", "vera"]
    assert not signed_in_as("alerting_page.py", "ada").warning
    labels = {t.label: t for t in at.text_input}
    labels["Username"].input("Nina")
    labels["Password"].input(PASSWORD)
    labels["Password again"].input(PASSWORD)
    next(b for b in at.button if b.label == "Add user").click().run()
    assert [s.value for s in at.success] == ["Added nina, a viewer\\."]  # as Markdown
    assert role_of("nina") == VIEWER and audit_page()[0].summary() == "ada created user nina"
    next(b for b in at.button if b.key == "remove_ed").click().run()
    next(b for b in at.button if b.label == "Yes, remove ed").click().run()
    assert role_of("ed") is None


def test_a_viewer_calling_a_write_is_refused_and_nothing_changes(people: None) -> None:
    slug = _monitor()

    def writes(slug: str) -> None:
        from ui import overview_bulk

        overview_bulk.delete([slug])
        overview_bulk.pause([slug], True)

    at = AppTest.from_function(writes, args=(slug,), default_timeout=30)
    at.session_state["signed_in_as"] = "vera"
    at.run()
    assert [e.value for e in at.error] == [
        "Not done: to edit monitors you need the editor role; you are signed in as vera, "
        "a viewer."] * 2
    monitor = get_monitor(slug)
    assert monitor is not None and not monitor.paused


def test_a_removal_or_a_new_role_counts_on_the_next_run(people: None) -> None:
    at = signed_in_as("dashboard.py", "ed")
    assert "Add monitor" in _labels(at)
    set_role("ed", VIEWER, actor="ada")
    at.run()
    assert "Add monitor" not in _labels(at)
    remove_user("ed", actor="ada")
    at.run()
    assert [t.value for t in at.title] == ["Upwatch — sign in required"]


def test_the_bootstrap_admin_still_sees_everything() -> None:
    assert "Add monitor" in _labels(logged_in("dashboard.py"))
    assert not logged_in("users.py").warning


# --- single sign-on --------------------------------------------------------------------------

def _sso(**lists: str) -> SsoRoles:
    return sso_roles(Settings(**{f"sso_{k}_emails": v for k, v in lists.items()}))


def test_the_allowed_list_alone_names_admins_as_before() -> None:
    assert _sso(allowed="ann@example.com").role_of("ann@example.com") == ADMIN


def test_each_list_gives_its_role_and_the_highest_wins() -> None:
    roles = _sso(admin="ann@example.com", editor="Bob@example.com, ann@example.com",
                 allowed="cy@example.com, bob@example.com")
    signed = {"is_logged_in": True, "email_verified": True}
    assert [sso_role({**signed, "email": e}, roles) for e in
            ("ann@example.com", "BOB@example.com", "cy@example.com", "eve@example.com")] \
        == [ADMIN, EDITOR, VIEWER, None]
    assert sso_role({"is_logged_in": True, "email": "cy@example.com", "email_verified": False},
                    roles) is None


def test_a_single_sign_on_operator_is_recorded_by_e_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    import ui.auth as auth

    class SignedIn:
        def to_dict(self) -> dict[str, object]:
            return {"is_logged_in": True, "email": " Ann@Example.com "}

    monkeypatch.setenv("UPWATCH_SSO_EDITOR_EMAILS", "ann@example.com")
    get_settings.cache_clear()
    monkeypatch.setattr(st, "user", SignedIn())
    monkeypatch.setattr(auth, "sso_on", lambda: True)
    assert auth.current_operator() == auth.Operator("ann@example.com", EDITOR)
    assert auth.dashboard_actor() == "ann@example.com"


# --- upwatch user ----------------------------------------------------------------------------

def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
         stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as ended:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out, err


@pytest.mark.usefixtures("no_admin_password")
def test_the_user_command_adds_lists_changes_and_removes(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run = lambda *argv, stdin="": _cli(monkeypatch, capsys, *argv, stdin=stdin)  # noqa: E731
    assert run("user", "add", "Root", "--role", "admin", "--password-stdin",
               stdin=PASSWORD + "\n")[:2] == (0, "added root (admin)\n")
    assert run("user", "add", "ed", "--role", "editor", stdin=PASSWORD + "\n")[0] == 0
    code, out, _ = run("user", "list")
    assert code == 0 and out == "ed\teditor\tnever signed in\nroot\tadmin\tnever signed in\n"
    assert run("user", "passwd", "ed", stdin="a new passphrase\n")[0] == 0
    assert sign_in("ed", "a new passphrase") == "ed"
    code, _, err = run("user", "passwd", "ed", stdin="short\n")
    assert code == 1 and "choose a password of at least 8 characters" in err
    code, _, err = run("user", "remove", "root")
    assert code == 1 and err == ("upwatch user remove: username: 'root' is the last admin: "
                                 "make another user an admin first\n")
    assert run("user", "remove", "ed")[:2] == (0, "removed ed\n")
    code, _, err = run("user", "add", "bo", "--role", "owner", stdin=PASSWORD)
    assert code == 2 and "invalid choice: 'owner'" in err
    code, _, err = run("user", "remove", "nobody")
    assert code == 1 and "there is no user 'nobody'" in err
    assert [e.summary() for e in audit_page()][-2:] == ["cli created user ed",
                                                         "cli created user root"]
