"""The Users page (admins only): every user with their role and last sign-in; add one, change a
role, reset a password, remove one (after a confirmation). Each change checks the role again
and is audited (storage/users); passwords are never shown."""

from __future__ import annotations

import streamlit as st

from access.sso import ADMIN_LIST_VARIABLE, ALLOW_LIST_VARIABLE, EDITOR_LIST_VARIABLE, sso_roles
from config.settings import get_settings
from domain.formatting import ago, plain
from domain.limits import InvalidInput
from domain.roles import ROLES, Action, a_role, role_label
from storage.users import UserView, add_user, list_users, remove_user, set_password, set_role
from ui.auth import dashboard_actor, permitted, sso_on

NOTICE_KEY = "users_notice"
CONFIRM_KEY = "users_confirm_remove"  # the username whose removal is being confirmed


def _show(refused: InvalidInput) -> None:
    for field, message in refused.errors.items():
        st.error(plain(f"{field.capitalize()}: {message}"))


def _done(notice: str) -> None:
    st.session_state[NOTICE_KEY] = notice
    st.rerun()


def _same_twice(password: str, again: str) -> bool:
    if password != again:
        st.error("Password: the two passwords differ; type the same one twice.")
        return False
    return True


def _table(users: list[UserView]) -> None:
    st.dataframe([{"Username": user.username, "Role": user.role,
                   "Last sign-in": ago(user.last_sign_in_at),
                   "Password": "UPWATCH_ADMIN_PASSWORD" if user.password_from_settings
                   else "set"} for user in users], hide_index=True, key="users_table")


def _sso_caption() -> None:
    if not sso_on():
        return
    roles = sso_roles(get_settings())
    st.caption(f"Single sign-on also lets in {len(roles.admins)} admins, {len(roles.editors)} "
               f"editors and {len(roles.viewers)} viewers by e-mail ({ADMIN_LIST_VARIABLE}, "
               f"{EDITOR_LIST_VARIABLE}, {ALLOW_LIST_VARIABLE}; the allowed list alone names "
               "admins).")


def _add_form() -> None:
    with st.form("add_user", clear_on_submit=True):
        st.subheader("Add a user", anchor=False)
        username = st.text_input("Username", placeholder="ann")
        role = st.selectbox("Role", ROLES, format_func=role_label)
        password = st.text_input("Password", type="password")
        again = st.text_input("Password again", type="password")
        if (st.form_submit_button("Add user") and permitted(Action.MANAGE_USERS)
                and _same_twice(password, again)):
            try:
                added = add_user(username, role, password, actor=dashboard_actor())
            except InvalidInput as refused:
                _show(refused)
            else:
                _done(f"Added {added.username}, {a_role(added.role)}.")


def _change_role(user: UserView) -> None:
    with st.form(f"role_{user.username}"):
        role = st.selectbox("Role", ROLES, index=ROLES.index(user.role), format_func=role_label)
        if st.form_submit_button("Change role") and permitted(Action.MANAGE_USERS):
            try:
                set_role(user.username, role, actor=dashboard_actor())
            except InvalidInput as refused:
                _show(refused)
            else:
                _done(f"{user.username} is now {a_role(role)}.")


def _reset_password(user: UserView) -> None:
    with st.form(f"password_{user.username}", clear_on_submit=True):
        password = st.text_input("New password", type="password")
        again = st.text_input("New password again", type="password")
        if (st.form_submit_button("Reset password") and permitted(Action.MANAGE_USERS)
                and _same_twice(password, again)):
            try:
                set_password(user.username, password, actor=dashboard_actor())
            except InvalidInput as refused:
                _show(refused)
            else:
                _done(f"Set a new password for {user.username}.")


def _remove(username: str) -> None:
    st.session_state.pop(CONFIRM_KEY, None)
    if not permitted(Action.MANAGE_USERS):
        return
    try:
        remove_user(username, actor=dashboard_actor())
    except InvalidInput as refused:
        _show(refused)
    else:
        st.session_state[NOTICE_KEY] = f"Removed {username}: they are signed out at once."


def _manage(user: UserView) -> None:
    with st.expander(f"{user.username} · {user.role}"):
        if user.password_from_settings:
            st.caption("Signs in with UPWATCH_ADMIN_PASSWORD and stays an admin while it is "
                       "set: change or unset the variable to change this user.")
            return
        _change_role(user)
        _reset_password(user)
        if st.session_state.get(CONFIRM_KEY) == user.username:
            st.warning(f"Remove **{plain(user.username)}**? They are signed out at once and "
                       "can no longer sign in.")
            yes, no = st.columns(2)
            yes.button(f"Yes, remove {user.username}", key=f"remove_yes_{user.username}",
                       type="primary", on_click=_remove, args=(user.username,))
            no.button("Cancel", key=f"remove_no_{user.username}",
                      on_click=lambda: st.session_state.pop(CONFIRM_KEY, None))
        else:
            st.button("Remove…", key=f"remove_{user.username}",
                      on_click=lambda: st.session_state.__setitem__(CONFIRM_KEY, user.username))


def render_user_admin() -> None:
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(plain(notice))  # names typed by people
    users = list_users()
    if users:
        _table(users)
    else:
        st.info("No users yet.")
    _sso_caption()
    for user in users:
        _manage(user)
    _add_form()
