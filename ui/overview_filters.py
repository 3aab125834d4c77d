"""The overview's search and filters, each kept in the page's query parameters.

`/?q=api&state=down&group=Payments&tag=team-a&visibility=private` opens the overview filtered,
so a filtered view can be bookmarked or pasted into a chat; clearing a filter removes it from
the address.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from domain.overview import (
    VISIBILITIES,
    OverviewFilter,
    OverviewRow,
    Visibility,
    group_choices,
    tag_choices,
)
from domain.states import STATES

# The query parameter names: the widgets' keys.
SEARCH_KEY, STATE_KEY, GROUP_KEY, TAG_KEY = "q", "state", "group", "tag"
VISIBILITY_KEY = "visibility"


def _known(key: str, choices: Sequence[str]) -> None:
    """Drop values a bookmark or a hand-edited address names that are not choices any more
    (a deleted group, a tag no monitor has): the filter then says what it kept."""
    chosen = st.session_state.get(key)
    if isinstance(chosen, list) and any(value not in choices for value in chosen):
        st.session_state[key] = [value for value in chosen if value in choices]


def choose_filter(rows: Sequence[OverviewRow]) -> OverviewFilter:
    """The search box and the filters; returns what they ask for."""
    groups, tags = group_choices(rows), tag_choices(rows)
    _known(GROUP_KEY, groups)
    _known(TAG_KEY, tags)
    _known(STATE_KEY, list(STATES))
    if st.session_state.get(VISIBILITY_KEY) not in (None, *VISIBILITIES):
        st.session_state[VISIBILITY_KEY] = "all"
    search, state, group, tag, visibility = st.columns([3, 2, 2, 2, 2])
    text = search.text_input("Search", key=SEARCH_KEY, bind="query-params",
                             placeholder="Name, URL or tag")
    # Shown as stored ("down"), not as labelled: a bound widget reads the address by its text.
    states = state.multiselect("State", list(STATES), key=STATE_KEY, bind="query-params",
                               placeholder="Any state")
    chosen_groups = group.multiselect("Group", groups, key=GROUP_KEY, bind="query-params",
                                      placeholder="Any group")
    chosen_tags = tag.multiselect("Tag", tags, key=TAG_KEY, bind="query-params",
                                  placeholder="Any tag")
    shown: Visibility = visibility.selectbox(
        "Visibility", VISIBILITIES, key=VISIBILITY_KEY, bind="query-params") or "all"
    return OverviewFilter(text or "", frozenset(states), frozenset(chosen_groups),
                          frozenset(chosen_tags), shown)
