"""Running pages headless with AppTest, as a logged-in admin where needed."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parent.parent / "pages"
ADMIN_PASSWORD = "correct horse"  # what tests/conftest.py sets UPWATCH_ADMIN_PASSWORD to


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=30)


def logged_in(name: str, **query: str) -> AppTest:
    """`name` run as a signed-in operator, with `query` as the address's query parameters."""
    at = page(name)
    at.session_state["is_admin"] = True  # what a valid sign-in cookie gives a real browser
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def signed_in_as(name: str, username: str, **query: str) -> AppTest:
    """`name` run by `username` (a row of the users table): what that user's sign-in cookie
    gives a real browser, the role read from the table on every run."""
    at = page(name)
    at.session_state["signed_in_as"] = username
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]
