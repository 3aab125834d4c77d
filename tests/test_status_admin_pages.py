"""The admin pages of the status page: incidents, badges and layout (AppTest)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from storage.incidents import admin_incidents, create_incident
from storage.status import page_layout
from tests.pages_support import errors, logged_in
from tests.pages_support import page as page_of
from tests.status_support import monitor
from ui.status_badge_snippets import badge_snippets

ROOT = Path(__file__).resolve().parent.parent


def test_pages_need_the_login() -> None:
    for page in ("incidents.py", "badges.py"):
        at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=30).run()
        assert [t.value for t in at.title] == ["Upwatch — sign in required"]


def test_an_admin_opens_an_incident_and_posts_an_update() -> None:
    at = logged_in("incidents.py")
    at.text_input[0].input("Checkout slow")
    at.text_area[0].input("We are *looking* into it")
    at.button[0].click().run()
    assert not at.exception and "Opened 'Checkout slow'." in at.success[0].value
    # The new-incident form comes first, then the incident's update form.
    at.selectbox[2].select("identified")
    at.text_area[1].input("A bad deploy")
    at.button[1].click().run()
    assert not at.exception
    assert [u.status for u in admin_incidents()[0].updates] == ["identified", "investigating"]


def test_an_empty_incident_is_refused_with_what_to_fix() -> None:
    at = logged_in("incidents.py")
    at.button[0].click().run()
    assert "Title" in at.error[0].value and admin_incidents() == []


def test_badges_page_shows_snippets_and_saves_the_layout() -> None:
    monitor("Web shop")
    monitor("Hidden", public=False)
    create_incident("x", "investigating", "y")
    at = logged_in("badges.py")
    codes = " ".join(c.value for c in at.code)
    assert "/badge/web-shop/uptime.svg?window=30d" in codes and "/badge/hidden/" not in codes
    assert "/badge/status.svg" in codes
    at.button[0].click().run()  # save the layout unchanged
    assert not at.exception and at.success
    assert len(page_layout()) == 2


def test_snippets_escape_names_and_skip_cert_without_tls() -> None:
    snippets = badge_snippets("http://h:8501/", "a-b", 'A "quoted" [name]', https=False)
    assert [s.title for s in snippets][-1] != "Certificate days left"
    first = snippets[0]
    assert first.image_url == "http://h:8501/badge/a-b/status.svg"
    assert "&quot;quoted&quot;" in first.html and "\\[name\\]" in first.markdown


def test_an_incident_link_opens_that_incident_alone() -> None:
    create_incident("Older outage", "investigating", "first")
    wanted = create_incident("Checkout slow", "investigating", "second")
    at = page_of("incidents.py")
    at.session_state["is_admin"] = True
    at.query_params["id"] = str(wanted)
    at.run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Checkout slow · Investigating · open"]
    assert "Older outage" not in str([e.label for e in at.expander])


def test_an_unknown_incident_link_says_so() -> None:
    for asked in ("999", "abc"):
        at = page_of("incidents.py")
        at.session_state["is_admin"] = True
        at.query_params["id"] = asked
        at.run()
        assert not at.exception
        assert "No incident number" in errors(at)[0]
