"""Badges to embed, per monitor, and the layout of the public status page (edited by editors and
admins; viewers see it)."""

import pandas as pd
import streamlit as st

from config.settings import get_settings
from domain.formatting import plain
from domain.monitor_input import InvalidInput
from domain.roles import Action
from storage.monitors import list_monitors
from storage.status import LayoutRow, page_layout, save_layout
from ui.auth import dashboard_actor, may, permitted, require_role
from ui.status_badge_snippets import badge_snippets, overall_snippet

require_role()
st.title("Badges and status page")
base_url = get_settings().public_url

st.header("Status page layout", anchor=False)
st.caption("Public monitors appear on /status in their group, groups in the order of their "
           "lowest member. The URL is shown only where you tick it.")
layout = page_layout()
table = pd.DataFrame([{"id": r.monitor_id, "Monitor": r.name, "Public": r.public,
                       "Group": r.group or "", "Order": r.sort_order, "Show URL": r.show_url}
                      for r in layout])
if not may(Action.EDIT_LAYOUT):
    st.dataframe(table, hide_index=True, column_config={"id": None}, key="layout_table")
else:
    edited = st.data_editor(
        table, hide_index=True, disabled=["id", "Monitor", "Public"], key="layout_editor",
        column_config={"id": None, "Order": st.column_config.NumberColumn(step=1)},
    )
    if st.button("Save layout", disabled=not layout) and permitted(Action.EDIT_LAYOUT):
        try:
            save_layout([LayoutRow(int(r["id"]), r["Monitor"], bool(r["Public"]),
                                   str(r["Group"] or ""), int(r["Order"] or 0),
                                   bool(r["Show URL"]))
                         for r in edited.to_dict("records")], actor=dashboard_actor())
            st.success("Saved. The status page shows the new layout within 10 seconds.")
        except InvalidInput as refused:
            for monitor, message in refused.errors.items():
                st.error(f"{plain(monitor)}: {message}")

st.header("Badges", anchor=False)
overall = overall_snippet(base_url)
st.markdown(f"**{overall.title}**")
st.code(overall.markdown, language="markdown")
public = [m for m in list_monitors() if m.public]
if not public:
    st.info("Badges exist for public monitors only: mark a monitor public to get its badges.")
for view in public:
    with st.expander(view.name):
        https = view.kind == "tls" or view.url.lower().startswith("https://")
        for snippet in badge_snippets(base_url, view.slug, view.name, https):
            st.markdown(f"**{snippet.title}** · [preview]({snippet.image_url}) · "
                        f"[shields JSON]({snippet.json_url})")
            st.code(snippet.markdown, language="markdown")
            st.code(snippet.html, language="html")
