"""Configuration as code: export upwatch.yaml, and import one with its changes shown first."""

from domain.roles import ADMIN
from ui.auth import require_role

require_role(ADMIN)  # editors and viewers are told it is for admins only

import streamlit as st  # noqa: E402

from ui.config_import import render_configuration  # noqa: E402

st.title("Configuration")
render_configuration()
