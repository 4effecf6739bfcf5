"""Over HTTP, one component named T1 in a substation answers 201 and every name that reads
the same (invisible and bidi characters, Greek and Cyrillic look-alikes, full-width letters) is
refused; on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.factories import TRANSFORMER
from tests.security.test_look_alike_names import EQUIVALENT, INVISIBLE, LOOK_ALIKE


def test_the_api_answers_one_201_and_refuses_every_look_alike(client, manager_headers):
    body = {**TRANSFORMER, "name": "T1"}
    assert client.post("/components", json=body, headers=manager_headers).status_code == 201
    for name in [*INVISIBLE.values(), *LOOK_ALIKE.values(), *EQUIVALENT.values()]:
        answer = client.post("/components", json={**body, "name": name}, headers=manager_headers)
        assert answer.status_code in (409, 422), (name, answer.status_code, answer.text)
        assert "T1" in answer.text or "U+" in answer.text
    listed = client.get("/components", headers=manager_headers).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert [item["name"] for item in items if item["substation"] == "Riverside"] == ["T1"]
