"""The overview as one self-refreshing fragment: tiles, search and filters, table, bulk actions.

It refreshes every REFRESH_S seconds without losing the filters (they live in the address) or
the selection (kept by the table's key, which changes only when the filters change or an action
was taken, so a refresh never moves a selection to other monitors).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from domain.overview import OverviewFilter, OverviewRow, filtered
from domain.roles import Action
from storage.overview import OverviewTiles
from ui.auth import may, signed_in
from ui.overview_bulk import render_bulk_actions, table_generation
from ui.overview_filters import choose_filter
from ui.overview_table import render_table
from ui.overview_tiles import render_tiles

REFRESH_S = 10


@st.fragment(run_every=REFRESH_S)
def render_overview(read_rows: Callable[[], list[OverviewRow]],
                    read_tiles: Callable[[], OverviewTiles]) -> None:
    # Each refresh asks again who is signed in: a removed user's open tab stops showing data.
    if not signed_in():
        st.warning("You are signed out. Reload the page to sign in again.")
        return
    editor = may(Action.EDIT_MONITORS)
    rows = read_rows()
    render_tiles(read_tiles())
    if not rows:
        st.info("No monitors yet. " + ("Add one below." if editor else "An editor can add them."))
        return
    wanted = choose_filter(rows)
    shown = filtered(rows, wanted)
    if not shown:
        st.warning("No monitor matches these filters. Clear the search or a filter to see more.")
        return
    if not wanted.is_empty:
        st.caption(f"{len(shown)} of {len(rows)} monitors")
    selected = render_table(shown, table_key(wanted, table_generation()), selectable=editor)
    if editor:
        render_bulk_actions(selected)


def table_key(wanted: OverviewFilter, generation: int) -> str:
    """The table's key: the same across refreshes, new when the filters change or an action
    was taken (`generation`; both clear the selection)."""
    return f"overview_table_{generation}_{hash(wanted)}"
