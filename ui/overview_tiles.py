"""The tiles above the overview table: monitors per state, incidents, the engine's pace."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from domain.formatting import format_duration, state_label
from storage.overview import OverviewTiles

# The states shown as tiles, in the order an operator reads them; a "pending" tile joins them
# only while some monitor waits for its first verdict.
TILE_STATES = ("up", "degraded", "down", "paused", "maintenance")


def render_tiles(tiles: OverviewTiles) -> None:
    states = [*TILE_STATES] + (["pending"] if tiles.states.get("pending") else [])
    for column, state in zip(st.columns(len(states)), states, strict=True):
        column.metric(state_label(state), tiles.states.get(state, 0))
    incidents, unacknowledged, checks, behind = st.columns(4)
    incidents.metric("Open incidents", tiles.open_incidents)
    unacknowledged.metric("Not acknowledged", tiles.unacknowledged_incidents)
    checks.metric("Checks in the last minute", tiles.checks_last_minute)
    behind.metric("Behind schedule",
                  "on time" if tiles.behind_schedule_s < 1
                  else format_duration(timedelta(seconds=tiles.behind_schedule_s)),
                  help="How far past its due time the most overdue monitor's next check is "
                       "(interval plus timeout after its last check).")
