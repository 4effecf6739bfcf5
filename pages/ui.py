"""Small helpers shared by the pages: the database handle and error messages."""

from __future__ import annotations

import streamlit as st

from core.db import Database, open_database


@st.cache_resource(show_spinner=False)
def database() -> Database:
    """One engine (a connection pool) per app process; sessions are made per action."""
    return open_database()
