# ruff: noqa: E501
"""A bad query, body or token is answered with a 4xx and a reason, never a 500; the OpenAPI
description gives an example for every body."""

from __future__ import annotations

import pytest

from tests.factories import TRANSFORMER, make_component

HUGE = 2**70


@pytest.fixture
def component_id(people) -> int:
    return make_component(people, TRANSFORMER).id


def test_hostile_requests_get_a_reason_never_a_500(client, manager_headers, component_id):
    c = component_id
    requests = [
        ("GET", f"/components/{HUGE}", {}),
        ("GET", f"/components/-{HUGE}", {}),
        ("GET", "/components/abc", {}),
        ("GET", f"/components/{HUGE}/measurements", {}),
        ("GET", "/components", {"params": {"name_search": "T\x001", "substation": "\x00"}}),
        ("GET", "/components", {"params": {"offset": HUGE}}),
        ("GET", "/components", {"params": {"sort": "password_hash"}}),
        ("GET", f"/components/{c}/measurements", {"params": {"max_points": 0}}),
        ("GET", f"/components/{c}/measurements", {"params": {"start": "2024-01-02", "end": "2024-01-01"}}),
        ("GET", f"/components/{c}/measurements", {"params": {"start": "\x00"}}),
        ("PUT", f"/components/{HUGE}", {"json": {"name": "x"}}),
        ("PUT", f"/components/{c}", {"json": {"capacity_mva": "lots"}}),
        ("PUT", f"/components/{c}", {"json": {"name": "a" * 5000}}),
        ("PUT", f"/components/{c}", {"json": ["not", "an", "object"]}),
        ("DELETE", f"/components/{HUGE}", {}),
        ("POST", "/components", {"json": {"name": "N\x00", "substation": "S", "component_type": "switch", "status": "open"}}),
        ("POST", "/components", {"json": TRANSFORMER | {"capacity_mva": 1e300 * 10}}),
        ("POST", "/components", {"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/measurements", {"json": {"component_id": HUGE, "value": 1, "measurement_type": "power"}}),
        ("POST", "/measurements", {"json": {"component_id": c, "value": 10**400, "measurement_type": "power"}}),
        ("POST", "/measurements", {"content": b'{"component_id": 1, "value": NaN, "measurement_type": "power"}', "headers": {"Content-Type": "application/json"}}),
        ("POST", "/measurements", {"json": {"component_id": c, "value": 1, "measurement_type": "power", "timestamp": "99999-01-01"}}),
        ("POST", "/reports", {"json": {"start_date": "2024-01-01", "end_date": "2024-01-02", "time_zone": "\x00/../etc"}}),
        ("POST", "/reports", {"json": {"start_date": "0001-01-01", "end_date": "9999-12-31T23:59:59"}}),
        ("GET", f"/reports/{HUGE}", {}),
        ("DELETE", f"/reports/{HUGE}", {}),
        ("GET", f"/reports/{HUGE}.zip", {}),
        ("GET", "/reports/1/tables/../../etc/passwd.csv", {}),
        ("GET", "/reports", {"params": {"limit": HUGE}}),
        ("POST", "/measurements/import", {"content": b"\x00\x01PAR1", "headers": {"Content-Type": "application/vnd.apache.parquet"}}),
        ("POST", "/components/import", {"content": b"name;substation\nT;S\n", "headers": {"Content-Type": "text/csv"}}),
    ]  # fmt: skip
    for method, path, options in requests:
        headers = {**options.pop("headers", {}), **manager_headers}
        answer = client.request(method, path, **options, headers=headers)
        assert answer.status_code < 500, (method, path, answer.status_code, answer.text)
        if answer.status_code >= 400:
            assert answer.json()["detail"], (method, path)


def test_hostile_tokens_get_401_never_a_500(client):
    for value in ["Bearer", "Bearer ", "Bearer a.b", "Bearer gbt_", "Bearer " + "x" * 20_000,
                  "Basic dXNlcjpwYXNz", "Bearer \u00e9\u00e9", "Bearer eyJhbGciOiJub25lIn0.e30."]:  # fmt: skip
        answer = client.get("/components", headers={"Authorization": value.encode("utf-8")})
        assert answer.status_code == 401, (value[:30], answer.text)
    many = client.post("/auth/token", data={"username": "x" * 7_000, "password": "y" * 7_000})
    assert many.status_code == 401
    # a sign-in form past the small-body limit is refused for its size, unread
    more = client.post("/auth/token", data={"username": "x" * 10_000, "password": "y" * 10_000})
    assert more.status_code == 413 and "16384 bytes" in more.json()["detail"]


def test_every_request_body_in_the_openapi_description_has_an_example(client):
    schema = client.get("/openapi.json").json()
    bodies = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            for media, content in body["content"].items():
                bodies += 1
                inline = content.get("example") or content.get("examples")
                ref = content.get("schema", {}).get("$ref", "")
                component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
                from_schema = component.get("examples") or all(
                    "examples" in field for field in component.get("properties", {}).values()
                )
                assert inline or from_schema, f"{method.upper()} {path} ({media}) has no example"
    assert bodies >= 8
    assert schema["paths"]["/docs" if "/docs" in schema["paths"] else "/components"]
    assert client.get("/docs").status_code == 200
