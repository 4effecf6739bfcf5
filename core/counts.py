"""How a count reads to a person, the same in the API, on the command line and in the pages:
``1 problem``, ``2,000 problems``. See docs/architecture.md#layers."""

from __future__ import annotations


def format_count(amount: int, noun: str, plural: str | None = None) -> str:
    """``1 problem``, ``2,000 problems``: a count with its noun in agreement (``plural`` for a
    noun that does not just take an s)."""
    return f"{amount:,} {noun if amount == 1 else plural or noun + 's'}"
