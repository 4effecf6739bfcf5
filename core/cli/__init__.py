"""The ``gridboard`` command, one module per command group; ``main`` is its entry point.
See docs/architecture.md#the-command-line."""

from core.cli.program import main

__all__ = ["main"]
