"""Who may do what in the dashboard (pure): the roles viewer < editor < admin, and the role each
action needs.

- viewer: sees every internal page (overview, monitors, incidents, maintenance, reports, the
  audit log) and changes nothing;
- editor: also changes monitors (add, edit, clone, pause, resume, check now, delete), maintenance
  windows, incidents and the status page's layout;
- admin: also alerting (channels, routing, reminders and flapping), API tokens and users.

The API's token scopes (domain/tokens: read < write < admin) mean the same three levels.
"""

from __future__ import annotations

from enum import Enum

VIEWER, EDITOR, ADMIN = "viewer", "editor", "admin"
ROLES = (VIEWER, EDITOR, ADMIN)  # lowest first


class Action(Enum):
    """Each kind of thing a page lets someone do."""

    VIEW = "view"
    EDIT_MONITORS = "edit monitors"
    EDIT_MAINTENANCE = "edit maintenance"
    EDIT_INCIDENTS = "edit incidents"
    EDIT_LAYOUT = "edit the status page layout"
    EDIT_ALERTING = "edit alerting"
    MANAGE_TOKENS = "manage API tokens"
    MANAGE_USERS = "manage users"


# The lowest role allowed each action.
NEEDS: dict[Action, str] = {
    Action.VIEW: VIEWER,
    Action.EDIT_MONITORS: EDITOR,
    Action.EDIT_MAINTENANCE: EDITOR,
    Action.EDIT_INCIDENTS: EDITOR,
    Action.EDIT_LAYOUT: EDITOR,
    Action.EDIT_ALERTING: ADMIN,
    Action.MANAGE_TOKENS: ADMIN,
    Action.MANAGE_USERS: ADMIN,
}


def rank(role: str | None) -> int:
    """0 for no role (or an unknown one), then 1, 2, 3 from viewer to admin."""
    return ROLES.index(role) + 1 if role in ROLES else 0


def at_least(role: str | None, needed: str) -> bool:
    """Whether `role` is `needed` or above it."""
    return rank(role) > 0 and rank(role) >= rank(needed)


def may(role: str | None, action: Action) -> bool:
    """Whether someone of `role` may do `action`."""
    return at_least(role, NEEDS[action])


def highest(roles: list[str]) -> str | None:
    """The highest of `roles` (an address on several single sign-on lists gets the highest)."""
    known = [role for role in roles if role in ROLES]
    return max(known, key=rank) if known else None


def a_role(role: str) -> str:
    """"a viewer", "an editor", "an admin": the role in a sentence."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"


def role_label(role: str) -> str:
    return {VIEWER: "Viewer (sees everything, changes nothing)",
            EDITOR: "Editor (monitors, maintenance, incidents)",
            ADMIN: "Admin (also alerting, API tokens, users)"}.get(role, role)
