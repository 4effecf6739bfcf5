"""Widgets several pages share: picking a component, importing a file, the auto-refresh choices,
expanders that stay open.
See docs/architecture.md#layers."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

import streamlit as st

from core.domain import Actor
from core.errors import UnknownComponent
from core.grid.components import ComponentRecord, get_component, list_components
from core.imports import ImportKind, preview_file, run_import
from core.imports.preview import PROBLEM
from core.units import format_bytes
from views import messages, resources, wording

PREVIEW_ROWS = 10
# The pages that refresh themselves (a component's charts, a substation's diagram) offer these.
REFRESH: dict[str, int | None] = {"off": None, "10 s": 10, "1 min": 60}


def kept_open(key: str) -> Callable[[], None]:
    """An ``on_change`` for the widgets inside the expander keyed ``key`` (made with
    ``st.expander(..., key=key, on_change="rerun")``, which keeps its state): a change to one
    of them leaves its expander open through the rerun it causes."""

    def keep() -> None:
        st.session_state[key] = True

    return keep


def picker_keys(key: str) -> tuple[str, str]:
    """The session-state keys of ``pick_component(key=key)``: its search box and its choice."""
    return f"{key}.q", f"{key}.id"


def pick_component(*, key: str, linked: int | None = None) -> ComponentRecord | None:
    """A search box and a list of the components it matches (the first 100); the chosen one.

    ``linked`` (an id from the URL) is preselected. ``None`` when nothing matches, after
    saying what to do.
    """
    search_key, choice_key = picker_keys(key)
    search = st.text_input("Find a component", placeholder="Name or substation", key=search_key)
    with resources.database().read() as session:
        found = list_components(session=session, search=search, limit=100)
        choices = {c.id: c for c in found.items}
        if linked and linked not in choices:
            with suppress(UnknownComponent):
                choices = {linked: get_component(session=session, component_id=linked), **choices}
    if not choices:
        st.info(
            "No component matches. Clear the search, or create or import components first."
            if search
            else "No components yet. A manager creates or imports them on Manage components."
        )
        return None
    st.caption(_matched(found.total, len(found.items), search))
    ids = list(choices)
    chosen = st.selectbox(
        "Component",
        ids,
        index=ids.index(linked) if linked in choices else 0,
        format_func=lambda i: (
            f"{choices[i].name} · {choices[i].substation} ({choices[i].component_type})"
        ),
        key=choice_key,
    )
    return choices[chosen]


def _matched(total: int, listed: int, search: str) -> str:
    """What the list under the search box holds: how many components the search matches
    (all of them without one), and whether only the first are listed."""
    matched = (
        f"{wording.count(total, 'component')} {'matches' if total == 1 else 'match'} the search"
        if search.strip()
        else f"{wording.count(total, 'component')} in all"
    )
    if total > listed:
        return f"{matched}; the first {listed:,} are listed. Type more to narrow down."
    return f"{matched}."


def import_file(
    *, what: ImportKind, actor: Actor, template: str | bytes, file_types: list[str], existing: str
) -> None:
    """Template download, upload, preview, skip-or-overwrite choice, and the import itself
    (``what`` rows for ``actor``), with progress and the full validation report."""
    st.download_button(
        "Download a template CSV",
        data=template,
        file_name=f"{what}_template.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    uploaded = st.file_uploader(f"{what.capitalize()} file", type=file_types, key=f"{what}.file")
    if uploaded is None:
        st.caption("Choose a file: you see a preview before anything is written.")
        return
    data = uploaded.getvalue()
    with messages.problems_shown():
        preview = preview_file(source=data, file_name=uploaded.name, rows=PREVIEW_ROWS)
        st.dataframe(preview, hide_index=True)
        if PROBLEM in preview.columns:
            st.warning(
                "Some rows have more or fewer fields than the header (a decimal comma, as in "
                "12,5, splits a number in two): the import refuses them, as the problem "
                "column says. Use a dot for decimals.",
                icon=":material/rule:",
            )
        st.caption(
            f"The first rows of {wording.literal(uploaded.name)} ({format_bytes(len(data))}) "
            "as the file has them; every row is checked when you import."
        )
    overwrite = st.radio(
        existing,
        [False, True],
        format_func=lambda o: (
            "Overwrite them with the file's values" if o else "Skip and count them"
        ),
        horizontal=True,
        key=f"{what}.overwrite",
    )
    allow_implausible = what == "measurements" and st.checkbox(
        "Allow implausible values for this import",
        key=f"{what}.allow_implausible",
        help="A voltage over 2x the component's nominal kV, a negative current or a power "
        "beyond its rating is refused by default; allowing it is recorded in the audit log.",
    )
    if not st.button(
        f"Import {wording.literal(uploaded.name)}", type="primary", icon=":material/upload:"
    ):
        return
    bar = st.progress(0.0, text="Checking every row...")

    def progress(fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=f"Importing... {fraction:.0%}")

    with messages.problems_shown():
        summary = run_import(
            database=resources.database(), actor=actor, kind=what, source=data,
            file_name=uploaded.name, overwrite=overwrite, allow_implausible=allow_implausible,
            progress=progress,
        )  # fmt: skip
        existing_rows = (
            f"{summary.overwritten:,} overwritten" if overwrite else f"{summary.skipped:,} skipped"
        )
        st.success(
            f"Imported {wording.literal(uploaded.name)}: {wording.count(summary.rows, 'row')}, "
            f"{summary.inserted:,} {what} added, "
            f"{existing_rows} (already stored).",
            icon=":material/check_circle:",
        )
        if summary.created_substations:
            st.info(
                "New substations: "
                + ", ".join(wording.literal(name) for name in summary.created_substations),
                icon=":material/add_location:",
            )
        for note in summary.notes():
            st.caption(note.capitalize() + ".")
    bar.empty()
