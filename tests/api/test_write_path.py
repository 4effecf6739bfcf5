"""A single write through the API: the answer is the stored row, the request checks its
caller and writes on one connection in one transaction, and refuses as every route does."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, event, func, select

from core.access.users import set_password, set_role
from core.db import Database
from core.domain import SYSTEM_ACTOR, Role
from core.models import Measurement, User
from tests.api.conftest import MANAGER_PASSWORD, USER_PASSWORD, bearer, sign_in
from tests.api.test_flows import TRANSFORMER as TRANSFORMER_BODY


def _reading(component_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "component_id": component_id,
        "timestamp": "2024-05-01T13:45:00+02:00",
        "value": 110.25,
        "measurement_type": "voltage",
        **changes,
    }


def _stored(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(Measurement)) or 0


def test_a_write_commits_with_no_read_of_the_same_request_still_open(
    client, people: Database, manager_headers
):
    component = client.post("/components", json=TRANSFORMER_BODY, headers=manager_headers).json()
    checked_out_at_commit: list[int] = []

    def on_commit(_connection: object) -> None:
        checked_out_at_commit.append(people.engine.pool.checkedout())

    event.listen(people.engine, "commit", on_commit)
    try:
        added = client.post(
            "/measurements",
            json={
                "component_id": component["id"],
                "timestamp": "2024-05-01T13:45:00+02:00",
                "value": 110.25,
                "measurement_type": "Voltage",
            },
            headers=manager_headers,
        )
    finally:
        event.remove(people.engine, "commit", on_commit)
    assert added.status_code == 201, added.text
    # The sign-in token's user is read inside the write, on its connection: no other read
    # is open (a read left open keeps SQLite from resetting its log; every commit pays).
    assert checked_out_at_commit == [1]
    with people.read() as session:
        row = session.scalars(
            select(Measurement).where(Measurement.component_id == component["id"])
        ).one()
    assert added.json() == {
        "id": row.id,
        "component_id": component["id"],
        "timestamp": "2024-05-01T11:45:00Z",
        "value": 110.25,
        "measurement_type": "voltage",
    }


def test_a_post_checks_its_caller_and_writes_on_one_connection_in_one_transaction(
    client, people: Database, manager_headers
):
    component = client.post("/components", json=TRANSFORMER_BODY, headers=manager_headers).json()
    checkouts: list[object] = []
    begins: list[object] = []

    def on_checkout(*_: object) -> None:
        checkouts.append(1)

    def on_begin(*_: object) -> None:
        begins.append(1)

    event.listen(people.engine.pool, "checkout", on_checkout)
    event.listen(people.engine, "begin", on_begin)
    try:
        added = client.post(
            "/measurements", json=_reading(component["id"]), headers=manager_headers
        )
    finally:
        event.remove(people.engine.pool, "checkout", on_checkout)
        event.remove(people.engine, "begin", on_begin)
    assert added.status_code == 201, added.text
    assert added.headers["content-type"] == "application/json"
    assert (len(checkouts), len(begins)) == (1, 1)


def _end_password(people: Database, username: str) -> None:
    with people.write() as session:
        set_password(
            session=session, actor=SYSTEM_ACTOR, username=username, password="fresh-pass-2024"
        )


def _end_role(people: Database, username: str) -> None:
    with people.write() as session:  # the last manager stays one: promote another first
        set_role(session=session, actor=SYSTEM_ACTOR, username="ulf", role=Role.MANAGER)
        set_role(session=session, actor=SYSTEM_ACTOR, username=username, role=Role.USER)


def _remove(people: Database, username: str) -> None:
    with people.write() as session:
        session.execute(delete(User).where(User.username == username))


@pytest.mark.parametrize(
    ("end", "detail"),
    [
        (_end_password, "the password changed after this token was issued: sign in again"),
        (_end_role, "the role changed after this token was issued: sign in again"),
        (_remove, "the token's user no longer exists"),
    ],
)
def test_a_post_with_a_manager_token_that_has_ended_is_refused_and_writes_nothing(
    client, people: Database, manager_headers, end, detail
):
    component = client.post("/components", json=TRANSFORMER_BODY, headers=manager_headers).json()
    end(people, "mona")
    refused = client.post("/measurements", json=_reading(component["id"]), headers=manager_headers)
    assert refused.status_code == 401
    assert refused.json() == {"detail": detail, "problems": []}
    assert _stored(people) == 0


def test_a_post_refuses_a_bad_token_before_the_body_and_the_caller_s_grant_after_it(
    client, people: Database, manager_headers
):
    """The API's order: a token refused without the database (none, tampered) before the
    body; then the body (422); then what the database says of the caller: a user's token
    whose user is gone 401, a user (or a manager's token scoped to user) 403."""
    component = client.post("/components", json=TRANSFORMER_BODY, headers=manager_headers).json()
    good_body, bad_body = _reading(component["id"]), {"component_id": "one", "value": "high"}
    assert client.post("/measurements", json=bad_body).status_code == 401
    tampered = bearer(manager_headers["Authorization"].removeprefix("Bearer ")[:-2] + "xx")
    assert client.post("/measurements", json=bad_body, headers=tampered).status_code == 401
    user = bearer(sign_in(client, "ulf", USER_PASSWORD))
    assert client.post("/measurements", json=bad_body, headers=user).status_code == 422
    assert client.post("/measurements", json=good_body, headers=user).status_code == 403
    manager_as_user = bearer(sign_in(client, "mona", MANAGER_PASSWORD, "user"))
    assert client.post("/measurements", json=bad_body, headers=manager_as_user).status_code == 422
    assert client.post("/measurements", json=good_body, headers=manager_as_user).status_code == 403
    _remove(people, "ulf")  # a user's token for someone removed since: 401, as on every route
    assert client.post("/measurements", json=bad_body, headers=user).status_code == 422
    refused = client.post("/measurements", json=good_body, headers=user)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the token's user no longer exists"
    assert client.post("/measurements", json=bad_body, headers=manager_headers).status_code == 422
    assert _stored(people) == 0
