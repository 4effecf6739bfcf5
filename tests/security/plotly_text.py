"""A model of how plotly.js draws the text of a figure (``src/lib/svg_text_utils.js`` and
``Lib.templateString``): what a person reads of each text, and what in it Plotly would act on.

Plotly splits every text on ``<[^<>]*>`` and reads each piece that matches as a tag (``<a href>``
becomes a link, ``<b>``, ``<i>``, ``<span style>``, ``<sub>``, ``<sup>``, ``<br>`` change the text,
any other tag vanishes); it turns the entities of its table and numeric ones into characters,
one pass; a hover template's ``%{...}`` is replaced by a value; ``$...$`` is TeX where MathJax is
loaded. The regular expressions are plotly.js's own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

TAG = re.compile(r"(<[^<>]*>)")
ENTITY = re.compile(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);")
ENTITIES = {
    "mu": "\u03bc", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "times": "\xd7",
    "plusmn": "\xb1", "deg": "\xb0",
}  # fmt: skip
TEMPLATE = re.compile(r"%{([^\s%{}:]*)([:|\|][^}]*)?}")
TEX = re.compile(r"([^$]*)([$]+[^$]*[$]+)([^$]*)")
TEMPLATE_KEYS = {"hovertemplate", "texttemplate"}
# Keys Plotly never draws as text (customdata only through a template that names it).
NOT_TEXT = {"customdata", "legendgroup", "uid", "ids", "bdata", "dtype"}
# The markup GridBoard writes itself: bold names on the network, line breaks, and the
# ``<extra></extra>`` that hides a hover label's second box.
OWN_TAGS = {"<b>", "</b>", "<br>", "<extra>", "</extra>"}
OWN_VARIABLES = {"x", "y", "customdata[0]", "customdata[1]"}
FILLED = "\ufffd"  # where Plotly puts a template's value


def _entity(found: re.Match[str]) -> str:
    name = found.group(1)
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return ENTITIES.get(name, found.group(0))


def shown(text: str, *, template: bool = False) -> str:
    """What a person reads of ``text`` in the chart."""
    if template:
        text = TEMPLATE.sub(FILLED, text)
    pieces = TAG.split(text)
    return "".join(
        "\n"
        if piece.lower() == "<br>"
        else ""
        if TAG.fullmatch(piece)
        else ENTITY.sub(_entity, piece)
        for piece in pieces
    )


def acted_on(text: str, *, template: bool = False) -> list[str]:
    """What in ``text`` Plotly would act on that GridBoard did not write: a tag, a template
    variable, TeX."""
    found = [tag for tag in TAG.findall(text) if tag.lower() not in OWN_TAGS]
    if template:
        found += [m.group(0) for m in TEMPLATE.finditer(text) if m.group(1) not in OWN_VARIABLES]
    tex = TEX.match(text)
    if tex:
        found.append(f"TeX {tex.group(2)}")
    return found


def texts(figure: dict[str, Any] | str) -> Iterator[tuple[str, str, bool]]:
    """Every text of a figure (its JSON, or the spec Streamlit sends): ``(where, text,
    is_template)``; a trace's ``customdata`` is text where one of its templates names it."""
    spec = json.loads(figure) if isinstance(figure, str) else figure
    for number, trace in enumerate(spec.get("data", [])):
        templates = json.dumps([trace.get(key) for key in TEMPLATE_KEYS])
        for key, value in trace.items():
            if key == "customdata" and "customdata" in templates:
                yield from _strings(value, f"data[{number}].customdata", False)
            elif key not in NOT_TEXT:
                yield from _strings(value, f"data[{number}].{key}", key in TEMPLATE_KEYS)
    yield from _strings(spec.get("layout", {}), "layout", False)


def _strings(value: Any, where: str, template: bool) -> Iterator[tuple[str, str, bool]]:
    if isinstance(value, str):
        yield where, value, template
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key not in NOT_TEXT:
                yield from _strings(inner, f"{where}.{key}", template or key in TEMPLATE_KEYS)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, f"{where}[{index}]", template)
