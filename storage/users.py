"""Dashboard users: added, listed, given a role or a new password, removed, and checked at
sign-in. Every change is audited in its own transaction.

Usernames are 1-64 characters of lower-case letters, digits, '.', '_' and '-', starting with a
letter or a digit (typed in any case, kept in lower case). Passwords are kept as argon2id
hashes (access/passwords), never logged, shown or audited.

While UPWATCH_ADMIN_PASSWORD is set, the user "admin" (BOOTSTRAP_ADMIN) signs in with it, as
before there were users, and stays an admin: its password, role and existence follow the
variable, so whoever holds it can always get in. Its row is made at its first sign-in (to keep
the time); until then it is listed all the same.

The role of a username is read again at most every ROLES_TTL_S (a removal or a role change
counts within that time in every web process) and at once in the process that made it.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from access.passwords import (
    BOOTSTRAP_ADMIN,
    admin_password_configured,
    hash_matches,
    hash_password,
    needs_rehash,
    password_matches,
    password_problem,
    spend_a_verification,
)
from config.settings import get_settings
from domain.limits import InvalidInput
from domain.roles import ADMIN, ROLES
from storage.audit import record
from storage.db import get_engine
from storage.models import as_utc, utcnow
from storage.tables import table_of
from storage.user_models import DashboardUser

USERS = table_of(DashboardUser)
ROLES_TTL_S = 2.0
MAX_USERNAME_CHARS = 64
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class UserView:
    username: str
    role: str
    created_at: datetime | None  # None: the bootstrap admin before its first sign-in
    last_sign_in_at: datetime | None
    password_from_settings: bool  # signs in with UPWATCH_ADMIN_PASSWORD


def clean_username(text: object) -> str:
    """`text` as a username, or InvalidInput({"username": what to fix})."""
    name = text.strip().lower() if isinstance(text, str) else ""
    if not name:
        raise InvalidInput({"username": "give a username, e.g. 'ann'"})
    if len(name) > MAX_USERNAME_CHARS:
        raise InvalidInput({"username": f"a username has at most {MAX_USERNAME_CHARS} "
                                        "characters"})
    if not _USERNAME.fullmatch(name):
        raise InvalidInput({"username": "use letters a-z, digits, '.', '_' and '-', starting "
                                        "with a letter or a digit"})
    return name


def _checked_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput({"role": f"choose one of {', '.join(ROLES)}"})
    return role


def _checked_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise InvalidInput({"password": problem})
    return password


def _bootstrap_on() -> bool:
    return admin_password_configured(get_settings())


def _bootstrap_refusal(what: str) -> InvalidInput:
    return InvalidInput({"username": f"'{BOOTSTRAP_ADMIN}' signs in with UPWATCH_ADMIN_PASSWORD "
                                     f"and stays an admin while it is set: {what}"})


def _row(connection: Connection, username: str) -> Any:
    return connection.execute(select(USERS).where(USERS.c.username == username)).first()


def _other_admins(connection: Connection, username: str) -> int:
    """How many admins who can sign in there are besides `username` (the bootstrap admin
    counts while UPWATCH_ADMIN_PASSWORD is set; a row without a hash only then)."""
    names = set(connection.execute(select(USERS.c.username).where(
        USERS.c.role == ADMIN, USERS.c.username != username,
        USERS.c.password_hash.is_not(None))).scalars())
    if _bootstrap_on() and username != BOOTSTRAP_ADMIN:
        names.add(BOOTSTRAP_ADMIN)
    return len(names)


def add_user(username: str, role: str, password: str, *, actor: str) -> UserView:
    errors: dict[str, str] = {}
    name = ""
    try:
        name = clean_username(username)
    except InvalidInput as problem:
        errors.update(problem.errors)
    for check, value in ((_checked_role, role), (_checked_password, password)):
        try:
            check(value)
        except InvalidInput as problem:
            errors.update(problem.errors)
    if errors:
        raise InvalidInput(errors)
    if name == BOOTSTRAP_ADMIN and _bootstrap_on():
        raise _bootstrap_refusal("choose another username")
    now = utcnow()
    taken = InvalidInput({"username": f"there is a user '{name}' already: choose another name"})
    hashed = hash_password(password)
    with get_engine().begin() as connection:
        if _row(connection, name) is not None:
            raise taken
        try:
            connection.execute(insert(USERS).values(
                username=name, role=role, password_hash=hashed, created_at=now))
        except IntegrityError:  # added by someone else just now
            raise taken from None
        record(connection, actor=actor, action="created", subject_kind="user", subject=name,
               after={"role": role})
    forget_roles()
    return UserView(name, role, now, None, False)


def _existing(connection: Connection, username: str) -> Any:
    row = _row(connection, username)
    if row is None:
        raise InvalidInput({"username": f"there is no user '{username}' (see the list of "
                                        "users)"})
    return row


def set_role(username: str, role: str, *, actor: str) -> None:
    name = clean_username(username)
    _checked_role(role)
    if name == BOOTSTRAP_ADMIN and _bootstrap_on():
        if role == ADMIN:
            return
        raise _bootstrap_refusal("give another user that role instead")
    with get_engine().begin() as connection:
        row = _existing(connection, name)
        if row.role == role:
            return
        if row.role == ADMIN and not _other_admins(connection, name):
            raise InvalidInput({"role": f"'{name}' is the last admin: make another user an "
                                        "admin first"})
        connection.execute(update(USERS).where(USERS.c.id == row.id).values(role=role))
        record(connection, actor=actor, action="updated", subject_kind="user", subject=name,
               before={"role": row.role}, after={"role": role})
    forget_roles()


def set_password(username: str, password: str, *, actor: str) -> None:
    name = clean_username(username)
    _checked_password(password)
    if name == BOOTSTRAP_ADMIN and _bootstrap_on():
        raise _bootstrap_refusal("change the variable instead (`upwatch hash-password` prints "
                                 "a hash for it)")
    with get_engine().begin() as connection:
        row = _existing(connection, name)
        connection.execute(update(USERS).where(USERS.c.id == row.id)
                           .values(password_hash=hash_password(password)))
        record(connection, actor=actor, action="password changed", subject_kind="user",
               subject=name)


def remove_user(username: str, *, actor: str) -> None:
    name = clean_username(username)
    if name == BOOTSTRAP_ADMIN and _bootstrap_on():
        raise _bootstrap_refusal("unset it first to remove this user")
    with get_engine().begin() as connection:
        row = _existing(connection, name)
        if row.role == ADMIN and not _other_admins(connection, name):
            raise InvalidInput({"username": f"'{name}' is the last admin: make another user "
                                            "an admin first"})
        connection.execute(delete(USERS).where(USERS.c.id == row.id))
        record(connection, actor=actor, action="deleted", subject_kind="user", subject=name,
               before={"role": row.role})
    forget_roles()


def list_users() -> list[UserView]:
    """Every user by name; the bootstrap admin while UPWATCH_ADMIN_PASSWORD is set."""
    bootstrap = _bootstrap_on()
    with get_engine().connect() as connection:
        rows = connection.execute(select(USERS).order_by(USERS.c.username)).all()
    views = [UserView(row.username, ADMIN if bootstrap and row.username == BOOTSTRAP_ADMIN
                      else row.role, as_utc(row.created_at), as_utc(row.last_sign_in_at),
                      bootstrap and row.username == BOOTSTRAP_ADMIN) for row in rows]
    if bootstrap and all(view.username != BOOTSTRAP_ADMIN for view in views):
        views.append(UserView(BOOTSTRAP_ADMIN, ADMIN, None, None, True))
        views.sort(key=lambda view: view.username)
    return views


def users_exist() -> bool:
    """Whether anyone can sign in with a password: a user row, or UPWATCH_ADMIN_PASSWORD."""
    if _bootstrap_on():
        return True
    with get_engine().connect() as connection:
        return connection.execute(select(USERS.c.id).limit(1)).first() is not None


def sign_in(username: str, password: str) -> str | None:
    """The username when `password` is this user's (its last sign-in is recorded), else None.
    An unknown name costs as much time as a wrong password."""
    try:
        name = clean_username(username)
    except InvalidInput:
        spend_a_verification(password)
        return None
    if len(password) > 4 * 1024:
        return None
    now = utcnow()
    if name == BOOTSTRAP_ADMIN and _bootstrap_on():
        if not password_matches(password, get_settings()):
            return None
        with get_engine().begin() as connection:
            if _row(connection, name) is None:
                connection.execute(insert(USERS).values(username=name, role=ADMIN,
                                                        password_hash=None, created_at=now))
            connection.execute(update(USERS).where(USERS.c.username == name)
                               .values(last_sign_in_at=now))
        return name
    with get_engine().connect() as connection:
        row = _row(connection, name)
    if row is None or row.password_hash is None:
        spend_a_verification(password)
        return None
    if not hash_matches(row.password_hash, password):
        return None
    values: dict[str, Any] = {"last_sign_in_at": now}
    if needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    with get_engine().begin() as connection:
        connection.execute(update(USERS).where(USERS.c.id == row.id).values(**values))
    return name


# --- the role of a signed-in username, on every request --------------------------------------

_lock = threading.Lock()
# (read at, database URL, username -> role): kept per database, as tests switch databases
_roles: tuple[float, str, dict[str, str]] | None = None


def forget_roles() -> None:
    global _roles
    with _lock:
        _roles = None


def _all_roles() -> dict[str, str]:
    global _roles
    engine = get_engine()
    url = str(engine.url)
    with _lock:
        if _roles is not None and _roles[1] == url and time.monotonic() - _roles[0] < ROLES_TTL_S:
            return _roles[2]
    with engine.connect() as connection:
        # A row without a hash signs in only with UPWATCH_ADMIN_PASSWORD (see role_of).
        roles = {row.username: row.role for row in connection.execute(
            select(USERS.c.username, USERS.c.role).where(USERS.c.password_hash.is_not(None)))}
    with _lock:
        _roles = (time.monotonic(), url, roles)
    return roles


def role_of(username: str) -> str | None:
    """The current role of `username`, or None when there is no such user (any longer)."""
    if username == BOOTSTRAP_ADMIN and _bootstrap_on():
        return ADMIN
    return _all_roles().get(username)
