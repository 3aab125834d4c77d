"""Upwatch: `streamlit run app.py` serves the UI, the badges, the API and runs the probes."""

import streamlit as st

from web.server import Runtime, build_routes, make_lifespan

runtime = Runtime()

app = st.App(
    "router.py",
    routes=build_routes(runtime),
    lifespan=make_lifespan(runtime),
)
