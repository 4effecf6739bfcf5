"""Small helpers shared by the pages: the database, the report runner, the signed-in user,
error messages, and formatting. Pages draw; ``core`` decides."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.config import get_settings
from core.db import Database, open_database
from core.domain import Actor
from core.errors import (
    AuthenticationFailure,
    DuplicateComponent,
    GridBoardError,
    ImportRejection,
    InvalidInput,
    LastManager,
    MissingPermission,
    UnknownReference,
    UnreadableFile,
)
from core.reports.jobs import ReportRunner
from core.units import format_duration

ACTOR_KEY = "gridboard.actor"

# How fields are called on screen (core names them as stored).
LABELS = {
    "name": "Name",
    "substation": "Substation",
    "component_type": "Type",
    "capacity_mva": "Capacity (MVA)",
    "voltage_kv": "Voltage (kV)",
    "length_km": "Length (km)",
    "status": "Switch status",
    "to_substation": "To substation",
    "measurement_type": "Measurement type",
    "timestamp": "Time",
    "value": "Value",
    "username": "Username",
    "display_name": "Full name",
    "email": "Email",
    "password": "Password",
    "role": "Role",
    "time_zone": "Time zone",
    "start": "Start",
    "end": "End",
    "period": "Period",
}


TYPE_PLURALS = {"transformer": "Transformers", "line": "Lines", "switch": "Switches"}


@st.cache_resource(show_spinner=False)
def database() -> Database:
    """One engine (a connection pool) per app process; sessions are made per action."""
    return open_database()


def _stop_runner(runner: ReportRunner | None) -> None:
    if runner is not None:
        runner.stop(timeout=5)


@st.cache_resource(show_spinner=False, on_release=_stop_runner)
def report_runner() -> ReportRunner | None:
    """One background thread per app process that computes requested reports; none where the
    deployment leaves reports to ``gridboard worker`` (``GRIDBOARD_APP_RUNS_REPORTS=false``)."""
    if not get_settings().app_runs_reports:
        return None
    return ReportRunner(database()).start()


def only_through_app() -> None:
    """Make sure this run goes through ``app.py``: its sign-in and its ``st.navigation``.

    Streamlit (1.67, ``runtime/pages_manager.py``) sees the top-level ``pages/`` folder at
    the first session of a fresh server and runs its old pages-directory mode: every
    ``pages/*.py`` becomes a page that runs on its own, without ``app.py``, and ``app.py``
    itself runs nested inside that mode's navigation, until some run has called
    ``st.navigation``. Called first by ``app.py`` and by every page (through ``actor()``),
    before anything is drawn, this switches that mode off for the whole process, as
    ``st.navigation`` does, and reruns the same URL, now through ``app.py``.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.set_option("client.showSidebarNavigation", True)
        st.rerun()


def actor() -> Actor:
    """The signed-in user, as ``app.py`` read them from the database for this run.

    Every page asks first; a page run without a signed-in user draws nothing.
    """
    only_through_app()
    current: Actor | None = st.session_state.get(ACTOR_KEY)
    if current is None:
        st.stop()
    assert current is not None
    return current


def require_manager(action: str) -> Actor:
    """The signed-in manager; anyone else sees why not, and the page stops here.

    Navigation does not offer manager pages to users; this guards the page itself, and
    ``core`` refuses every write anyway.
    """
    current = actor()
    if not current.is_manager:
        st.error(f"Only a manager may {action}. Ask a manager if this needs doing.")
        st.stop()
    return current


# What makes Markdown (CommonMark, GitHub's tables and strikethrough, and Streamlit's own
# :color[...], :material/icon: and $LaTeX$) out of plain text: backslash-escaped in user data.
# Characters are escaped only where they could start or end something, so that ordinary text
# (a time 13:45, a SETTING_NAME) reads the same in the page's source.
_MARKDOWN_INLINE = re.compile(
    r"[\\`*~\[\]<>&$]"  # escapes, code, emphasis, strikethrough, links, HTML, entities, LaTeX
    r"|(?<![^\W_])_|_(?![^\W_])"  # an underscore emphasises unless inside a word
    r"|:(?=[^\W\d_])"  # :red[...], :material/bolt:, :smile:
)
_MARKDOWN_LINE_START = re.compile(r"^(\s*\d*)([-+=.)#])")  # a list item, heading, underline

# Streamlit's renderer also rewrites plain text after the Markdown is parsed, on text whose
# escapes are already resolved, so a backslash cannot stop it: GitHub's autolinks (www.x.y,
# http://, https://, name@host), :material_icon:, :streamlit:, emoji :shortcodes: and
# typographic arrows and dashes (a -> b, a -- b, >=, <=, ~=). An invisible WORD JOINER
# (U+2060) inside each such sequence keeps it from matching; the text reads the same.
WORD_JOINER = "\u2060"
_REWRITTEN = re.compile(
    r"(?<=:)(?=//)"  # http:// https://
    r"|(?<=[wW]{3})(?=\.)"  # www.
    r"|(?<=[-.+\w])(?=@)"  # name@host
    # :material_bolt:, :streamlit:, :smile:, and the emoji whose names start otherwise:
    # :+1:, :100:, :1st_place_medal:, :8ball: (not a time such as 13:45:00)
    r"|(?<=:)(?=[^\W\d_]|[+-]1:|100:|1234:|\d[\w-]*[^\W\d_][\w-]*:)"
)
_TYPOGRAPHY = re.compile(r"(?:(?<=\s)|^)([<>~-])(?=(?:->|-|=|>)(?:\s|$))")


def literal(text: object) -> str:
    """``text`` (a name, a file name, an error from stored data) as Markdown that shows exactly
    those characters: no link, image, emphasis, HTML, icon, emoji or Streamlit directive.
    Every label, title, caption and message that includes data people typed or uploaded goes
    through it; line breaks become spaces, so the text stays inside the sentence it is put in."""
    flat = " ".join(str(text).splitlines())
    joined = _TYPOGRAPHY.sub(r"\1" + WORD_JOINER, _REWRITTEN.sub(WORD_JOINER, flat))
    escaped = _MARKDOWN_INLINE.sub(lambda found: "\\" + found.group(), joined)
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", escaped)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


def show_error(error: GridBoardError) -> None:
    """The one place where a domain error becomes a message on screen."""
    if isinstance(error, InvalidInput):
        lines = "\n".join(f"- **{label(p.field)}**: {literal(p.reason)}" for p in error.problems)
        st.error(f"Please correct this and try again:\n\n{lines}", icon=":material/edit:")
    elif isinstance(error, ImportRejection):
        count = len(error.problems)
        st.error(
            f"Nothing was imported: the file has {count} problem{'s' * (count != 1)}. "
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
            st.caption(f"... and {error.hidden_count} more problems not shown.")
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


def when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def when_in(moment: datetime, time_zone: str) -> str:
    """``moment`` on the wall clock of ``time_zone``, with the zone's abbreviation
    (``2024-05-01 15:45 CEST``; ``UTC`` for UTC)."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or time_zone}"


def period(start: datetime, end: datetime, time_zone: str) -> str:
    """[start, end) as a person reads it: whole days as "first to last day", in the zone."""
    zone = ZoneInfo(time_zone)
    first, after = start.astimezone(zone), end.astimezone(zone)
    if first.time() == time() and after.time() == time():
        last = (after - timedelta(days=1)).date()
        days = f"{first:%Y-%m-%d}" + ("" if last == first.date() else f" to {last:%Y-%m-%d}")
        return f"{days} ({time_zone})"
    return f"{first:%Y-%m-%d %H:%M} to {after:%Y-%m-%d %H:%M} ({time_zone}, end excluded)"


def number(value: float | None, unit: str = "", *, blank: str = "-") -> str:
    if value is None:
        return blank
    return f"{value:g} {unit}".strip()


def days(dates: Iterable[date]) -> str:
    """``2024-05-01, 2024-05-03``: days in order, as a person reads a list of them."""
    return ", ".join(f"{day:%Y-%m-%d}" for day in sorted(dates))


def count(amount: int, noun: str) -> str:
    """``1 measurement``, ``2,000 measurements``: a count with its noun in agreement."""
    return f"{amount:,} {noun}{'s' * (amount != 1)}"


def took(seconds: float) -> str:
    """A report's run time, short enough for a narrow column: ``0.25 s``, ``1.5 minutes``."""
    return f"{seconds:.2g} s" if seconds < 60 else format_duration(seconds)


def pager(total: int, page_size: int, *, key: str) -> None:
    """A pager under a table of ``total`` rows when they fill more than one page.

    The page reads the chosen page number from ``st.session_state[key]`` before it loads
    its rows, so the pager is drawn after the table.
    """
    pages = max(1, -(-total // page_size))
    if pages > 1:
        st.pagination(pages, key=key)


def page_offset(page_size: int, *, key: str) -> int:
    """The offset of the page chosen in ``pager(key=key)`` (0 before it is drawn)."""
    return (int(st.session_state.get(key, 1)) - 1) * page_size


def query_id(name: str) -> int | None:
    """A positive id from the URL's query (``?component=12``), or ``None``."""
    raw = st.query_params.get(name, "")
    # ASCII digits only ("²" is a digit to isdigit() but not to int()), and few of them
    # (int() refuses more than 4300); a longer number names no component anyway.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        return None
    return int(raw) or None


def box_period(state: Any, *, time_zone: str = "UTC") -> tuple[datetime, datetime] | None:
    """The time span of a box drawn on a Plotly chart whose time axis shows wall-clock times
    in ``time_zone``, in UTC."""
    boxes = state.selection.box if state is not None else []
    if not boxes:
        return None
    low, high = sorted(boxes[0]["x"][:2])
    start, end = (_chart_time(low, time_zone), _chart_time(high, time_zone))
    return (start, end) if start < end else None


def _chart_time(value: object, time_zone: str) -> datetime:
    zone = ZoneInfo(time_zone)
    if isinstance(value, int | float):  # milliseconds since the epoch, as wall-clock time
        wall = datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)
        return wall.replace(tzinfo=zone).astimezone(UTC)
    parsed = datetime.fromisoformat(str(value))
    return (
        parsed.replace(tzinfo=zone).astimezone(UTC)
        if parsed.tzinfo is None
        else parsed.astimezone(UTC)
    )


def selected_row(state: Any) -> int | None:
    """The index of the row picked in a ``st.dataframe(on_select=...)``, if any."""
    rows = state.selection.rows if state is not None else []
    return int(rows[0]) if rows else None
