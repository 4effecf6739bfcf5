"""The alarm and limit routes: a single post outside its limit is an alarm the list shows at
once; filters, acknowledge, shelve and limits answer as the reference says, bad input named."""

from __future__ import annotations

from datetime import timedelta

from core.models import utc_now
from tests.factories import LINE, make_component


def _post(client, headers, component_id, value, minute=0, kind="voltage"):
    answer = client.post(
        "/measurements",
        headers=headers,
        json={
            "component_id": component_id,
            "measurement_type": kind,
            "timestamp": f"2024-05-01T00:{minute:02d}:00Z",
            "value": value,
        },
    )
    assert answer.status_code == 201, answer.text


def test_a_single_post_outside_its_limit_is_listed_and_clears(client, people, manager_headers,
                                                              user_headers):  # fmt: skip
    transformer = make_component(people)
    _post(client, manager_headers, transformer.id, 125.0)
    listed = client.get("/alarms", headers=user_headers).json()
    assert listed["total"] == 2
    assert [(a["kind"], a["severity"], a["state"]) for a in listed["alarms"]] == [
        ("high_alarm", "alarm", "active_unacknowledged"),
        ("high_warning", "warning", "active_unacknowledged"),
    ]
    assert listed["alarms"][0]["raised_at"] == "2024-05-01T00:00:00Z"
    _post(client, manager_headers, transformer.id, 110.0, minute=1)
    assert client.get("/alarms", headers=user_headers, params={"state": "active"}).json() == {
        "total": 0,
        "alarms": [],
    }
    cleared = client.get(
        "/alarms", headers=user_headers, params={"state": "cleared_unacknowledged"}
    ).json()
    assert {a["cleared_at"] for a in cleared["alarms"]} == {"2024-05-01T00:01:00Z"}


def test_filters_narrow_the_list_and_bad_ones_are_named(client, people, manager_headers):
    transformer = make_component(people)
    line = make_component(people, LINE, rated_current_a=400, substation="Hilltop")
    _post(client, manager_headers, transformer.id, 125.0)
    _post(client, manager_headers, line.id, 500.0, kind="current")
    by = {
        "substation": {"substation": "Hilltop"},
        "component_type": {"component_type": "TRANSFORMER"},
        "kind": {"kind": "high_warning"},
        "period": {"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T00:01:00Z"},
        "page": {"limit": 1, "offset": 3},
    }
    found = {
        name: [
            (a["component_id"], a["kind"])
            for a in client.get("/alarms", headers=manager_headers, params=params).json()["alarms"]
        ]
        for name, params in by.items()
    }
    assert found["substation"] == [(line.id, "high_alarm"), (line.id, "high_warning")]
    assert {c for c, _ in found["component_type"]} == {transformer.id}
    assert sorted(found["kind"]) == [(transformer.id, "high_warning"), (line.id, "high_warning")]
    assert len(found["period"]) == 4 and len(found["page"]) == 1
    answer = client.get(
        "/alarms", headers=manager_headers, params={"state": "red", "kind": "x", "start": "soon"}
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "state: must be one of open, active, all" in detail
    assert "kind:" in detail and "start:" in detail


def test_acknowledge_shelve_and_their_refusals(client, people, manager_headers):
    transformer = make_component(people)
    _post(client, manager_headers, transformer.id, 125.0)
    alarm_id = client.get("/alarms", headers=manager_headers).json()["alarms"][0]["id"]
    acked = client.post(
        f"/alarms/{alarm_id}/acknowledge", headers=manager_headers, json={"comment": "on it"}
    ).json()
    assert acked["state"] == "active_acknowledged"
    assert [(e["event"], e["by"], e["comment"]) for e in acked["events"]][-1] == (
        "acknowledge", "mona", "on it",
    )  # fmt: skip
    again = client.post(f"/alarms/{alarm_id}/acknowledge", headers=manager_headers, json={})
    assert again.status_code == 409
    assert "cannot take 'acknowledge'" in again.json()["detail"]
    until = (utc_now() + timedelta(hours=2)).isoformat()
    shelve = client.post(
        f"/alarms/{alarm_id}/shelve", headers=manager_headers,
        json={"until": until, "reason": "crew on site"},
    )  # fmt: skip
    assert shelve.json()["shelve_reason"] == "crew on site"
    assert alarm_id not in [
        a["id"] for a in client.get("/alarms", headers=manager_headers).json()["alarms"]
    ]
    too_long = (utc_now() + timedelta(days=30)).isoformat()
    refused = client.post(
        f"/alarms/{alarm_id}/shelve", headers=manager_headers,
        json={"until": too_long, "reason": "x"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "may be at most 7 days ahead" in refused.json()["detail"]
    for missing in (999_999, 2**40):
        answer = client.get(f"/alarms/{missing}", headers=manager_headers)
        assert answer.status_code == 404 and "does not exist" in answer.json()["detail"]


def test_limits_read_and_written_with_every_problem_named(client, people, manager_headers):
    transformer = make_component(people)
    put = client.put(
        f"/components/{transformer.id}/limits", headers=manager_headers,
        json={"limits": [{"measurement_type": "Voltage", "high_alarm": 118, "low_alarm": 100}]},
    )  # fmt: skip
    assert put.status_code == 200, put.text
    assert (
        client.get(f"/components/{transformer.id}/limits", headers=manager_headers).json()[0][
            "high_alarm"
        ]
        == 118
    )
    bad = client.put(
        f"/components/{transformer.id}/limits", headers=manager_headers,
        json={"limits": [{"measurement_type": "volts", "high_alarm": 1},
                         {"measurement_type": "power", "deadband_pct": 80, "high_alarm": 1}]},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "limits[0].measurement_type" in bad.json()["detail"]
    assert "limits[1].deadband_pct: must be between 0 and 50" in bad.json()["detail"]
    settings = client.put(
        "/limits", headers=manager_headers,
        json={"defaults": {"silence_minutes": 30},
              "levels": [{"component_type": "line", "voltage_kv": 20,
                          "limits": [{"measurement_type": "current", "high_alarm": 350}]}]},
    )  # fmt: skip
    assert settings.status_code == 200, settings.text
    read = client.get("/limits", headers=manager_headers).json()
    assert read["defaults"]["silence_minutes"] == 30 and read["defaults"]["voltage_alarm_pct"] == 10
    assert read["levels"][0]["limits"][0]["high_alarm"] == 350
    refused = client.put("/limits", headers=manager_headers, json={"defaults": {"volts": 1}})
    assert refused.status_code == 422 and "volts: is not a limit default" in refused.text


def test_the_openapi_document_shows_examples_of_the_alarm_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    routes = ["/alarms", "/alarms/{alarm_id}", "/alarms/{alarm_id}/acknowledge"]
    routes += ["/alarms/{alarm_id}/shelve", "/components/{component_id}/limits", "/limits"]
    assert [path for path in routes if path not in paths] == []
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ShelveBody"]["examples"] and schemas["AlarmOut"]["examples"]


def test_a_line_s_rated_current_in_the_api(client, manager_headers):
    created = client.post(
        "/components", headers=manager_headers, json=LINE | {"rated_current_a": 400}
    )
    assert created.status_code == 201 and created.json()["rated_current_a"] == 400
    changed = client.put(
        f"/components/{created.json()['id']}", headers=manager_headers,
        json={"rated_current_a": 500},
    )  # fmt: skip
    assert changed.json()["rated_current_a"] == 500 and changed.json()["to_substation"] is None


def test_an_overwriting_post_and_a_deletion_re_evaluate_the_alarms(
    client, people, manager_headers, user_headers
):
    transformer = make_component(people)
    for minute, value in enumerate([110.0, 125.0, 126.0, 110.0]):
        _post(client, manager_headers, transformer.id, value, minute=minute)
    [alarm] = client.get(
        "/alarms", headers=user_headers, params={"state": "all", "kind": "high_alarm"}
    ).json()["alarms"]
    assert (alarm["raised_at"], alarm["cleared_at"], alarm["worst_value"]) == (
        "2024-05-01T00:01:00Z", "2024-05-01T00:03:00Z", 126.0,
    )  # fmt: skip
    replaced = client.post(
        "/measurements",
        headers=manager_headers,
        params={"overwrite": "true"},
        json={"component_id": transformer.id, "measurement_type": "voltage",
              "timestamp": "2024-05-01T00:02:00Z", "value": 110.0},
    )  # fmt: skip
    assert replaced.status_code == 201, replaced.text
    [alarm] = client.get(
        "/alarms", headers=user_headers, params={"state": "all", "kind": "high_alarm"}
    ).json()["alarms"]
    assert (alarm["cleared_at"], alarm["worst_value"]) == ("2024-05-01T00:02:00Z", 125.0)
    deleted = client.delete(
        f"/components/{transformer.id}/measurements",
        headers=manager_headers,
        params={"measurement_type": "voltage", "start": "2024-05-01T00:01:00Z",
                "end": "2024-05-01T00:02:00Z"},
    )  # fmt: skip
    assert deleted.json() == {"deleted": 1}
    assert client.get("/alarms", headers=user_headers, params={"state": "all"}).json() == {
        "total": 0,
        "alarms": [],
    }
