"""Where the status page gets its figures: the process's read model when it runs, so a crowd of
visitors during an outage causes no database queries, else a short-lived cache."""

from __future__ import annotations

import streamlit as st

from storage.status import PublicStatus, public_status
from web.read_model import running_read_model

REFRESH_S = 10


@st.cache_resource(ttl=REFRESH_S, show_spinner=False)
def _cached_status() -> PublicStatus:
    # Immutable frozen dataclasses: shared between sessions without copying.
    return public_status()


def current_status() -> PublicStatus:
    model = running_read_model()
    if model is not None and model.snapshot.status is not None and model.is_fresh():
        return model.snapshot.status
    return _cached_status()
