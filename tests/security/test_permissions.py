"""Every service in ``core`` that acts for someone refuses a ``user`` and changes nothing.

The services are found by introspection (every public function of a ``core`` module that takes
an ``actor``), so a new one is covered the day it is written: this test fails until it is
given arguments below, and then fails if it lets a user through. Hiding a page is convenience;
this is the security (docs/design.md, "Roles").
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import core
from core.access.api_tokens import create_api_token
from core.access.audit_log import AuditFilter
from core.access.auth import sign_in
from core.access.users import create_user, set_password
from core.db import Database
from core.domain import Role, require_manager
from core.errors import AuthenticationFailure, MissingPermission
from core.grid.components import get_component, list_components, list_substations
from core.measurements.measurements import add_measurement
from core.models import Alarm, Base, Substation
from core.reports.jobs import get_report, list_reports, request_report
from core.webhook_models import Webhook
from tests.factories import LINE, MANAGER, TRANSFORMER, USER, make_component

START = datetime(2024, 1, 1, tzinfo=UTC)
COMPONENTS_CSV = (
    b"name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"
    b"T9,Hilltop,transformer,40,110,,\n"
)


def _discovered() -> Iterator[tuple[str, Callable[..., Any]]]:
    for info in pkgutil.walk_packages(core.__path__, "core."):
        if ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            if function is require_manager:  # the check itself
                continue
            if "actor" in inspect.signature(function).parameters:
                yield f"{module.__name__}.{name}", function


SERVICES = dict(_discovered())

# The arguments each service gets (besides ``session``/``database`` and ``actor``): ones a
# manager's call would succeed with, so a refusal can only come from the role check.
ARGUMENTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "core.grid.components.change_component": lambda seen: {
        "component_id": seen["component_id"],
        "changes": {"name": "Changed"},
    },
    "core.grid.components.create_component": lambda seen: {"fields": LINE | {"name": "L9"}},
    "core.grid.components.update_component": lambda seen: {
        "component_id": seen["component_id"],
        "fields": TRANSFORMER | {"name": "Renamed"},
    },
    "core.grid.components.delete_component": lambda seen: {"component_id": seen["component_id"]},
    "core.grid.substation_records.delete_substation": lambda seen: {"name": "Empty"},
    "core.grid.substation_records.update_substation": lambda seen: {
        "name": "Riverside",
        "new_name": "Riverside North",
        "description": "feeds the old town",
    },
    "core.measurements.measurements.add_measurement": lambda seen: {
        "component_id": seen["component_id"],
        "measurement_type": "voltage",
        "timestamp": "2024-01-02T00:00:00Z",
        "value": 110.0,
    },
    "core.measurements.deletions.delete_measurement": lambda seen: {
        "measurement_id": seen["measurement_id"]
    },
    "core.measurements.deletions.delete_measurements": lambda seen: {
        "component_id": seen["component_id"],
        "measurement_type": "voltage",
        "start": START,
        "end": START + timedelta(days=7),
    },
    "core.imports.components.import_components": lambda seen: {
        "source": COMPONENTS_CSV,
        "file_name": "components.csv",
    },
    "core.imports.measurements.import_measurements": lambda seen: {
        "source": (
            "component_id,measurement_type,timestamp,value\n"
            f"{seen['component_id']},voltage,2024-01-01T00:00:00Z,110\n"
        ).encode(),
        "file_name": "measurements.csv",
    },
    "core.imports.service.run_import": lambda seen: {
        "kind": "components",
        "source": COMPONENTS_CSV,
        "file_name": "components.csv",
    },
    "core.seed.seed_grid": lambda seen: {"components": 3, "per_component": 3},
    "core.measurements.rollups.rebuild": lambda seen: {},
    "core.access.users.create_user": lambda seen: {
        "username": "newbie",
        "password": "a-good-pass-42",
    },
    # A user making themselves a manager.
    "core.access.users.set_role": lambda seen: {"username": "ulf", "role": "manager"},
    # Another user's password: a user may only set their own.
    "core.access.users.set_password": lambda seen: {
        "username": "mona",
        "password": "a-good-pass-42",
    },
    "core.reports.jobs.records.request_report": lambda seen: {
        "start": START,
        "end": START + timedelta(days=1),
    },
    "core.reports.jobs.records.cancel_report": lambda seen: {"report_id": seen["report_id"]},
    # (cancelled first when a manager runs them all in name order, so it may be deleted)
    "core.reports.jobs.records.delete_report": lambda seen: {"report_id": seen["report_id"]},
    "core.access.api_tokens.create_api_token": lambda seen: {"name": "scada", "scope": "write"},
    "core.access.api_tokens.revoke_api_token": lambda seen: {"token_id": seen["token_id"]},
    # the user created above (create_user runs first in name order)
    "core.access.users.delete_user": lambda seen: {"username": "newbie"},
    # A user locking someone out (themselves included: only a manager may).
    "core.access.users.set_active": lambda seen: {"username": "ulf", "active": False},
    # limits that keep the alarm below active (a manager's run acknowledges, then shelves it)
    "core.alarms.limit_changes.set_component_limits": lambda seen: {
        "component_id": seen["component_id"],
        "limits": [{"measurement_type": "voltage", "high_alarm": 120}],
    },
    "core.alarms.limit_changes.set_level_limits": lambda seen: {
        "component_type": "transformer",
        "voltage_kv": 110,
        "limits": [{"measurement_type": "voltage", "high_alarm": 120}],
    },
    "core.alarms.limit_changes.set_defaults": lambda seen: {"values": {"deadband_pct": 2}},
    "core.alarms.records.acknowledge_alarm": lambda seen: {
        "alarm_id": seen["alarm_id"],
        "comment": "seen",
    },
    "core.alarms.records.acknowledge_alarms": lambda seen: {"alarm_ids": [seen["warning_id"]]},
    "core.alarms.records.shelve_alarms": lambda seen: {
        "alarm_ids": [seen["alarm_id"]],  # shelved again, for longer
        "until": datetime.now(UTC) + timedelta(hours=1),
        "reason": "maintenance",
    },
    "core.access.audit_log.audit_choices": lambda seen: {},
    "core.access.audit_log.audit_frames": lambda seen: {"where": AuditFilter()},
    "core.access.audit_log.list_audit_entries": lambda seen: {"where": AuditFilter()},
    "core.exports.audit_csv": lambda seen: {"where": AuditFilter()},
    "core.alarms.records.shelve_alarm": lambda seen: {
        "alarm_id": seen["alarm_id"],
        "until": datetime.now(UTC) + timedelta(hours=1),
        "reason": "maintenance",
    },
    "core.notifications.webhooks.add_webhook": lambda seen: {
        "url": "https://93.184.216.34/hook",
        "secret": "a-secret-long-enough",
    },
    "core.notifications.webhooks.delete_webhook": lambda seen: {"webhook_id": seen["webhook_id"]},
    "core.notifications.webhooks.list_attempts": lambda seen: {},
    "core.notifications.webhooks.list_webhooks": lambda seen: {},
    # (the other webhook: delete_webhook runs first in name order)
    "core.notifications.webhooks.set_webhook_active": lambda seen: {
        "webhook_id": seen["webhook_id"] + 1,
        "active": False,
    },
    "core.reports.jobs.runner.generate_report": lambda seen: {
        "start": START,
        "end": START + timedelta(days=1),
    },
}


def _snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused call wrote nothing."""
    with db.read() as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def seen(db: Database) -> dict[str, Any]:
    """A database where every service has something to act on."""
    with db.write() as session:
        for username, role in (("mona", Role.MANAGER), ("ulf", Role.USER)):
            create_user(
                session=session, actor=MANAGER, username=username, password="grid-watch-123",
                role=role,
            )  # fmt: skip
        report = request_report(
            session=session, actor=MANAGER, start=START, end=START + timedelta(days=1)
        )
        token = create_api_token(session=session, actor=MANAGER, name="feed", scope="read")
        session.add(Substation(name="Empty", name_key="Empty"))  # for delete_substation
        hooks = [Webhook(url=f"https://93.184.216.34/{n}", secret="s" * 16, created_by="mona")
                 for n in (1, 2)]  # fmt: skip
        session.add_all(hooks)
        session.flush()
    component = make_component(db)
    with db.write() as session:  # a measurement to delete, then an alarm to act on
        measurement = add_measurement(
            session=session, actor=MANAGER, component_id=component.id,
            measurement_type="voltage", timestamp=START - timedelta(days=1), value=110.0,
        ).record  # fmt: skip
        add_measurement(  # 150 kV on a 110 kV transformer, the newest: the alarm stays active
            session=session, actor=MANAGER, component_id=component.id,
            measurement_type="voltage", timestamp=START, value=150,
        )  # fmt: skip
        alarm_id = session.scalar(select(Alarm.id).where(Alarm.kind == "high_alarm"))
        warning_id = session.scalar(select(Alarm.id).where(Alarm.kind == "high_warning"))
    return {
        "component_id": component.id,
        "report_id": report.id,
        "token_id": token.record.id,
        "alarm_id": alarm_id,
        "warning_id": warning_id,  # cleared by the alarm above it: acknowledge_alarms takes it
        "measurement_id": measurement.id,
        "webhook_id": hooks[0].id,
    }


def _run(function: Callable[..., Any], db: Database, arguments: dict[str, Any]) -> None:
    """``function`` with ``arguments``, given the database (by position or keyword, as it
    takes it) or a write session."""
    database = inspect.signature(function).parameters.get("database")
    if database is not None and database.kind is inspect.Parameter.KEYWORD_ONLY:
        function(database=db, **arguments)
    elif database is not None:
        function(db, **arguments)
    else:
        with db.write() as session:
            function(session=session, **arguments)


def _call(name: str, db: Database, seen: dict[str, Any]) -> None:
    _run(SERVICES[name], db, ARGUMENTS[name](seen) | {"actor": USER})


def test_every_service_that_takes_an_actor_is_listed_here():
    assert len(SERVICES) >= 12, "introspection found too few services: is core importable?"
    missing = sorted(set(SERVICES) - set(ARGUMENTS))
    assert not missing, f"new services that act for someone; add them to ARGUMENTS: {missing}"
    assert not sorted(set(ARGUMENTS) - set(SERVICES)), "ARGUMENTS lists services that are gone"


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
def test_a_user_is_refused_and_nothing_changes(name, db, seen):
    if name not in SERVICES:
        pytest.fail(f"{name} is no longer a service of core that takes an actor")
    before = _snapshot(db)
    with pytest.raises(MissingPermission) as refused:
        _call(name, db, seen)
    assert refused.value.username == "ulf" and refused.value.role == "user"
    assert "only a manager may do that" in str(refused.value)
    assert _snapshot(db) == before


def test_a_manager_may_call_every_service(db, seen):
    """The arguments above are ones that work, so the refusals are the role check's."""
    for name in sorted(ARGUMENTS):
        if name == "core.seed.seed_grid":
            continue  # seed fills only an empty database; its own tests cover a manager
        _run(SERVICES[name], db, ARGUMENTS[name](seen) | {"actor": MANAGER})
        if name == "core.grid.components.delete_component":
            seen["component_id"] = make_component(db, name="T-again").id
            with db.write() as session:
                seen["measurement_id"] = add_measurement(
                    session=session, actor=MANAGER, component_id=seen["component_id"],
                    measurement_type="voltage", timestamp="2024-01-03T00:00:00Z", value=110.0,
                ).record.id  # fmt: skip


def test_a_user_may_set_their_own_password(db, seen):
    with db.write() as session:
        set_password(session=session, actor=USER, username="ulf", password="my-own-pass-77")
    no_wait = {"sleep": lambda _: None}
    assert sign_in(db, username="ulf", password="my-own-pass-77", **no_wait).username == "ulf"
    with pytest.raises(AuthenticationFailure):
        sign_in(db, username="ulf", password="grid-watch-123", **no_wait)


def test_read_services_take_no_actor_so_every_user_may_read(db, seen):
    reads = [list_components, list_substations, get_component, list_reports, get_report]
    for function in reads:
        assert "actor" not in inspect.signature(function).parameters, function.__name__
    with db.read() as session:
        assert list_components(session=session).total == 1
        # every substation record, the one without components (for delete_substation) too
        assert list_substations(session=session) == ["Empty", "Riverside"]
        assert get_component(session=session, component_id=seen["component_id"]).name == "T1"
        assert [r.id for r in list_reports(session=session)] == [seen["report_id"]]
        assert get_report(session=session, report_id=seen["report_id"]).id == seen["report_id"]


# Writers that take no actor because only a service (after its role check) or the report
# worker may call them.
INTERNAL_WRITERS = {
    "core.measurements.measurement_store": None,
    "core.measurements.series_writer": None,
    "core.measurements.rollups": None,
    "core.driver_statements": None,
    "core.reports.jobs": {
        "claim",
        "release_claim",
        "compute_claimed",
        "release_orphans",
        "renew_lease",
    },
    "core.reports.jobs.queue": None,
    "core.reports.jobs.runner": {"compute_claimed"},
}


def test_pages_call_no_writer_that_skips_the_role_check():
    root = Path(__file__).resolve().parents[2]
    found = []
    for path in [
        root / "app.py",
        *sorted((root / "views").glob("*.py")),
        *sorted((root / "pages").glob("*.py")),
    ]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in INTERNAL_WRITERS:
                forbidden = INTERNAL_WRITERS[node.module]
                names = {alias.name for alias in node.names}
                if forbidden is None or names & forbidden:
                    found.append(f"{path.name}: from {node.module} import {sorted(names)}")
            elif isinstance(node, ast.Import):
                found += [
                    f"{path.name}: import {alias.name}"
                    for alias in node.names
                    if INTERNAL_WRITERS.get(alias.name, set()) is None
                ]
    assert not found, found
