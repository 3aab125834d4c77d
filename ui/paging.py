"""A long list shown a page at a time: which page was picked, and the picker.

The number is read before the list (the list's query needs it) and the picker drawn after the
count is known, set to the page actually shown: a number past the end (incidents resolved out
of the list meanwhile) shows the last page, and the picker says so.
"""

from __future__ import annotations

import streamlit as st


def picked_page(key: str) -> int:
    """The page picked last with the picker under `key`; 1 before any pick."""
    return int(st.session_state.get(key, 1))


def page_picker(key: str, number: int, pages: int) -> None:
    """A picker of pages 1 to `pages`, showing `number`; none for a single page."""
    st.session_state[key] = number
    if pages > 1:
        st.number_input(f"Page (1 to {pages})", min_value=1, max_value=pages, step=1, key=key)
