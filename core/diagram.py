"""A substation's single-line diagram as SVG text: ``substation_svg(view)`` draws the layout of
core/diagram_layout.py with IEC 60617-style symbols. Pure and deterministic (same view, same
bytes); every text is XML-escaped. See docs/design.md#the-single-line-diagram."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.orm import Session

from core.alarms.records import active_severities
from core.diagram_layout import (
    SYMBOL_HEIGHT,
    SYMBOL_TOP,
    Bar,
    Bay,
    Kind,
    Layout,
    Text,
    layout,
    text_width,
)
from core.errors import InvalidInput
from core.grid.substations import SubstationView, read_substation

# GridBoard's look (.streamlit/config.toml's primaryColor for the bars, Streamlit's text grey).
BAR_COLOUR = "#0b6e4f"
INK = "#31333f"
MUTED = "#6b6f7b"
LINK = "#0b6e4f"
FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"

# The hook for alarms (issue 29): a component's severity draws its symbol in this colour;
# a component with none keeps the ink.
SEVERITY_COLOURS = {"warning": "#b7791f", "alarm": "#c53030"}

# Characters XML 1.0 forbids (a stored name cannot hold them; drawn as U+FFFD should one come).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def escape(text: str) -> str:
    """``text`` as XML character data or a quoted attribute value: it can start no tag."""
    text = _NOT_XML.sub("\ufffd", text)
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text(text: Text, colour: str = INK) -> str:
    weight = ' font-weight="bold"' if text.bold else ""
    tip = f"<title>{escape(text.full)}</title>" if text.full else ""
    fill = colour if text.href is None else LINK
    body = (
        f'<text x="{_n(text.x)}" y="{_n(text.y)}" font-size="{text.size}" '
        f'text-anchor="{text.anchor}" fill="{fill}"{weight}>{tip}{escape(text.text)}</text>'
    )
    if text.href is None:
        return body
    return f'<a href="{escape(text.href)}">{body}</a>'


def _bar(bar: Bar) -> str:
    label = _text(bar.label, BAR_COLOUR if bar.is_bar else MUTED)
    if not bar.is_bar:
        return label
    line = (
        f'<line class="busbar" x1="{_n(bar.x0)}" y1="{_n(bar.y)}" x2="{_n(bar.x1)}" '
        f'y2="{_n(bar.y)}" stroke="{BAR_COLOUR}" stroke-width="5"/>'
    )
    return line + label


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"/>'


def _symbol(bay: Bay) -> str:
    """The bay's symbol from its bar down to ``SYMBOL_HEIGHT`` below ``SYMBOL_TOP``."""
    x, top = bay.x, bay.bar_y + SYMBOL_TOP
    bottom = top + SYMBOL_HEIGHT
    if bay.kind is Kind.TRANSFORMER:  # two windings, the secondary side left open
        return (
            _line(x, bay.bar_y, x, top)
            + f'<circle cx="{_n(x)}" cy="{_n(top + 14)}" r="14" fill="none"/>'
            + f'<circle cx="{_n(x)}" cy="{_n(top + 34)}" r="14" fill="none"/>'
            + _line(x, top + 48, x, bottom)
        )
    if bay.kind is Kind.FEEDER:  # a line leaving the bar; the arrow points the way it is stored
        tip, base = (bottom, bottom - 12) if not bay.arriving else (bottom - 12, bottom)
        arrow = f"{_n(x - 7)},{_n(base)} {_n(x + 7)},{_n(base)} {_n(x)},{_n(tip)}"
        return _line(x, bay.bar_y, x, bottom - 12) + f'<polygon points="{arrow}"/>'
    # A coupler: a switch between two stubs, its blade closed on the line or swung open.
    upper, lower = top + 12, bottom - 12
    blade = _line(x, lower, x, upper) if bay.closed else _line(x, lower, x + 18, upper + 6)
    return (
        _line(x - 20, bay.bar_y, x + 20, bay.bar_y)
        + _line(x, bay.bar_y, x, upper)
        + _line(x - 6, upper, x + 6, upper)
        + blade
        + _line(x, lower, x, bottom)
        + _line(x - 20, bottom, x + 20, bottom)
    )


def _bay(bay: Bay, colour: str) -> str:
    state = "" if bay.closed is None else f' data-state="{"closed" if bay.closed else "open"}"'
    name, rest = bay.labels[0], bay.labels[1:]
    hit = (
        f'<rect x="{_n(bay.x - 40)}" y="{_n(bay.bar_y + 4)}" width="80" '
        f'height="{_n(SYMBOL_TOP + SYMBOL_HEIGHT)}" fill="#ffffff" fill-opacity="0"/>'
    )
    symbol = (
        f'<a href="{escape(bay.href)}"><g class="symbol" stroke="{colour}" stroke-width="2" '
        f'fill="{colour}">{hit}{_symbol(bay)}</g></a>'
    )
    return (
        f'<g class="bay {bay.kind.value}" data-component="{bay.component_id}"{state}>'
        f"{symbol}{_text(name)}{''.join(_text(label, MUTED) for label in rest)}</g>"
    )


def _colour(component_id: int, severities: Mapping[int, str]) -> str:
    severity = severities.get(component_id)
    if severity is None:
        return INK
    if severity not in SEVERITY_COLOURS:
        known = ", ".join(SEVERITY_COLOURS)
        raise InvalidInput.single("severity", f"unknown severity {severity!r}; one of {known}")
    return SEVERITY_COLOURS[severity]


def draw(plan: Layout, severities: Mapping[int, str], name: str) -> str:
    """The SVG text of ``plan``; ``severities`` colours components in alarm."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(plan.width)}" '
        f'height="{_n(plan.height)}" viewBox="0 0 {_n(plan.width)} {_n(plan.height)}" '
        f'font-family="{FONT}" role="img" aria-label="{escape(f"Single-line diagram of {name}")}">',
        f"<title>{escape(f'Single-line diagram of {name}')}</title>",
        f'<rect width="{_n(plan.width)}" height="{_n(plan.height)}" fill="#ffffff"/>',
        _text(plan.title),
        _text(plan.subtitle, MUTED),
        *(_bar(bar) for bar in plan.bars),
        *(_bay(bay, _colour(bay.component_id, severities)) for bay in plan.bays),
        "</svg>\n",
    ]
    return "".join(parts)


def substation_svg(view: SubstationView, *, severities: Mapping[int, str] | None = None) -> str:
    """``view``'s single-line diagram as SVG text. ``severities`` (component id -> a key of
    ``SEVERITY_COLOURS``) is for alarms; none by default."""
    return draw(layout(view), severities or {}, view.name)


def substation_diagram(*, session: Session, name: str) -> str:
    """The diagram of the substation called ``name`` as stored now (``UnknownSubstation``
    when there is none), each component in an active alarm in its severity's colour: what the
    page shows, the API answers and the CLI writes."""
    view = read_substation(session=session, name=name)
    shown = [m.component.id for m in view.members] + [c.line.id for c in view.connections]
    return substation_svg(view, severities=active_severities(session, shown))


def link_areas(view: SubstationView) -> list[tuple[tuple[int, int, int, int], str, str]]:
    """Where a click on the drawing of ``view`` goes: each bay's symbol and each linked label
    as a box (left, top, right, bottom, in the SVG's pixels), its relative URL and what it
    names; for a page that shows the SVG as an image (an HTML image map)."""
    plan = layout(view)
    areas = []
    for bay in plan.bays:
        top = bay.bar_y + 4
        symbol = (
            round(bay.x - 40),
            round(top),
            round(bay.x + 40),
            round(top + SYMBOL_TOP + SYMBOL_HEIGHT),
        )
        areas.append((symbol, bay.href, bay.labels[0].full or bay.labels[0].text))
        for label in bay.labels:
            if label.href is not None:
                half = text_width(label.text, label.size) / 2
                box = (
                    round(label.x - half),
                    round(label.y - label.size),
                    round(label.x + half),
                    round(label.y + 3),
                )
                areas.append((box, label.href, label.full or label.text))
    return areas
