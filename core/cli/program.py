"""The ``gridboard`` parser over every command group, and ``main``: the one place a GridBoard
error becomes a message on stderr and an exit status. See docs/architecture.md#the-command-line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from core import logs
from core.cli import alarms, audit, database, grid_data, reports, servers, users, webhooks
from core.cli.common import URL_HELP, Command, url_option
from core.config import get_settings
from core.errors import GridBoardError
from core.import_errors import UnreadableFile

EXIT_REFUSED = 1
EXIT_INTERRUPTED = 130

# In the order `gridboard --help` lists them.
COMMANDS: tuple[Command, ...] = (
    database.SEED,
    grid_data.IMPORT_COMPONENTS,
    grid_data.IMPORT_MEASUREMENTS,
    users.CREATE_USER,
    users.SET_PASSWORD,
    reports.REPORT,
    alarms.ALARMS,
    alarms.LIMITS,
    webhooks.WEBHOOKS,
    grid_data.EXPORT_COMPONENTS,
    grid_data.EXPORT_MEASUREMENTS,
    grid_data.DIAGRAM,
    grid_data.DELETE_MEASUREMENTS,
    servers.WORKER,
    servers.API,
    users.CREATE_TOKEN,
    users.LIST_TOKENS,
    users.REVOKE_TOKEN,
    audit.AUDIT_LOG,
    database.REBUILD_AGGREGATES,
    database.BACKUP,
    database.RESTORE,
    database.DEMO,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridboard",
        description="GridBoard without a browser: seed, import, users. The database comes from "
        "--database-url or GRIDBOARD_DATABASE_URL (default: a SQLite file under data/).",
    )
    parser.add_argument("--database-url", default=None, help=URL_HELP)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        url_option(sub)
        command.arguments(sub)
    return parser


def error_message(error: GridBoardError) -> str:
    if isinstance(error, UnreadableFile):
        return f"error: cannot import {error}\n"
    return f"error: {error}\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = next(command for command in COMMANDS if command.name == args.command)
    for name, value in command.environment.items():
        os.environ.setdefault(name, value)  # before anything reads it; an operator's value wins
    try:
        logs.configure_logging(get_settings(), stream=command.logs_to)
        return command.execute(args)
    except GridBoardError as error:
        sys.stderr.write(error_message(error))
        return EXIT_REFUSED
    except KeyboardInterrupt:
        sys.stderr.write(f"{command.interrupted}\n")
        return EXIT_INTERRUPTED
