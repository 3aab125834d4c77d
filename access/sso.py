"""Single sign-on (OpenID Connect, through Streamlit's `st.login`): who may operate Upwatch.

Single sign-on is on when Streamlit's secrets have an `[auth]` section naming one provider
(`AUTH_KEYS`, the flat form `st.login()` uses) and at least one of the lists below names an
address. A signed-in identity is an operator when its e-mail address, compared without case, is
on a list and the provider did not say the address is unverified (`email_verified` false).
Everyone else who signs in is refused, with a message that says why.

The lists give the role (domain/roles): UPWATCH_SSO_ADMIN_EMAILS admins,
UPWATCH_SSO_EDITOR_EMAILS editors, UPWATCH_SSO_ALLOWED_EMAILS viewers; an address on several
gets the highest. When neither the admin nor the editor list is set, UPWATCH_SSO_ALLOWED_EMAILS
names admins, as it did before there were roles: an installation that set only that list keeps
working as it did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from config.settings import Settings
from domain.roles import ADMIN, EDITOR, VIEWER

# What `[auth]` in .streamlit/secrets.toml must hold for `st.login()` (the default provider).
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
ALLOW_LIST_VARIABLE = "UPWATCH_SSO_ALLOWED_EMAILS"
ADMIN_LIST_VARIABLE = "UPWATCH_SSO_ADMIN_EMAILS"
EDITOR_LIST_VARIABLE = "UPWATCH_SSO_EDITOR_EMAILS"


class Verdict(Enum):
    NOT_SIGNED_IN = "not signed in"
    OPERATOR = "operator"
    REFUSED = "refused"


def allowed_emails(text: str) -> frozenset[str]:
    """'Ann@Example.com, bob@example.com,' -> {'ann@example.com', 'bob@example.com'}."""
    return frozenset(part.strip().lower() for part in text.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class SsoRoles:
    """The addresses of each role, from the three lists."""

    admins: frozenset[str]
    editors: frozenset[str]
    viewers: frozenset[str]

    @property
    def everyone(self) -> frozenset[str]:
        return self.admins | self.editors | self.viewers

    def role_of(self, email: str) -> str | None:
        """The highest role `email` (lower case) is listed for, or None."""
        for role, emails in ((ADMIN, self.admins), (EDITOR, self.editors),
                             (VIEWER, self.viewers)):
            if email in emails:
                return role
        return None


def sso_roles(settings: Settings) -> SsoRoles:
    admins = allowed_emails(settings.sso_admin_emails)
    editors = allowed_emails(settings.sso_editor_emails)
    allowed = allowed_emails(settings.sso_allowed_emails)
    if not admins and not editors:  # the one list of the days before roles named admins
        return SsoRoles(admins=allowed, editors=frozenset(), viewers=frozenset())
    return SsoRoles(admins=admins, editors=editors, viewers=allowed)


def auth_configured(auth_section: Mapping[str, object]) -> bool:
    """Whether `[auth]` has every setting `st.login()` needs, none of them blank."""
    return all(isinstance(auth_section.get(key), str) and str(auth_section.get(key)).strip()
               for key in AUTH_KEYS)


def sso_enabled(settings: Settings, auth_section: Mapping[str, object]) -> bool:
    return bool(sso_roles(settings).everyone) and auth_configured(auth_section)


def _email(user: Mapping[str, object]) -> str:
    email = user.get("email")
    return email.strip().lower() if isinstance(email, str) else ""


def _unverified(user: Mapping[str, object]) -> bool:
    flag = user.get("email_verified")
    return flag is False or (isinstance(flag, str) and flag.strip().lower() == "false")


def verdict(user: Mapping[str, object], allowed: frozenset[str]) -> Verdict:
    """What the identity in `user` (st.user's claims) may do, under the allow-list `allowed`."""
    if user.get("is_logged_in") is not True:
        return Verdict.NOT_SIGNED_IN
    email = _email(user)
    if email and email in allowed and not _unverified(user):
        return Verdict.OPERATOR
    return Verdict.REFUSED


def sso_role(user: Mapping[str, object], roles: SsoRoles) -> str | None:
    """The role of the identity in `user`, or None when it is not an operator."""
    if verdict(user, roles.everyone) is not Verdict.OPERATOR:
        return None
    return roles.role_of(_email(user))


def sso_email(user: Mapping[str, object]) -> str:
    """The identity's e-mail address, lower case ("" without one)."""
    return _email(user)


def refusal(user: Mapping[str, object]) -> str:
    """Why a signed-in identity is not an operator, and what to do about it."""
    email = _email(user)
    if not email:
        return ("The account you signed in with has no e-mail address, so it cannot be matched "
                f"against {ALLOW_LIST_VARIABLE}; sign in with another account.")
    if _unverified(user):
        return (f"{email} is not verified by the sign-in provider, so it may not operate "
                "Upwatch; verify it there, or sign in with another account.")
    return (f"{email} is not allowed to operate Upwatch; ask an operator to add it to "
            f"{ALLOW_LIST_VARIABLE}")
