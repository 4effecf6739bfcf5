"""A single write through the API: the answer is the stored row, and the request holds no
other connection (no read snapshot of its own) while its write commits."""

from __future__ import annotations

from sqlalchemy import event, select

from core.db import Database
from core.models import Measurement
from tests.api.test_flows import TRANSFORMER as TRANSFORMER_BODY


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
    # The sign-in token's check read the user, then ended its read before the write began:
    # a read left open keeps SQLite from resetting its log, and every commit pays for it.
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
