"""The API refuses a measurement implausible for its component, in a single post and an
import, unless the import allows it (``allow_implausible=true``), on both databases."""

from __future__ import annotations

from sqlalchemy import func, select

from api.app import create_app
from core.models import Component, Measurement
from tests.api.conftest import MANAGER_PASSWORD, SETTINGS, TestClient, bearer, sign_in
from tests.factories import make_component

T = "2024-05-01T12:00:00Z"
HEADER = "component_name,substation,timestamp,measurement_type,value\n"


def _count(db) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Measurement)) or 0)


def _id(db, name: str) -> int:
    with db.read() as session:
        return int(session.scalar(select(Component.id).where(Component.name == name)))


def test_the_api_refuses_a_post_and_an_import_unless_the_import_allows_it(people):
    make_component(people)
    with TestClient(create_app(people, settings=SETTINGS, run_reports=False)) as client:
        headers = bearer(sign_in(client, "mona", MANAGER_PASSWORD))
        post = client.post(
            "/measurements",
            json={"component_id": _id(people, "T1"), "measurement_type": "voltage",
                  "timestamp": T, "value": 110000},
            headers=headers,
        )  # fmt: skip
        assert post.status_code == 422
        assert "110000 kV looks like volts; GridBoard stores kV" in post.text
        body = HEADER + f"T1,Riverside,{T},voltage,110000\n"
        csv = headers | {"Content-Type": "text/csv"}
        refused = client.post("/measurements/import", content=body, headers=csv)
        assert refused.status_code == 422
        assert "looks like volts" in refused.text
        allowed = client.post(
            "/measurements/import", content=body, headers=csv,
            params={"allow_implausible": "true"},
        )  # fmt: skip
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["allow_implausible"] is True
    assert _count(people) == 1
