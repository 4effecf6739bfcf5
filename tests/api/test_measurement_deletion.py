"""Deleting measurements over HTTP: one by id, a component's range of one type; refusals say
what is wrong; the rollups stay exact; on both databases."""

from __future__ import annotations

from core.measurements import rollups

T = "2024-05-01T00:00:00Z"


def _post(client, headers, cid: int, timestamp: str, value: float) -> int:
    answer = client.post(
        "/measurements",
        json={"component_id": cid, "measurement_type": "power", "timestamp": timestamp,
              "value": value},
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_one_then_a_range_are_deleted_and_the_aggregates_agree(
    client, people, world, manager_headers
):
    cid = world.component
    ids = [_post(client, manager_headers, cid, f"2024-06-01T0{h}:00:00Z", 10 + h) for h in range(6)]
    assert client.delete(f"/measurements/{ids[5]}", headers=manager_headers).status_code == 204
    again = client.delete(f"/measurements/{ids[5]}", headers=manager_headers)
    assert again.status_code == 404
    assert again.json()["detail"] == f"measurement {ids[5]} does not exist"
    answer = client.delete(
        f"/components/{cid}/measurements",
        params={"measurement_type": "POWER", "start": "2024-06-01T01:00:00Z",
                "end": "2024-06-01T04:00:00Z"},
        headers=manager_headers,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"deleted": 3}
    left = client.get(
        f"/components/{cid}/measurements", params={"measurement_type": "power"},
        headers=manager_headers,
    )  # fmt: skip
    assert [row["value"] for row in left.json()] == [10.0, 14.0]
    with people.read() as session:
        assert rollups.differences(session).is_empty()


def test_bad_ranges_are_refused_naming_the_field(client, world, manager_headers, user_headers):
    path = f"/components/{world.component}/measurements"
    bad_type = client.delete(
        path, params={"measurement_type": "amps", "start": T, "end": "2024-05-02T00:00:00Z"},
        headers=manager_headers,
    )  # fmt: skip
    assert bad_type.status_code == 422
    assert "measurement_type" in bad_type.text and "'amps'" in bad_type.text
    backwards = client.delete(
        path, params={"measurement_type": "voltage", "start": "2024-05-02T00:00:00Z", "end": T},
        headers=manager_headers,
    )  # fmt: skip
    assert backwards.status_code == 422 and "must be after start" in backwards.text
    missing = client.delete(path, params={"measurement_type": "voltage"}, headers=manager_headers)
    assert missing.status_code == 422 and "start" in missing.text
    refused = client.delete(
        path, params={"measurement_type": "voltage", "start": T, "end": "2024-05-02T00:00:00Z"},
        headers=user_headers,
    )  # fmt: skip
    assert refused.status_code == 403
    unknown = client.delete(
        "/components/999999/measurements",
        params={"measurement_type": "voltage", "start": T, "end": "2024-05-02T00:00:00Z"},
        headers=manager_headers,
    )  # fmt: skip
    assert unknown.status_code == 404
