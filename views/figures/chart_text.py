"""Text for Plotly charts: every name, label or message from data that a figure shows goes
through ``plain``, so it reads as typed. See docs/architecture.md#text-in-charts."""

from __future__ import annotations

# Plotly reads a subset of HTML in every text (<a href> links, <b>, <i>, <br>, <sub>, <sup>,
# <span style>) and entities; ``%{...}`` in a hover template names a value, and ``$...$`` is
# TeX where MathJax is loaded. Entities are how Plotly shows each of these characters as itself.
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "%": "&#37;", "$": "&#36;"})


def plain(text: str) -> str:
    """``text`` as Plotly shows it literally: no tag, entity, template variable or TeX in it
    is read, wherever it goes (a trace name, hover text or template, a tick label, a title)."""
    return text.translate(_ENTITIES)
