"""The audit log in the dashboard: who changed what and when, newest first, a page at a time."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from storage.audit import AuditView, audit_page_with_cursor

PAGE_SIZE = 50
CURSORS_KEY = "audit_cursors"  # per older page opened: the id its entries come before


def _values(values: dict[str, Any] | None) -> str:
    if not values:
        return ""
    return "; ".join(f"{k}: {json.dumps(v, ensure_ascii=False, default=str)}"
                     for k, v in values.items())


def _row(entry: AuditView) -> dict[str, str]:
    return {"When (UTC)": entry.at.strftime("%Y-%m-%d %H:%M:%S"), "Who": entry.actor,
            "Did": entry.action, "What": f"{entry.subject_kind} {entry.subject}",
            "Before": _values(entry.before), "After": _values(entry.after)}


def _older(last_id: int) -> None:
    st.session_state[CURSORS_KEY] = [*st.session_state.get(CURSORS_KEY, []), last_id]


def _newer() -> None:
    st.session_state[CURSORS_KEY] = st.session_state.get(CURSORS_KEY, [])[:-1]


def render_audit_log() -> None:
    pages: list[int] = st.session_state.get(CURSORS_KEY, [])
    before_id = pages[-1] if pages else None
    shown, next_before = audit_page_with_cursor(PAGE_SIZE, before_id)
    if not shown:
        st.info("No changes recorded yet." if not pages else "No older changes.")
    else:
        st.caption(f"{len(shown)} changes, newest first. Secrets are never shown.")
        # Values came from users: the table shows them as text, never as Markdown.
        st.dataframe([_row(entry) for entry in shown], hide_index=True, key="audit_table")
    newer, older, _ = st.columns([1, 1, 5])
    newer.button("Newer", disabled=not pages, on_click=_newer, key="audit_newer")
    older.button("Older", disabled=next_before is None, on_click=_older,
                 args=(next_before or 0,), key="audit_older")
