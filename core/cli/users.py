"""The users and API tokens commands: ``create-user``, ``set-password`` and the token commands.
See docs/reference.md#the-command-line."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime

from core.cli.common import DatabaseCommand, positive_int
from core.db import Database
from core.domain import SYSTEM_ACTOR, Role
from core.errors import InvalidInput


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput.single("password", "give it on a terminal or with --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput.single("password", "the two entries differ")
    return first


def _password_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("username")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )


def _create_user_arguments(parser: argparse.ArgumentParser) -> None:
    _password_arguments(parser)
    parser.add_argument("--role", choices=[r.value for r in Role], default=Role.USER.value)
    parser.add_argument("--display-name")


def _create_user(args: argparse.Namespace, database: Database) -> int:
    from core.access.users import create_user

    password = _read_password(args)
    with database.write() as session:
        user = create_user(
            session=session,
            actor=SYSTEM_ACTOR,
            username=args.username,
            password=password,
            role=args.role,
            display_name=args.display_name or "",
        )
    print(f"created {user.role.value} {user.username}")
    return 0


CREATE_USER = DatabaseCommand(
    name="create-user",
    help="Create a user; the password is read from a prompt.",
    arguments=_create_user_arguments,
    run=_create_user,
)


def _set_password(args: argparse.Namespace, database: Database) -> int:
    from core.access.users import set_password

    password = _read_password(args)
    with database.write() as session:
        set_password(session=session, actor=SYSTEM_ACTOR, username=args.username, password=password)
    print(f"password of {args.username} changed")
    return 0


SET_PASSWORD = DatabaseCommand(
    name="set-password",
    help="Set a user's password, read from a prompt.",
    arguments=_password_arguments,
    run=_set_password,
)


def _create_token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="what uses it, e.g. scada-export")
    parser.add_argument(
        "--scope",
        choices=["read", "write"],
        required=True,
        help="read: acts as a user; write: also adds and imports, as a manager",
    )
    parser.add_argument(
        "--expires",
        type=positive_int,
        default=None,
        metavar="DAYS",
        help="days until it expires (default: GRIDBOARD_API_TOKEN_DAYS, 90)",
    )


def _create_token(args: argparse.Namespace, database: Database) -> int:
    from core.access.api_tokens import create_api_token

    with database.write() as session:
        made = create_api_token(
            session=session,
            actor=SYSTEM_ACTOR,
            name=args.name,
            scope=args.scope,
            expires_days=args.expires,
        )
    expires = (
        f"until {made.record.expires_at:%Y-%m-%d %H:%M} UTC"
        if made.record.expires_at
        else "without expiry"
    )
    print(
        f"created API token {made.record.id} {made.record.name!r} ({made.record.scope.value}, "
        f"{expires}). It is shown only now; keep it secret:"
    )
    print(made.secret)
    return 0


CREATE_TOKEN = DatabaseCommand(
    name="create-token",
    help="Make a named API token for a machine; it is printed once and stored only as a hash.",
    arguments=_create_token_arguments,
    run=_create_token,
)


def _list_tokens(args: argparse.Namespace, database: Database) -> int:
    from core.access.api_tokens import list_api_tokens
    from core.models import utc_now

    with database.read() as session:
        tokens = list_api_tokens(session=session)
    if not tokens:
        print("no API tokens (make one with gridboard create-token NAME --scope read|write)")
        return 0
    moment = utc_now()

    def when(value: datetime | None) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value else "-"

    print(
        f"{'id':>4}  {'name':24} {'scope':5}  {'state':7}  {'created':16}  "
        f"{'expires':16}  last used"
    )
    for token in tokens:
        print(
            f"{token.id:>4}  {token.name[:24]:24} {token.scope.value:5}  {token.state(moment):7}  "
            f"{when(token.created_at):16}  {when(token.expires_at):16}  {when(token.last_used_at)}"
        )
    return 0


LIST_TOKENS = DatabaseCommand(
    name="list-tokens",
    help="List the API tokens with their state and last use.",
    run=_list_tokens,
)


def _revoke_token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("token_id", type=int, metavar="ID", help="as list-tokens shows it")


def _revoke_token(args: argparse.Namespace, database: Database) -> int:
    from core.access.api_tokens import revoke_api_token

    with database.write() as session:
        token = revoke_api_token(session=session, actor=SYSTEM_ACTOR, token_id=args.token_id)
    print(f"API token {token.id} {token.name!r} is revoked")
    return 0


REVOKE_TOKEN = DatabaseCommand(
    name="revoke-token",
    help="Revoke an API token at once.",
    arguments=_revoke_token_arguments,
    run=_revoke_token,
)
