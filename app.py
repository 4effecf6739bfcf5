"""GridBoard's entry point: page config, navigation, run. Pages draw; ``core`` decides."""

import streamlit as st

st.set_page_config(page_title="GridBoard", page_icon=":material/electric_bolt:", layout="wide")

navigation = st.navigation(
    [st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True)]
)
navigation.run()
