"""The Configuration page: export the whole configuration as upwatch.yaml, and import one with
the changes shown first, as `upwatch export` and `upwatch apply -f FILE [--dry-run] [--prune]`.

A pasted or uploaded document is parsed with the CLI's rules (ui/config_document_rules) and the
web process's environment (its `${VARIABLE}` secrets), planned read-only (the dry run's lines),
and applied on "Apply" in one transaction, audited as the signed-in user. A wrong document
shows every problem with its line and column, and nothing is applied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import streamlit as st

from config.config_document import InvalidDocument, dump_document, parse_document
from config.document_positions import with_positions
from domain.limits import MAX_MONITORS_FILE_BYTES
from domain.roles import Action
from storage.config_apply import apply, export_document, plan
from ui.auth import dashboard_actor, permitted
from ui.config_document_rules import document_rules

PLANNED_KEY = "config_import_planned"  # the Outcome of "Show changes", until the text changes
TEXT_KEY = "config_import_text"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a document would change (or changed), or why it cannot be applied."""

    text: str
    prune: bool
    lines: list[str] = field(default_factory=list)
    changes: int = 0
    problems: list[str] = field(default_factory=list)


def _refused(text: str, prune: bool, refused: InvalidDocument) -> Outcome:
    return Outcome(text, prune, problems=with_positions(text, refused.problems))


def planned(text: str, prune: bool) -> Outcome:
    """The changes applying `text` would make (nothing is written), or its problems."""
    try:
        done = plan(parse_document(text, document_rules(), os.environ), prune)
    except InvalidDocument as refused:
        return _refused(text, prune, refused)
    return Outcome(text, prune, done.lines(), len(done.changes))


def applied(text: str, prune: bool, actor: str) -> Outcome:
    """Apply `text` in one transaction as `actor`: every change, or (problems) none."""
    try:
        done = apply(parse_document(text, document_rules(), os.environ), prune, actor=actor)
    except InvalidDocument as refused:
        return _refused(text, prune, refused)
    return Outcome(text, prune, done.lines(), len(done.changes))


def _show_problems(outcome: Outcome) -> None:
    st.error("This file was not applied, nothing changed. Fix these and show the changes again:")
    st.code("\n".join(outcome.problems), language=None)  # as written: the file's text, literal


def _uploaded_text() -> str | None:
    upload = st.file_uploader("Or upload upwatch.yaml", type=["yaml", "yml"])
    if upload is None:
        return None
    data = upload.getvalue()
    if len(data) > MAX_MONITORS_FILE_BYTES:
        st.error(f"The file is larger than {MAX_MONITORS_FILE_BYTES // 1024} KB.")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        st.error("The file is not UTF-8 text.")
        return None


def render_export() -> None:
    st.subheader("Export", anchor=False)
    st.caption("Monitors, status page, channels, routing, escalation and maintenance as one "
               "file; secrets as ${VARIABLE} references, never their values.")
    st.download_button("Export upwatch.yaml", dump_document(export_document()),
                       file_name="upwatch.yaml", mime="application/yaml")


def render_import() -> None:
    st.subheader("Import", anchor=False)
    st.caption("Upwatch is made to match the file: its changes are shown first, then applied "
               "in one step. Secrets are read from the server's environment variables.")
    pasted = st.text_area("upwatch.yaml", key=TEXT_KEY, height=300,
                          placeholder="monitors:\n  - name: API\n    url: https://...")
    text = _uploaded_text() or pasted
    prune = st.checkbox("Prune: delete what Upwatch has and the file does not")
    if st.button("Show changes", disabled=not text.strip()):
        st.session_state[PLANNED_KEY] = planned(text, prune)
    outcome: Outcome | None = st.session_state.get(PLANNED_KEY)
    if outcome is None or (outcome.text, outcome.prune) != (text, prune):
        return  # nothing planned yet, or the file or the choice changed since
    if outcome.problems:
        _show_problems(outcome)
        return
    st.code("\n".join(outcome.lines) or "nothing to change", language=None)
    if not outcome.changes:
        st.info("Upwatch already matches this file.")
        return
    if st.button(f"Apply {outcome.changes} changes", type="primary") \
            and permitted(Action.EDIT_ALERTING):
        done = applied(text, prune, dashboard_actor())
        st.session_state.pop(PLANNED_KEY, None)
        if done.problems:
            _show_problems(done)
        else:
            st.success(f"Applied: changed {done.changes} objects.")


def render_configuration() -> None:
    render_export()
    st.divider()
    render_import()
