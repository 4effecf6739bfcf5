"""The ``db`` fixture empties every table of the models before each test, children first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.access.api_tokens import create_api_token
from core.access.users import create_user
from core.domain import SYSTEM_ACTOR, Role
from core.measurements.measurements import add_measurement
from core.models import Base
from core.reports.jobs import request_report
from tests.conftest import TABLES, empty
from tests.factories import make_component


def test_every_table_of_the_models_is_on_the_list():
    assert sorted(TABLES) == sorted(Base.metadata.tables)


def test_a_table_comes_before_every_table_it_refers_to():
    for position, name in enumerate(TABLES):
        for key in Base.metadata.tables[name].foreign_keys:
            assert TABLES.index(key.column.table.name) > position, (name, key.target_fullname)


def test_emptying_leaves_no_row_in_any_table(db):
    component = make_component(db)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    with db.write() as session:
        add_measurement(
            session=session, actor=SYSTEM_ACTOR, component_id=component.id,
            measurement_type="voltage", timestamp="2024-05-01T00:00:00Z", value=110,
        )  # fmt: skip
        request_report(session=session, actor=SYSTEM_ACTOR, start=start, end=start + timedelta(1))
        create_user(
            session=session, actor=SYSTEM_ACTOR, username="mona", password="grid-watch-123",
            role=Role.MANAGER,
        )  # fmt: skip
        create_api_token(session=session, actor=SYSTEM_ACTOR, name="feed", scope="write")

    empty(db)

    with db.read() as session:
        counts = {
            name: session.scalar(select(func.count()).select_from(table))
            for name, table in Base.metadata.tables.items()
        }
    assert counts == dict.fromkeys(Base.metadata.tables, 0)
