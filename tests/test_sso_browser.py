"""Single sign-on in headless Chromium, against a real OpenID provider on 127.0.0.1.

The provider is oidc-provider-mock (a full OpenID Connect server: discovery, authorization form,
token and userinfo endpoints, end-session). Upwatch runs as a user runs it, `streamlit run
app.py`, with an `[auth]` section in a secrets.toml of its own (STREAMLIT_SECRETS_FILES) and
UPWATCH_SSO_ALLOWED_EMAILS. An allowed address reaches the dashboard and signs out again; another
address is told it is not allowed, on the status page and on an internal page; the password
sign-in works beside it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browser import READY, chromium_page, screenshot
from tests.conftest import free_port, require_or_skip
from tests.server_process import running_upwatch

pytestmark = pytest.mark.browser

ALLOWED = "Ann.Operator@Example.com"  # the list is matched without case
REFUSED = "mallory@example.com"
PASSWORD = "kept beside single sign-on"


@contextmanager
def oidc_provider() -> Iterator[str]:
    """An OpenID provider on 127.0.0.1 (any client id and secret), its issuer URL."""
    try:
        from oidc_provider_mock import app
        from werkzeug.serving import make_server
    except ImportError:
        app = None
    require_or_skip(app is not None, "oidc-provider-mock is missing (the [test] extra)")
    server = make_server("127.0.0.1", 0, app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def secrets_toml(path: Path, base: str, issuer: str) -> Path:
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "{base}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "upwatch"\n'
        f'client_secret = "{secrets.token_urlsafe(16)}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )
    return path


def authorize_as(page, subject: str) -> None:
    """The provider's authorization form: its e-mail claim is the subject typed in."""
    page.get_by_placeholder("sub").fill(subject)
    page.get_by_role("button", name="Authorize").click()


def sign_out(page, issuer: str, base: str) -> None:
    """Upwatch's "Sign out", through the provider's end-session page, back to the status page."""
    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url(f"{issuer}/**")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{base}/")
    page.wait_for_selector(READY)


def test_single_sign_on_lets_an_allowed_address_in_and_refuses_another(
    tmp_path: Path, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider's plain http, here only
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with oidc_provider() as issuer:
        env = {
            "UPWATCH_DATABASE_URL": f"sqlite:///{isolated_settings}",
            "UPWATCH_ADMIN_PASSWORD": PASSWORD,
            "UPWATCH_SSO_ALLOWED_EMAILS": f" someone@example.com, {ALLOWED.lower()} ",
            "STREAMLIT_SECRETS_FILES": str(secrets_toml(tmp_path / "secrets.toml", base, issuer)),
        }
        with running_upwatch(port, env, tmp_path / "server.log") as server, \
                chromium_page() as page:
            # The /login page offers single sign-on beside the password.
            page.goto(f"{base}/login")
            page.get_by_label("Password").wait_for()
            page.get_by_role("link", name="Sign in with single sign-on").click()
            page.wait_for_url(f"{issuer}/**")
            authorize_as(page, ALLOWED)
            page.wait_for_url(f"{base}/")
            page.wait_for_selector(READY)
            page.get_by_role("heading", name="Monitors").wait_for()
            screenshot(page, "sso-dashboard")

            # Signing out ends Streamlit's identity cookie and the provider's session.
            sign_out(page, issuer, base)
            page.get_by_role("link", name="Operator sign-in").wait_for()
            assert page.get_by_role("heading", name="Monitors").count() == 0
            assert not [c for c in page.context.cookies() if c["name"] == "_streamlit_user"]

            # Another address signs in from the button of an internal page, and is refused.
            page.goto(f"{base}/alerting")
            page.wait_for_selector(READY)
            page.get_by_role("heading", name="Upwatch — sign in required").wait_for()
            page.get_by_role("button", name="Sign in with single sign-on").click()
            page.wait_for_url(f"{issuer}/**")
            authorize_as(page, REFUSED)
            page.wait_for_url(f"{base}/")
            page.wait_for_selector(READY)
            refusal = (f"{REFUSED} is not allowed to operate Upwatch; ask an operator to add it "
                       "to UPWATCH_SSO_ALLOWED_EMAILS")
            page.get_by_text(refusal).wait_for()
            assert page.get_by_role("link", name="Operator sign-in").count() == 0
            assert page.get_by_role("heading", name="Monitors").count() == 0
            screenshot(page, "sso-refused")
            page.goto(f"{base}/alerting")
            page.wait_for_selector(READY)
            page.get_by_text(refusal).wait_for()
            assert page.get_by_role("heading", name="Alerting").count() == 0, server.log()

            # Signed out again, the password sign-in works as it does without single sign-on.
            sign_out(page, issuer, base)
            page.get_by_role("link", name="Operator sign-in").click()
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.wait_for_url(f"{base}/")
            page.wait_for_selector(READY)
            page.get_by_role("heading", name="Monitors").wait_for()
