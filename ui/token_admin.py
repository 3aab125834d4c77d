"""The API tokens page: make a named token with a scope and an optional expiry (shown once),
see when each was last used, revoke one."""

from __future__ import annotations

import streamlit as st

from domain.formatting import ago
from domain.monitor_input import InvalidInput
from domain.roles import Action
from domain.tokens import SCOPES
from storage.api_tokens import create_token, list_tokens, revoke_token
from storage.models import utcnow
from ui.auth import dashboard_actor, permitted

NEW_TOKEN_KEY = "token_just_made"  # (name, token): shown until the page is left
SCOPE_HELP = ("read: private monitors, results, reports and metrics · write: also monitors "
              "and everything an editor changes · admin: also settings and the audit log")


def _revoke(token_id: int) -> None:
    if not permitted(Action.MANAGE_TOKENS):
        return
    revoke_token(token_id, actor=dashboard_actor())
    st.session_state.pop(NEW_TOKEN_KEY, None)


def render_token_admin() -> None:
    made = st.session_state.get(NEW_TOKEN_KEY)
    if made:
        st.success(f"Token '{made[0]}' made. Copy it now: it is not shown again.")
        st.code(made[1], language=None)
    with st.form("new_token", clear_on_submit=True):
        st.subheader("Make a token", anchor=False)
        name = st.text_input("Name", placeholder="grafana")
        scope = st.selectbox("Scope", SCOPES, help=SCOPE_HELP)
        days = st.number_input("Expires after (days, 0 = never)", min_value=0, value=90, step=1)
        if st.form_submit_button("Make token") and permitted(Action.MANAGE_TOKENS):
            try:
                view, secret = create_token(name, scope, int(days) or None,
                                            actor=dashboard_actor())
            except InvalidInput as refused:
                for field, message in refused.errors.items():
                    st.error(f"{field}: {message}")
            else:
                st.session_state[NEW_TOKEN_KEY] = (view.name, secret)
                st.rerun()
    tokens = list_tokens()
    if not tokens:
        st.info("No API tokens yet. UPWATCH_API_TOKEN, when set, works as an admin token.")
        return
    now = utcnow()
    for token in tokens:
        state = ("revoked" if token.revoked_at else
                 "expired" if not token.active(now) else
                 f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "no expiry")
        used = f"last used {ago(token.last_used_at)}" if token.last_used_at else "never used"
        text, action = st.columns([5, 1], vertical_alignment="center")
        text.text(f"{token.name} · {token.scope} · {token.prefix}… · {state} · {used}")
        if token.revoked_at is None:
            action.button("Revoke", key=f"revoke_token_{token.id}", on_click=_revoke,
                          args=(token.id,))
