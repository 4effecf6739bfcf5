"""The inventory at a glance (a placeholder until the dashboard pages arrive)."""

import streamlit as st

from core.components import list_components
from pages.ui import database

st.title("GridBoard")
with database().read() as session:
    page = list_components(session=session, limit=1)

if page.total == 0:
    st.info("No components yet. Import some with `gridboard import-components FILE`.")
else:
    columns = st.columns(len(page.counts_by_type) + 1)
    columns[0].metric("Components", page.total)
    for column, (kind, count) in zip(columns[1:], page.counts_by_type.items(), strict=True):
        column.metric(kind.value.capitalize() + "s", count)
