"""What the command groups share: the ``Command`` record, argument types, the progress line.
See docs/architecture.md#the-command-line."""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, TextIO

from core.config import get_settings
from core.db import Database, open_database
from core.errors import GridBoardError
from core.timestamps import BadTimestamp, parse_timestamp


class CommandFailure(GridBoardError):
    """A command that ran but could not finish; the message says what was kept."""


URL_HELP = "SQLAlchemy database URL (default: GRIDBOARD_DATABASE_URL, else data/gridboard.db)"


def url_option(parser: argparse.ArgumentParser) -> None:
    """``--database-url`` after a command's (or action's) name too, where it overrides the one
    given before it and leaves it alone when not given."""
    parser.add_argument("--database-url", default=argparse.SUPPRESS, help=URL_HELP)


def actions_of(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any]:
    """The actions of a command that has several (``alarms list``, ``webhooks add``)."""
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")


def action(
    actions: argparse._SubParsersAction[Any], name: str, help: str
) -> argparse.ArgumentParser:
    """One action of ``actions``, which takes ``--database-url`` as every command does."""
    sub: argparse.ArgumentParser = actions.add_parser(name, help=help, description=help)
    url_option(sub)
    return sub


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """For a command that takes none beyond ``--database-url``."""


@dataclass(frozen=True, kw_only=True)
class Command(ABC):
    """A ``gridboard`` subcommand: its name, help, the arguments it adds, how it runs.

    ``logs_to`` is where its logs go: stderr beside an answer on stdout, stdout for a server.
    ``environment`` holds defaults it sets before anything starts (an operator's value wins).
    """

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] = no_arguments
    logs_to: Literal["stdout", "stderr"] = "stderr"
    environment: Mapping[str, str] = field(default_factory=dict)
    interrupted: ClassVar[str] = "interrupted; nothing of the current step was written"

    @abstractmethod
    def execute(self, args: argparse.Namespace) -> int:
        """Run the command on the parsed ``args``; its exit status."""


@dataclass(frozen=True, kw_only=True)
class DatabaseCommand(Command):
    """Runs on the database opened, with pending migrations applied."""

    run: Callable[[argparse.Namespace, Database], int]

    def execute(self, args: argparse.Namespace) -> int:
        database = open_database(args.database_url)
        try:
            return self.run(args, database)
        finally:
            database.dispose()


@dataclass(frozen=True, kw_only=True)
class UrlCommand(Command):
    """Gets the database URL and finds the database as it is, unopened and unmigrated (a
    backup taken before an upgrade must not be migrated already)."""

    run: Callable[[argparse.Namespace, str], int]
    interrupted: ClassVar[str] = "interrupted; nothing was written"

    def execute(self, args: argparse.Namespace) -> int:
        return self.run(args, args.database_url or get_settings().database_url)


def timestamp(text: str) -> datetime:
    try:
        return parse_timestamp(text)
    except BadTimestamp as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def non_negative_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not number >= 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return number


def positive_float(text: str) -> float:
    number = non_negative_float(text)
    if number == 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def progress_printer(stream: TextIO, label: str) -> Callable[[float], None]:
    """A progress callback that redraws ``label: NN%`` every ten percent, on a terminal only."""
    last = [-1]

    def report(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent // 10 != last[0] // 10 and stream.isatty():
            stream.write(f"\r{label}: {percent:3d}%")
            stream.flush()
        last[0] = percent

    return report
