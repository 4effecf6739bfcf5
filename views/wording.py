"""How the pages say things: user text as literal Markdown, field labels, times, periods,
counts (sizes and durations are core.units). See docs/architecture.md#layers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from core.counts import format_count
from core.domain import MEASUREMENT_UNITS
from core.units import format_duration

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
    "rated_current_a": "Rated current (A)",
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


def label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


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


# Where a field's form label says more than its name for one type (which fields a type has is
# core's table, core.grid.component_fields).
_TYPE_LABELS = {
    ("transformer", "voltage_kv"): "HV voltage (kV)",
    ("line", "voltage_kv"): "Nominal voltage (kV)",
    ("line", "to_substation"): "To substation (the line's other end; optional)",
    ("line", "rated_current_a"): "Rated current, A (optional: gives the line a current limit)",
}


def field_label(component_type: str, field: str) -> str:
    """A form field's label for a component of ``component_type``."""
    return _TYPE_LABELS.get((component_type, field), LABELS[field])


def count(amount: int, noun: str, plural: str | None = None) -> str:
    """``1 measurement``, ``2,000 measurements``: a count with its noun in agreement."""
    return format_count(amount, noun, plural)


def took(seconds: float) -> str:
    """A report's run time, short enough for a narrow column: ``0.25 s``, ``1.5 minutes``."""
    return f"{seconds:.2g} s" if seconds < 60 else format_duration(seconds)


# The header of the column that says each row's unit, where rows of several measurement types
# share one column of values (the component page's table, a report's daily tables).
UNIT = "Unit"


def unit_of(measurement_type: pl.Expr) -> pl.Expr:
    """Each row's unit (``kV``, ``A``, ``MW``) from its measurement type's name."""
    units = {kind.value: unit for kind, unit in MEASUREMENT_UNITS.items()}
    return measurement_type.replace_strict(units, default=None).alias(UNIT)
