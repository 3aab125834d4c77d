"""Upwatch: `streamlit run app.py` serves the UI, the badges, the API and runs the probes."""

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from composition.web_process import Runtime, build_routes, fast_routes, make_lifespan
from web.base_path import BasePathMiddleware
from web.fast_paths import FastPathMiddleware
from web.page_shell import PageShellMiddleware
from web.security_headers import SecurityHeadersMiddleware

# router.py navigates with st.navigation. Without this, Streamlit sees the pages/ folder and, until
# some session has run the router, serves a direct visit to /status in its legacy folder mode:
# the page without the router's login gate and menu, and a sidebar listing every page file.
PagesManager.uses_pages_directory = False

runtime = Runtime()
routes = build_routes(runtime)

app = st.App(
    "router.py",
    routes=routes,
    # Under --server.baseUrlPath, Upwatch's requests reach everything after it with the base
    # path taken off (web/base_path). Then the fast path: its answers from memory carry their
    # headers built in, so they skip the security-header middleware's pass over every answer.
    middleware=[Middleware(BasePathMiddleware, routes=routes),
                Middleware(FastPathMiddleware, routes=fast_routes(runtime),
                           read_model=runtime.read_model),
                Middleware(SecurityHeadersMiddleware),
                Middleware(PageShellMiddleware)],
    lifespan=make_lifespan(runtime),
)
