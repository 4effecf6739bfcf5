"""Substations in the API: every role lists and reads them; a manager renames, describes, places
and deletes an empty one; a component written with an unknown substation says it created it."""

from __future__ import annotations

from tests.api.conftest import bearer
from tests.factories import LINE, TRANSFORMER, make_component


def test_every_role_lists_and_reads_substations_with_what_they_hold(
    client, people, world, manager_headers, user_headers
):
    make_component(people, LINE, to_substation="Hilltop")
    for headers in (manager_headers, user_headers, bearer(world.read_token)):
        listed = client.get("/substations", headers=headers)
        assert listed.status_code == 200, listed.text
        assert [(s["name"], s["components"], s["line_ends"]) for s in listed.json()] == [
            ("Hilltop", 0, 1),
            ("Riverside", 3, 0),
        ]
        one = client.get("/substations/Riverside", headers=headers).json()
        assert (one["description"], one["pinned"]) == (None, False)
    assert client.get("/substations/Nowhere", headers=user_headers).status_code == 404


def test_a_rename_moves_every_component_and_line_end_at_once(
    client, people, world, manager_headers
):
    make_component(people, LINE, substation="Hilltop", to_substation="Riverside")
    answer = client.put(
        "/substations/Riverside",
        json={"name": "Riverside North", "description": "feeds the old town"},
        headers=manager_headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "Riverside North"
    components = client.get("/components", headers=manager_headers).json()
    assert {(c["name"], c["substation"], c["to_substation"]) for c in components} == {
        ("T1", "Riverside North", None),
        ("V1", "Riverside North", None),
        ("L1", "Hilltop", "Riverside North"),
    }
    assert client.get("/substations/Riverside", headers=manager_headers).status_code == 404
    described = client.get("/substations/Riverside North", headers=manager_headers).json()
    assert described["description"] == "feeds the old town"


def test_a_rename_into_a_look_alike_of_another_substation_is_refused(
    client, people, world, manager_headers
):
    make_component(people, substation="Hilltop")
    answer = client.put(
        "/substations/Hilltop", json={"name": "Riv\u0435rside"}, headers=manager_headers
    )
    assert answer.status_code == 422
    assert "use 'Riverside'" in answer.text


def test_deleting_a_substation_that_holds_anything_is_refused_naming_what(
    client, people, world, manager_headers, user_headers
):
    make_component(people, LINE, substation="Hilltop", to_substation="Lakeside")
    refused = client.delete("/substations/Riverside", headers=manager_headers)
    assert refused.status_code == 409
    assert "holds 2 component(s)" in refused.json()["detail"]
    end = client.delete("/substations/Lakeside", headers=manager_headers)
    assert end.status_code == 409
    assert "1 line end(s)" in end.json()["detail"]
    assert client.delete("/substations/Hilltop", headers=user_headers).status_code == 403
    client.delete(f"/components/{world.component}", headers=manager_headers)
    client.delete(f"/components/{world.victim}", headers=manager_headers)
    assert client.delete("/substations/Riverside", headers=manager_headers).status_code == 204
    names = [s["name"] for s in client.get("/substations", headers=manager_headers).json()]
    assert names == ["Hilltop", "Lakeside"]


def test_a_manager_pins_a_substation_where_the_map_shows_it(
    client, people, world, manager_headers, user_headers
):
    pinned = {"x": 0.25, "y": -0.5, "pinned": True}
    refused = client.put("/substations/Riverside", json=pinned, headers=user_headers)
    assert refused.status_code == 403
    answer = client.put("/substations/Riverside", json=pinned, headers=manager_headers)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["x"], answer.json()["y"], answer.json()["pinned"]) == (0.25, -0.5, True)
    half = client.put("/substations/Riverside", json={"x": 1.0}, headers=manager_headers)
    assert half.status_code == 422
    assert "give x and y together" in half.text


def test_a_component_with_an_unknown_substation_says_it_created_it(
    client, people, world, manager_headers
):
    created = client.post(
        "/components",
        json={**LINE, "name": "L7", "to_substation": "Nowhere-Else"},
        headers=manager_headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["created_substations"] == ["Nowhere-Else"]
    again = client.post("/components", json={**TRANSFORMER, "name": "T9"}, headers=manager_headers)
    assert again.json()["created_substations"] == []
    moved = client.put(
        f"/components/{world.component}", json={"substation": "Seefeldd"}, headers=manager_headers
    )
    assert moved.json()["created_substations"] == ["Seefeldd"]
    assert moved.json()["substation"] == "Seefeldd"


def test_a_description_or_place_beyond_its_limit_is_refused_naming_it(
    client, people, world, manager_headers
):
    long = client.put(
        "/substations/Riverside", json={"description": "d" * 2001}, headers=manager_headers
    )
    assert long.status_code == 422
    assert long.json()["problems"][0]["field"] == "description"
    far = client.put("/substations/Riverside", json={"x": 1e9, "y": 0}, headers=manager_headers)
    assert far.status_code == 422
    assert "within ±1000" in far.text
    assert client.get("/substations/Riverside", headers=manager_headers).json()["x"] != 1e9
