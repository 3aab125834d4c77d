"""The path the app is served under: Streamlit's `server.baseUrlPath` (`streamlit run app.py
--server.baseUrlPath upwatch`, `upwatch serve` with the same flag, or the variable
STREAMLIT_SERVER_BASE_URL_PATH), read from Streamlit's own settings so that its pages and
Upwatch's routes agree on one value.
"""

from __future__ import annotations

from streamlit import config as streamlit_config

from domain.links import base_path_of, under_base


def base_path() -> str:
    """"/upwatch" when served under /upwatch/, "" at the root."""
    return base_path_of(streamlit_config.get_option("server.baseUrlPath"))


def site_href(path: str) -> str:
    """What a browser is sent for the site path `path` (a link's href, a redirect)."""
    return under_base(base_path(), path)
