"""Bulk actions on the monitors selected in the overview: pause, resume, check now, delete.

Shown to those who may edit monitors, and each action checks the role again when it runs.
Delete asks first, naming how many monitors and which; the others act at once and say what
they did. The monitors acted on are the ones named when the button was pressed: a refresh of
the table in between cannot change them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import streamlit as st

from checks.check_now import check_and_record
from domain.formatting import plain
from domain.overview import OverviewRow
from domain.roles import Action
from storage.monitors import delete_monitor, get_monitor, set_paused
from ui.auth import dashboard_actor, may, permitted

PENDING_DELETE_KEY = "overview_pending_delete"
NOTICE_KEY = "overview_notice"
GENERATION_KEY = "overview_generation"
CHECKS_AT_ONCE = 8  # checks run side by side; each is bounded by its monitor's timeout


def _monitors(count: int) -> str:
    return f"{count} monitor" if count == 1 else f"{count} monitors"


def _names(slugs: Sequence[str], names: dict[str, str]) -> str:
    shown = ", ".join(plain(names.get(s, s)) for s in slugs[:10])
    return shown + (f" and {len(slugs) - 10} more" if len(slugs) > 10 else "")


def pause(slugs: Sequence[str], paused: bool) -> int:
    if not permitted(Action.EDIT_MONITORS):
        return 0
    actor = dashboard_actor()
    return sum(set_paused(slug, paused, actor=actor) is not None for slug in slugs)


def check_now(slugs: Sequence[str]) -> Counter[str]:
    """Check every monitor now (push monitors wait for their heartbeat); outcomes counted."""
    if not permitted(Action.EDIT_MONITORS):
        return Counter()
    monitors = [m for m in (get_monitor(s) for s in slugs) if m is not None]
    with ThreadPoolExecutor(CHECKS_AT_ONCE) as pool:
        results = list(pool.map(check_and_record, monitors))
    return Counter("waits for its push" if r is None else r.outcome for r in results)


def delete(slugs: Sequence[str]) -> int:
    if not permitted(Action.EDIT_MONITORS):
        return 0
    actor = dashboard_actor()
    return sum(delete_monitor(slug, actor=actor) for slug in slugs)


def _done(notice: str) -> None:
    """After an action: say what it did, and draw a fresh table with nothing selected."""
    st.session_state[NOTICE_KEY] = notice
    st.session_state[GENERATION_KEY] = st.session_state.get(GENERATION_KEY, 0) + 1


def _pause(slugs: list[str], paused: bool) -> None:
    verb = "Paused" if paused else "Resumed"
    _done(f"{verb} {_monitors(pause(slugs, paused))}.")


def _check(slugs: list[str]) -> None:
    outcomes = check_now(slugs)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    _done(f"Checked {_monitors(len(slugs))}: {summary}.")


def _ask_delete(named: tuple[tuple[str, str], ...]) -> None:
    st.session_state[PENDING_DELETE_KEY] = named


def _delete(slugs: list[str]) -> None:
    st.session_state.pop(PENDING_DELETE_KEY, None)
    _done(f"Deleted {_monitors(delete(slugs))}.")


def _cancel_delete() -> None:
    st.session_state.pop(PENDING_DELETE_KEY, None)


def table_generation() -> int:
    """Which table is drawn: a new one (nothing selected) after every action."""
    return int(st.session_state.get(GENERATION_KEY, 0))


def render_bulk_actions(selected: Sequence[OverviewRow]) -> None:
    """The buttons for the selected rows, and the delete confirmation. Each button acts on
    the rows selected when it was drawn (the ones the operator saw). None for a viewer."""
    if not may(Action.EDIT_MONITORS):
        return
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(notice)
    pending: tuple[tuple[str, str], ...] | None = st.session_state.get(PENDING_DELETE_KEY)
    if pending:
        slugs, names = [s for s, _ in pending], dict(pending)
        st.warning(f"Delete {_monitors(len(slugs))}: {_names(slugs, names)}? Their results, "
                   "history and badges go with them; this cannot be undone.")
        yes, no, _ = st.columns([2, 1, 4])
        yes.button(f"Delete {_monitors(len(slugs))}", type="primary", key="overview_delete_yes",
                   on_click=_delete, args=(slugs,))
        no.button("Cancel", key="overview_delete_no", on_click=_cancel_delete)
        return
    count = len(selected)
    st.caption(f"{_monitors(count)} selected" if count
               else "Select rows to act on several monitors at once")
    slugs = [row.slug for row in selected]
    pause_button, resume_button, check_button, delete_button, _ = st.columns([1, 1, 1, 1, 3])
    pause_button.button("Pause", disabled=not count, key="overview_pause",
                        on_click=_pause, args=(slugs, True))
    resume_button.button("Resume", disabled=not count, key="overview_resume",
                         on_click=_pause, args=(slugs, False))
    check_button.button("Check now", disabled=not count, key="overview_check",
                        on_click=_check, args=(slugs,))
    delete_button.button("Delete…", disabled=not count, key="overview_delete",
                         on_click=_ask_delete,
                         args=(tuple((row.slug, row.name) for row in selected),))
