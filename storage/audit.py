"""The audit log: who changed what and when, with the values before and after, secrets masked.

A write path calls `record` with the connection of its own transaction, so a change and its
entry are committed together or not at all. Every entry is also logged as one line (logger
`upwatch.audit`). Values are masked before they are stored or logged: a key that names a
credential (domain.monitor_input.is_secret_header) shows SECRET_MASK, and a URL's password too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from config.logging_setup import mask_url_passwords
from domain.monitor_input import SECRET_MASK, is_secret_header
from storage.db import get_engine
from storage.models import AuditEntry, utcnow
from storage.tables import table_of, utc

AUDIT = table_of(AuditEntry)
log = logging.getLogger("upwatch.audit")

# Who a change is recorded as when no signed-in person made it.
API_ACTOR = "api-token"  # the REST API's bearer token
# The dashboard records the signed-in username (single sign-on: the e-mail); "admin" is the
# bootstrap admin of UPWATCH_ADMIN_PASSWORD.
DASHBOARD_ADMIN = "admin"
CLI_ACTOR = "cli"  # `upwatch user ...` on the server's command line
MONITORS_FILE_ACTOR = "monitors-file"  # the monitors file applied at start
ACK_LINK_ACTOR = "ack-link"  # a notification's signed acknowledgement link (with the name typed)

MAX_PAGE = 500
Values = Mapping[str, Any] | None


def masked(value: Any, key: str = "") -> Any:
    """`value` with every credential replaced by SECRET_MASK, at any depth.

    Under a key that names a credential ("secrets", "token", "Authorization"), a mapping keeps
    its keys (which secrets are set is worth knowing) and loses its values.
    """
    if key and is_secret_header(key):
        if isinstance(value, Mapping):
            return {str(k): SECRET_MASK for k in value}
        return value if value in (None, "", SECRET_MASK) else SECRET_MASK
    if isinstance(value, Mapping):
        return {str(k): masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    if isinstance(value, str):
        return mask_url_passwords(value)
    return value


def changed_only(before: Mapping[str, Any], after: Mapping[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields an update changed: (their old values, their new values)."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    subject_kind: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor,
                "action": self.action, "subject_kind": self.subject_kind,
                "subject": self.subject, "before": self.before, "after": self.after}

    def summary(self) -> str:
        """"admin updated monitor api: interval 60 -> 30", as logged and listed."""
        line = f"{self.actor} {self.action} {self.subject_kind} {self.subject}"
        if self.action == "updated" and self.before is not None and self.after is not None:
            changes = ", ".join(f"{k} {_text(self.before.get(k))} -> {_text(self.after.get(k))}"
                                for k in self.after)
            return f"{line}: {changes}" if changes else line
        return line


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def record(connection: Connection, *, actor: str, action: str, subject_kind: str,
           subject: str, before: Values = None, after: Values = None) -> None:
    """Add one entry in the caller's transaction (and log it). `before` and `after` come
    unmasked: an update keeps the fields that changed, a new secret included (shown as the mask
    on both sides), and one that changed nothing is not recorded. Then every secret is masked."""
    old = dict(before) if before is not None else None
    new = dict(after) if after is not None else None
    if action == "updated" and old is not None and new is not None:
        old, new = changed_only(old, new)
        if not new:
            return
    old, new = masked(old), masked(new)
    at = utcnow()
    key = connection.execute(insert(AUDIT).values(
        at=at, actor=actor[:320], action=action, subject_kind=subject_kind,
        subject=subject[:200], before=old, after=new,
    )).inserted_primary_key
    assert key is not None
    entry = AuditView(int(key[0]), at, actor, action, subject_kind, subject, old, new)
    log.info("audit: %s", entry.summary())


def audit_page(limit: int = 50, before_id: int | None = None) -> list[AuditView]:
    """Up to `limit` entries, newest first, older than the entry `before_id` when given.
    (Callers hold `limit` to MAX_PAGE, plus one to learn whether more follow.)"""
    query = select(AUDIT).order_by(AUDIT.c.id.desc()).limit(max(1, limit))
    if before_id is not None:
        query = query.where(AUDIT.c.id < before_id)
    with get_engine().connect() as connection:
        return [AuditView(row["id"], utc(row["at"]), row["actor"], row["action"],
                          row["subject_kind"], row["subject"], row["before"], row["after"])
                for row in connection.execute(query).mappings()]


def audit_page_with_cursor(limit: int = 50, before_id: int | None = None
                           ) -> tuple[list[AuditView], int | None]:
    """A page of `limit` entries, newest first, and the id to pass as `before_id` for the next
    page (None: this is the last)."""
    entries = audit_page(limit + 1, before_id)
    shown = entries[:limit]
    return shown, (shown[-1].id if len(entries) > limit else None)
