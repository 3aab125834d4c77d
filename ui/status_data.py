"""Where the status page gets its figures: the process's read model when it runs, so a crowd of
visitors during an outage causes no database queries, else a short-lived cache."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from readmodel.board_payload import board_payload
from readmodel.read_model import running_read_model
from storage.status import PublicStatus, public_status

REFRESH_S = 10
FIRST_SNAPSHOT_WAIT_S = 15.0  # a first build takes seconds on a big database; past it, read here


@dataclass(frozen=True)
class StatusPage:
    status: PublicStatus
    board: bytes  # the components, as the status board draws them (readmodel/board_payload)


@st.cache_resource(ttl=REFRESH_S, show_spinner=False)
def _cached_page() -> StatusPage:
    # Immutable: shared between sessions without copying, the board built once per status.
    status = public_status()
    return StatusPage(status, board_payload(status))


def current_page() -> StatusPage:
    model = running_read_model()
    if model is not None and not model.snapshot.known:
        model.wait_for_first_snapshot(FIRST_SNAPSHOT_WAIT_S)  # just started: it is being built
    if model is not None and model.is_fresh():
        snapshot = model.snapshot  # read once: the status and its bars from the same one
        if snapshot.status is not None:
            return StatusPage(snapshot.status, snapshot.board)
    return _cached_page()
