"""Messages on screen: a domain error in words, and the flash that says what the last action
did after a rerun. See docs/architecture.md#layers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
import streamlit as st

from core.counts import format_count
from core.errors import (
    AuthenticationFailure,
    DeactivatedAccount,
    DuplicateComponent,
    GridBoardError,
    InvalidInput,
    LastManager,
    MissingPermission,
    SignInLockout,
    UnknownReference,
)
from core.import_errors import ImportRejection, UnreadableFile
from views.ui import browser_zone
from views.wording import label, literal, when_in


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def show_error(error: GridBoardError) -> None:
    """The one place where a domain error becomes a message on screen."""
    if isinstance(error, InvalidInput):
        lines = "\n".join(f"- **{label(p.field)}**: {literal(p.reason)}" for p in error.problems)
        st.error(f"Please correct this and try again:\n\n{lines}", icon=":material/edit:")
    elif isinstance(error, ImportRejection):
        count = error.total
        st.error(
            f"Nothing was imported: the file has {format_count(count, 'problem')}. "
            "Fix the lines below and upload the file again.",
            icon=":material/rule:",
        )
        st.dataframe(
            pl.DataFrame(
                {
                    "line": [p.line for p in error.shown],
                    "column": [p.column for p in error.shown],
                    "problem": [p.reason for p in error.shown],
                }
            ),
            hide_index=True,
        )
        if error.hidden_count:
            st.caption(f"... and {format_count(error.hidden_count, 'more problem')} not shown.")
    elif isinstance(error, UnreadableFile):
        st.error(
            f"Cannot read {literal(error.name)}: {literal(error.reason)}. Upload a UTF-8 CSV "
            "file with a header row (the template shows one) or a Parquet file.",
            icon=":material/description:",
        )
    elif isinstance(error, MissingPermission):
        st.error(f"Only a manager may {error.action}.", icon=":material/lock:")
    elif isinstance(error, LastManager):  # starts with a username: keep its case
        st.error(
            f"{literal(error.username)} is the last manager: make another user a manager first."
        )
    elif isinstance(error, DeactivatedAccount):
        st.error("This account is deactivated: ask a manager.", icon=":material/person_off:")
    elif isinstance(error, SignInLockout):  # the time on the browser's clock
        st.error(
            f"Too many failed sign-ins for {literal(repr(error.username))}: try again after "
            f"{when_in(error.until, browser_zone())[11:]}, or ask a manager to reset the "
            "password.",
            icon=":material/lock_clock:",
        )
    elif isinstance(error, AuthenticationFailure):
        st.error("Unknown username or wrong password. Check both and try again.")
    elif isinstance(error, UnknownReference):
        st.error(
            _sentence(f"{literal(error)}: it may have been deleted"), icon=":material/search_off:"
        )
    elif isinstance(error, DuplicateComponent):  # the same sentence, its names shown as typed
        st.error(
            _sentence(
                f"a component named {literal(repr(error.name))} already exists in substation "
                f"{literal(repr(error.substation))}"
            )
        )
    else:
        st.error(_sentence(literal(error)))


@contextmanager
def problems_shown() -> Iterator[None]:
    """Run one user action; a domain error it raises is shown, not raised."""
    try:
        yield
    except GridBoardError as error:
        show_error(error)


FLASH_KEY = "gridboard.flash"


def flash(message: str) -> None:
    """Say ``message`` at the top of the next run (after an ``st.rerun()`` that refreshes
    lists a change affected)."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")
