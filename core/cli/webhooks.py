"""The ``webhooks`` command: add (the secret from a file or stdin, never the command line),
list, remove, and the attempts of one or all. See docs/reference.md#webhooks."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from core.cli.common import DatabaseCommand, action, actions_of, positive_int
from core.db import Database
from core.domain import SYSTEM_ACTOR


def _arguments(parser: argparse.ArgumentParser) -> None:
    actions = actions_of(parser)
    add = action(actions, "add", "Add a webhook: every alarm event is POSTed to URL, signed.")
    add.add_argument("url", metavar="URL", help="http:// or https:// address of the receiver")
    add.add_argument(
        "--secret-file",
        metavar="FILE",
        help="file holding the signing secret (- reads stdin); without it, asked on a terminal",
    )
    action(actions, "list", "List the webhooks with their deliveries' counts.")
    remove = action(actions, "remove", "Remove a webhook, its deliveries and their attempts.")
    remove.add_argument("id", type=positive_int, metavar="ID")
    attempts = action(actions, "attempts", "Show the newest delivery attempts, newest first.")
    attempts.add_argument("id", type=positive_int, nargs="?", metavar="ID", help="one webhook's")
    attempts.add_argument("--limit", type=positive_int, default=50, help="at most this many")


def _secret(source: str | None) -> str:
    from core.errors import InvalidInput

    if source == "-":
        return sys.stdin.read()
    if source is not None:
        try:
            return Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise InvalidInput.single("--secret-file", f"cannot read {source}: {reason}") from None
    if not sys.stdin.isatty():
        raise InvalidInput.single("secret", "give --secret-file FILE (or - for stdin)")
    return getpass.getpass("secret: ")


def _webhooks(args: argparse.Namespace, database: Database) -> int:
    from core.notifications import webhooks

    if args.action == "add":
        secret = _secret(args.secret_file)
        with database.write() as session:
            hook = webhooks.add_webhook(
                session=session, actor=SYSTEM_ACTOR, url=args.url, secret=secret
            )
        print(f"webhook {hook.id} added: alarm events go to {hook.url}")
        return 0
    if args.action == "remove":
        with database.write() as session:
            webhooks.delete_webhook(session=session, actor=SYSTEM_ACTOR, webhook_id=args.id)
        print(f"webhook {args.id} removed")
        return 0
    if args.action == "list":
        with database.read() as session:
            hooks = webhooks.list_webhooks(session=session, actor=SYSTEM_ACTOR)
        if not hooks:
            print("no webhooks (add one with gridboard webhooks add URL --secret-file FILE)")
            return 0
        print(f"{'id':>4}  {'state':11} {'pending':>7} {'delivered':>9} {'failed':>6}  url")
        for h in hooks:
            state = "active" if h.active else "deactivated"
            print(f"{h.id:>4}  {state:11} {h.pending:>7} {h.delivered:>9} {h.failed:>6}  {h.url}")
        return 0
    with database.read() as session:
        found = webhooks.list_attempts(
            session=session, actor=SYSTEM_ACTOR, webhook_id=args.id, limit=args.limit
        )
    if not found:
        print("no attempts yet")
        return 0
    print(f"{'webhook':>7} {'alarm':>6} {'event':11} {'try':>3}  {'at (UTC)':19}  outcome")
    for a in found:
        outcome = str(a.status_code) if a.status_code is not None else (a.error or "sending")
        print(
            f"{a.webhook_id:>7} {a.alarm_id:>6} {a.event:11} {a.number:>3}  "
            f"{a.started_at:%Y-%m-%d %H:%M:%S}  {outcome} ({a.delivery_status})"
        )
    return 0


WEBHOOKS = DatabaseCommand(
    name="webhooks",
    help="Webhooks that receive alarm events: add, list, remove, and their delivery attempts.",
    arguments=_arguments,
    run=_webhooks,
)
