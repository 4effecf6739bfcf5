"""Where each part of a substation's single-line diagram goes: busbars per voltage level, bays
in rows, every label's text and place. Pure geometry from a ``SubstationView``; core/diagram.py
draws it. See docs/design.md#the-single-line-diagram."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from core.domain import MEASUREMENT_UNITS, ComponentType, MeasurementType
from core.grid.substations import Latest, SubstationView

# Labels are set in a monospace font, so a text's width is its length in cells times this
# share of the font size (a wide East Asian character takes two cells): the estimate the
# layout truncates to and the tests check boxes with.
CELL_EM = 0.6
FONT_SIZE = 11
TITLE_SIZE = 16
LEVEL_SIZE = 12
LINE_HEIGHT = 14

COLUMNS = 6  # bays per row: a level with more wraps into further rows of its bar
BAY_WIDTH = 190
GUTTER = 100  # left of the bars: each row's level label
MARGIN = 20
TOP = 64  # title and subtitle above the first bar
SYMBOL_TOP = 22  # from the bar down to where a bay's symbol starts
SYMBOL_HEIGHT = 56
LABEL_GAP = 16
LABEL_LINES = 8  # the most lines any bay's label has (a line's: 3 + 3 values + 2 times)
ROW_HEIGHT = SYMBOL_TOP + SYMBOL_HEIGHT + LABEL_GAP + LABEL_LINES * LINE_HEIGHT + 22
SECTION_GAP = 18

TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"  # measurements are stored in UTC
VALUE_SYMBOLS = {
    MeasurementType.VOLTAGE: "U",
    MeasurementType.CURRENT: "I",
    MeasurementType.POWER: "P",
}


class Kind(StrEnum):
    """What a bay holds: its symbol."""

    TRANSFORMER = "transformer"
    FEEDER = "feeder"  # a line, leaving or arriving
    COUPLER = "coupler"  # a switch: the model records no feeder for it (docs/design.md)


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str  # as drawn (cut to fit, with an ellipsis)
    size: int = FONT_SIZE
    bold: bool = False
    anchor: str = "middle"  # SVG text-anchor: middle or start
    href: str | None = None  # a relative URL in the app
    full: str | None = None  # the whole text when ``text`` was cut (shown as a tooltip)


@dataclass(frozen=True, slots=True)
class Bay:
    component_id: int
    kind: Kind
    x: float  # the bay's centre line
    bar_y: float  # where it leaves its bar (a coupler: its top stub)
    closed: bool | None  # a switch's stored state; None for other kinds
    arriving: bool  # a feeder that belongs to the other substation and ends here
    href: str
    labels: tuple[Text, ...]


@dataclass(frozen=True, slots=True)
class Bar:
    y: float
    x0: float
    x1: float
    label: Text
    is_bar: bool  # False: the row of couplers (switches), drawn without a busbar


@dataclass(frozen=True, slots=True)
class Layout:
    width: float
    height: float
    title: Text
    subtitle: Text
    bars: tuple[Bar, ...]
    bays: tuple[Bay, ...]


def cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_width(text: str, size: int) -> float:
    return cells(text) * size * CELL_EM


def fit(text: str, width: float, size: int = FONT_SIZE) -> str:
    """``text`` cut with an ellipsis so that it is at most ``width`` wide."""
    if text_width(text, size) <= width:
        return text
    room = int(width // (size * CELL_EM)) - 1
    kept = []
    for ch in text:
        room -= cells(ch)
        if room < 0:
            break
        kept.append(ch)
    return "".join(kept) + "…"


def number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def level_name(voltage_kv: float) -> str:
    return f"{number(voltage_kv)} kV"


def component_href(component_id: int) -> str:
    return f"component?component={component_id}"


def substation_href(name: str) -> str:
    return f"substation?name={quote(name, safe='')}"


def _times(latest: dict[MeasurementType, Latest]) -> list[str]:
    stamps = sorted({found.timestamp for found in latest.values()})
    if not stamps:
        return ["no measurement yet"]
    if len(stamps) == 1:
        return [f"at {stamps[0]:{TIME_FORMAT}}"]
    return [f"{stamps[0]:{TIME_FORMAT}} to", f"{stamps[-1]:{TIME_FORMAT}}"]


def _values(latest: dict[MeasurementType, Latest]) -> list[str]:
    return [
        f"{VALUE_SYMBOLS[kind]} {number(latest[kind].value)} {MEASUREMENT_UNITS[kind]}"
        for kind in MeasurementType
        if kind in latest
    ]


@dataclass(frozen=True, slots=True)
class _Item:
    """One bay before it is placed: its component, kind, state and label lines."""

    component_id: int
    kind: Kind
    closed: bool | None
    arriving: bool
    lines: tuple[tuple[str, bool, str | None], ...]  # text, bold, href


def _items(view: SubstationView) -> dict[float | None, list[_Item]]:
    """Each bar's bays by voltage level (``None``: the couplers), in drawing order."""
    by_level: dict[float | None, list[_Item]] = {}
    for member in view.of_type(ComponentType.TRANSFORMER):
        c = member.component
        lines = [
            (c.name, True, component_href(c.id)),
            (f"{number(c.capacity_mva or 0)} MVA · {level_name(c.voltage_kv or 0)}", False, None),
            *[(text, False, None) for text in _values(member.latest) + _times(member.latest)],
        ]
        item = _Item(c.id, Kind.TRANSFORMER, None, False, tuple(lines))
        by_level.setdefault(c.voltage_kv, []).append(item)
    for connection in view.connections:
        c = connection.line
        end = connection.other_end
        where = (
            (f"{'to' if connection.starts_here else 'from'} {end}", False, substation_href(end))
            if end
            else ("far end not stored", False, None)
        )
        lines = [
            (c.name, True, component_href(c.id)),
            (f"{number(c.length_km or 0)} km · {level_name(c.voltage_kv or 0)}", False, None),
            where,
            *[(t, False, None) for t in _values(connection.latest) + _times(connection.latest)],
        ]
        item = _Item(c.id, Kind.FEEDER, None, not connection.starts_here, tuple(lines))
        by_level.setdefault(c.voltage_kv, []).append(item)
    for member in view.of_type(ComponentType.SWITCH):
        c = member.component
        closed = c.status is not None and c.status.value == "closed"
        lines = [
            (c.name, True, component_href(c.id)),
            ("closed" if closed else "open", False, None),
            *[(text, False, None) for text in _values(member.latest) + _times(member.latest)],
        ]
        by_level.setdefault(None, []).append(_Item(c.id, Kind.COUPLER, closed, False, tuple(lines)))
    levels = sorted((kv for kv in by_level if kv is not None), reverse=True)
    return {kv: by_level[kv] for kv in [*levels, *([None] if None in by_level else [])]}


def _rows(items: Sequence[_Item]) -> Iterable[Sequence[_Item]]:
    for start in range(0, len(items), COLUMNS):
        yield items[start : start + COLUMNS]


def _label(item: _Item, x: float, top: float) -> tuple[Text, ...]:
    room = BAY_WIDTH - 12
    placed = []
    for number_, (text, bold, href) in enumerate(item.lines):
        shown = fit(text, room)
        full = text if shown != text else None
        placed.append(Text(x, top + number_ * LINE_HEIGHT, shown, bold=bold, href=href, full=full))
    return tuple(placed)


def layout(view: SubstationView) -> Layout:
    """Where everything of ``view``'s diagram goes: one bar per voltage level, highest first,
    its bays (transformers, then lines by name) in rows of ``COLUMNS``; then the switches."""
    sections = _items(view)
    widest = max((min(len(items), COLUMNS) for items in sections.values()), default=1)
    width = GUTTER + max(widest, 3) * BAY_WIDTH + MARGIN
    bars: list[Bar] = []
    bays: list[Bay] = []
    y = TOP + 24.0
    for level, items in sections.items():
        for row in _rows(items):
            name = level_name(level) if level is not None else "Switches"
            label = Text(
                MARGIN, y + 4, fit(name, GUTTER - MARGIN - 4, LEVEL_SIZE), LEVEL_SIZE, True, "start"
            )
            x1 = GUTTER + len(row) * BAY_WIDTH
            bars.append(Bar(y, GUTTER - 6, x1, label, is_bar=level is not None))
            for column, item in enumerate(row):
                x = GUTTER + column * BAY_WIDTH + BAY_WIDTH / 2
                labels = _label(item, x, y + SYMBOL_TOP + SYMBOL_HEIGHT + LABEL_GAP)
                href = component_href(item.component_id)
                bays.append(
                    Bay(
                        item.component_id, item.kind, x, y, item.closed, item.arriving, href, labels
                    )
                )
            y += ROW_HEIGHT
        y += SECTION_GAP
    newest = view.newest
    subtitle = f"{len(bays)} components · newest measurement " + (
        f"{newest:{TIME_FORMAT}}" if newest else "none yet"
    )
    title = Text(
        MARGIN, 28, fit(view.name, width - 2 * MARGIN, TITLE_SIZE), TITLE_SIZE, True, "start"
    )
    if title.text != view.name:
        title = Text(title.x, title.y, title.text, TITLE_SIZE, True, "start", full=view.name)
    return Layout(
        width=width,
        height=y + MARGIN,
        title=title,
        subtitle=Text(MARGIN, 48, fit(subtitle, width - 2 * MARGIN), FONT_SIZE, False, "start"),
        bars=tuple(bars),
        bays=tuple(bays),
    )
