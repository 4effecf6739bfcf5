"""The ``alarms`` (evaluate, list) and ``limits`` (show, set) commands.
See docs/reference.md#the-command-line."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli.common import DatabaseCommand, action, actions_of, positive_int, timestamp
from core.db import Database
from core.domain import SYSTEM_ACTOR


def _alarm_arguments(parser: argparse.ArgumentParser) -> None:
    actions = actions_of(parser)
    evaluate = action(actions, "evaluate", "Re-derive alarms over stored history (idempotent).")
    evaluate.add_argument(
        "--since", type=timestamp, required=True, help="ISO 8601 (a date or a time)"
    )
    listing = action(actions, "list", "List alarms: active first, by severity and age.")
    listing.add_argument("--state", default="open", help="open (default), active, all, or a state")
    listing.add_argument("--limit", type=positive_int, default=100, help="at most this many")


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _alarms(args: argparse.Namespace, database: Database) -> int:
    from core.alarms.engine import evaluate_history
    from core.alarms.records import list_alarms
    from core.alarms.states import ACTIVE, OPEN, AlarmState
    from core.errors import InvalidInput

    if args.action == "evaluate":
        with database.write() as session:
            counts = evaluate_history(session, since=args.since)
        print(f"{counts.raised} alarms raised, {counts.cleared} cleared")
        return 0
    groups = {"open": OPEN, "active": ACTIVE, "all": tuple(AlarmState)}
    if args.state not in groups and args.state not in set(AlarmState):
        choices = ", ".join([*groups, *AlarmState])
        raise InvalidInput.single("--state", f"must be one of {choices}, got {args.state!r}")
    states = groups.get(args.state) or (AlarmState(args.state),)
    with database.read() as session:
        page = list_alarms(session=session, states=states, limit=args.limit)
    if not page.alarms:
        print("no alarms")
        return 0
    print(f"{'id':>6}  {'state':22} {'kind':18} {'component':24} {'raised at (UTC)':19}  worst")
    for alarm in page.alarms:
        where = f"{alarm.component_name} ({alarm.substation})"[:24]
        print(
            f"{alarm.id:>6}  {alarm.state.value:22} {alarm.kind.value:18} {where:24} "
            f"{alarm.raised_at:%Y-%m-%d %H:%M:%S}  {_shown(alarm.worst_value)}"
        )
    if page.total > len(page.alarms):
        print(f"... and {page.total - len(page.alarms)} more (--limit)")
    return 0


ALARMS = DatabaseCommand(
    name="alarms",
    help="Alarms: re-derive them over stored history (evaluate --since), or list them.",
    arguments=_alarm_arguments,
    run=_alarms,
)


LIMIT_OPTIONS = ("high_alarm", "high_warning", "low_warning", "low_alarm", "deadband_pct")


def _limit_arguments(parser: argparse.ArgumentParser) -> None:
    actions = actions_of(parser)
    show = action(actions, "show", "Show the defaults and every override.")
    show.add_argument("--component", type=int, help="one component's overrides only")
    change = action(
        actions,
        "set",
        "Change defaults (--default NAME=VALUE), or one measurement type's limits of a "
        "component (--component ID) or of a type and level (--level TYPE:KV).",
    )
    change.add_argument("--default", action="append", default=[], metavar="NAME=VALUE")
    where = change.add_mutually_exclusive_group()
    where.add_argument("--component", type=int, help="a component's id")
    where.add_argument("--level", metavar="TYPE:KV", help="e.g. line:20")
    change.add_argument("--measurement-type", help="voltage, current or power")
    for name in LIMIT_OPTIONS:
        change.add_argument(f"--{name.replace('_', '-')}", type=float)
    change.add_argument("--delay-samples", type=int)
    change.add_argument("--no-limit", action="store_true", help="switch this type's limits off")
    change.add_argument("--clear", action="store_true", help="remove this type's override")


def _override_lines(items: list[Any]) -> list[str]:
    lines = []
    for item in items:
        if item.no_limit:
            lines.append(f"    {item.measurement_type.value}: no limit")
            continue
        values = ", ".join(
            f"{name} {getattr(item, name):g}"
            for name in (*LIMIT_OPTIONS, "delay_samples")
            if getattr(item, name) is not None
        )
        lines.append(f"    {item.measurement_type.value}: {values}")
    return lines


def _limits(args: argparse.Namespace, database: Database) -> int:
    from core.alarms import limit_changes
    from core.alarms.limits import get_defaults
    from core.errors import InvalidInput

    if args.action == "show":
        with database.read() as session:
            if args.component is not None:
                found = limit_changes.get_component_limits(
                    session=session, component_id=args.component
                )
                print(f"component {args.component}:")
                print(
                    "\n".join(_override_lines(found)) or "    (its level's limits or the defaults)"
                )
                return 0
            print("defaults:")
            for name, value in get_defaults(session=session).items():
                print(f"    {name} {value:g}")
            for level in limit_changes.list_level_limits(session=session):
                print(f"{level.component_type.value} at {level.voltage_kv:g} kV:")
                print("\n".join(_override_lines(level.limits)))
        return 0
    defaults: dict[str, object] = {}
    for text in args.default:
        name, equals, value = text.partition("=")
        if not equals:
            raise InvalidInput.single("--default", f"give NAME=VALUE, got {text!r}")
        defaults[name.strip()] = value.strip()
    scoped = args.component is not None or args.level is not None
    if not defaults and not scoped:
        raise InvalidInput.single("limits set", "give --default NAME=VALUE, --component or --level")
    with database.write() as session:
        if defaults:
            limit_changes.set_defaults(session=session, actor=SYSTEM_ACTOR, values=defaults)
        if scoped:
            _set_scoped(session, args)
    print("limits changed; active alarms re-evaluated")
    return 0


def _set_scoped(session: Any, args: argparse.Namespace) -> None:
    """Replace one measurement type's override of a component or level, keeping the others."""
    from core.alarms import limit_changes
    from core.errors import InvalidInput

    if not args.measurement_type:
        raise InvalidInput.single("--measurement-type", "is required with --component or --level")
    given = {name: getattr(args, name) for name in (*LIMIT_OPTIONS, "delay_samples")}
    wanted = {"measurement_type": args.measurement_type, "no_limit": args.no_limit, **given}
    kind = args.measurement_type.strip().lower()
    if args.component is not None:
        current = limit_changes.get_component_limits(session=session, component_id=args.component)
    else:
        level_type, colon, level_kv = args.level.partition(":")
        try:
            level_volts = float(level_kv) if colon else None
        except ValueError:
            level_volts = None
        if level_volts is None:
            raise InvalidInput.single(
                "--level", f"give TYPE:KV such as line:20, got {args.level!r}"
            )
        current = next(
            (
                level.limits
                for level in limit_changes.list_level_limits(session=session)
                if level.component_type.value == level_type.strip().lower()
                and level.voltage_kv == level_volts
            ),
            [],
        )
    kept: list[dict[str, Any]] = [
        {name: getattr(item, name) for name in ("no_limit", *LIMIT_OPTIONS, "delay_samples")}
        | {"measurement_type": item.measurement_type.value}
        for item in current
        if item.measurement_type.value != kind
    ]
    limits = kept if args.clear else [*kept, wanted]
    if args.component is not None:
        limit_changes.set_component_limits(
            session=session, actor=SYSTEM_ACTOR, component_id=args.component, limits=limits
        )
    else:
        limit_changes.set_level_limits(
            session=session, actor=SYSTEM_ACTOR, component_type=level_type,
            voltage_kv=level_kv, limits=limits,
        )  # fmt: skip


LIMITS = DatabaseCommand(
    name="limits",
    help="Limits: show the defaults and overrides, or set them.",
    arguments=_limit_arguments,
    run=_limits,
)
