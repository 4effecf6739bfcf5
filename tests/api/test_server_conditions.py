"""A 4xx only when the request is at fault: a write racing a deletion is 404, a database that
is gone, replaced or failing is 503 with Retry-After, on every path (the single post's too).
A feed drops what is answered 4xx and sends again what is answered 5xx."""

from __future__ import annotations

import threading
import warnings
from typing import Any

import polars as pl
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from api import errors
from api.app import create_app
from core.access.users import create_user
from core.db import Database
from core.db_errors import database_failure
from core.domain import SYSTEM_ACTOR, Role
from core.errors import ConflictingWrite, DatabaseFailure, UnknownReference, VanishedReference
from core.grid.components import delete_component
from core.measurements.measurement_store import write_measurements
from core.models import Component, Measurement
from tests.api.conftest import MANAGER_PASSWORD, SETTINGS, bearer, sign_in
from tests.factories import MANAGER, make_component

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


def _reading(component_id: int) -> dict[str, Any]:
    return {
        "component_id": component_id,
        "measurement_type": "voltage",
        "timestamp": "2024-05-01T00:00:00Z",
        "value": 110.0,
    }


def test_a_write_naming_a_deleted_component_is_unknown_not_refused(db):
    """Through the bulk path, which validates before it writes: the foreign key's refusal is
    the component that is gone (404), not a fault of the request."""
    frame = pl.DataFrame(
        {"component_id": [4321], "measurement_type": ["power"], "timestamp_us": [0], "value": [1.0]}
    )
    with pytest.raises(VanishedReference) as refused, db.write() as session:
        write_measurements(session, frame, overwrite=False)
    assert isinstance(refused.value, UnknownReference)
    assert errors.status_of(refused.value) == 404
    assert "no longer exists" in str(refused.value)


def test_a_clash_with_stored_data_is_a_conflict(db):
    component = make_component(db)
    row = {"component_id": component.id, "measurement_type": "power", "timestamp_us": 0}
    with pytest.raises(ConflictingWrite) as refused, db.write() as session:
        session.add_all([Measurement(**row, value=1.0), Measurement(**row, value=2.0)])
        session.flush()
    assert errors.status_of(refused.value) == 409


def test_a_database_that_fails_is_503_with_retry_after(db):
    with pytest.raises(DatabaseFailure) as failed, db.read() as session:
        session.execute(text("SELECT * FROM no_such_table"))
    answer = errors.answer(failed.value)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == str(errors.RETRY_UNAVAILABLE)
    lost = database_failure(OperationalError("SELECT 1", {}, Exception("server closed")))
    assert lost is not None and errors.status_of(lost) == 503


def _waiting_for_rollup_lock(db: Database) -> bool:
    with db.engine.connect() as connection:
        waiting = connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        ).scalar()
    return bool(waiting)


@pytest.mark.parametrize("body_path", ["single post", "route"])
def test_a_post_racing_its_components_deletion_is_404(people, client, manager_headers, body_path):
    """The deletion holds its transaction open until the post waits behind it."""
    component = make_component(people, name="Doomed")
    posted: dict[str, Any] = {}

    def post() -> None:
        query = "" if body_path == "single post" else "?overwrite=false"
        posted["answer"] = client.post(
            f"/measurements{query}", json=_reading(component.id), headers=manager_headers
        )

    poster = threading.Thread(target=post)
    with people.write() as session:
        delete_component(session=session, actor=MANAGER, component_id=component.id)
        poster.start()
        if people.engine.dialect.name == "postgresql":
            while not _waiting_for_rollup_lock(people) and poster.is_alive():
                threading.Event().wait(0.01)
        else:  # SQLite: the post waits for the write lock; nothing shows it waiting
            poster.join(0.5)
    poster.join()
    answer = posted["answer"]
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == f"component {component.id} does not exist"


def test_every_path_answers_a_deleted_sqlite_file_503_with_retry_after(tmp_path):
    path = tmp_path / "gridboard.db"
    database = Database.from_url(f"sqlite:///{path}")
    database.migrate()
    with database.write() as session:
        create_user(
            session=session, actor=SYSTEM_ACTOR, username="mona", password=MANAGER_PASSWORD,
            role=Role.MANAGER,
        )  # fmt: skip
        component = Component(
            name="T1", substation="A", component_type="switch", status="closed",
            created_by="t", updated_by="t",
        )  # fmt: skip
        session.add(component)
        session.flush()
        component_id = component.id
    try:
        with TestClient(create_app(database, settings=SETTINGS, run_reports=False)) as client:
            headers = bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))
            path.unlink()
            answers = {
                "sign-in": client.post(
                    "/auth/token", data={"username": "mona", "password": MANAGER_PASSWORD}
                ),
                "list": client.get("/components", headers=headers),
                "single post": client.post(
                    "/measurements", json=_reading(component_id), headers=headers
                ),
                "route post": client.post(
                    "/measurements?overwrite=true", json=_reading(component_id), headers=headers
                ),
                "reports": client.get("/reports", headers=headers),
            }
        for name, answer in answers.items():
            assert answer.status_code == 503, (name, answer.status_code, answer.text)
            assert answer.headers["retry-after"] == str(errors.RETRY_UNAVAILABLE), name
            assert "was deleted" in answer.json()["detail"], name
        assert not path.exists()
    finally:
        database.dispose()
