"""Hostile bodies for ``POST /measurements``: the short path in front of the app answers each
exactly as the route does (reached with ``?overwrite=false``), whoever sends it, and never
fails: no 500 and nothing logged as an error."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db import Database
from tests.api.test_permissions import _credential
from tests.api.test_single_post import _both, _same_answer

CALLERS = ("none", "garbage", "read token", "manager", "write token")
FIELDS = ("component_id", "measurement_type", "timestamp", "value")


def _hostile(cid: int) -> dict[str, tuple[bytes, str | None]]:
    """Bodies by name, each with its Content-Type (``None``: no header)."""
    good = {"component_id": cid, "measurement_type": "power", "value": 1.5}
    good["timestamp"] = "2024-06-01T00:00:00Z"  # the same for both paths
    text = json.dumps(good)[:-1]  # without its closing brace

    def as_json(body: str | bytes) -> tuple[bytes, str | None]:
        return (body.encode() if isinstance(body, str) else body), "application/json"

    return {
        "arrays nested 5,000 deep": as_json("[" * 5000 + "]" * 5000),
        "objects nested 2,000 deep": as_json('{"a":' * 2000 + "1" + "}" * 2000),
        "a value nested 3,000 deep": as_json(text + ', "extra": ' + "[" * 3000 + "]" * 3000 + "}"),
        "a component id nested deep": as_json(
            '{"component_id": ' + "[" * 3000 + "]" * 3000 + ', "value": 1}'
        ),
        "a value of 10^400": as_json(text.replace("1.5", "1e400") + "}"),
        "a value of 5,000 digits": as_json(text.replace("1.5", "9" * 5000) + "}"),
        "an id of 30 digits": as_json(json.dumps(good | {"component_id": 10**30})),
        "NaN": as_json(text.replace("1.5", "NaN") + "}"),
        "-Infinity": as_json(text.replace("1.5", "-Infinity") + "}"),
        "invalid UTF-8": as_json(text.encode() + b', "timestamp": "\xff\xfe"}'),
        "a lone surrogate": as_json(text + ', "timestamp": "\\ud800"}'),
        "a byte order mark": as_json(b"\xef\xbb\xbf" + json.dumps(good).encode()),
        "duplicate keys": as_json('{"component_id": 999999, ' + json.dumps(good)[1:]),
        "trailing text": as_json(json.dumps(good) + " and more"),
        "empty": as_json(b""),
        "null": as_json("null"),
        "a string": as_json('"component_id"'),
        "a number": as_json("1"),
        "an empty object": as_json("{}"),
        "text/plain": (json.dumps(good).encode(), "text/plain"),
        "a form": (b"component_id=1&value=1.5", "application/x-www-form-urlencoded"),
        "no Content-Type": (json.dumps(good).encode(), None),
        "a +json type": (json.dumps(good).encode(), "application/merge-patch+json"),
        "JSON in Latin-1": (json.dumps(good).encode(), "application/json; charset=latin-1"),
    }


def _same_for(
    client: Any, people: Database, headers: dict[str, str], body: bytes, content_type: str | None
) -> int:
    sent = headers | ({"Content-Type": content_type} if content_type else {})
    short, route = _both(client, people, content=body, headers=sent)
    _same_answer(short, route)
    assert short.status_code < 500, short.text
    return int(short.status_code)


@pytest.mark.parametrize("kind", CALLERS)
def test_every_hostile_body_gets_the_routes_answer(kind, client, people, world, caplog):
    headers = _credential(kind, client, people, world)
    with caplog.at_level(logging.ERROR):
        for name, (body, content_type) in _hostile(world.component).items():
            try:
                _same_for(client, people, headers, body, content_type)
            except AssertionError as error:
                raise AssertionError(f"{name}: {error}") from error
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.sampled_from(["power", "Voltage", "current", "2024-06-01T00:00:00Z", "2024-06-01", ""]),
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)
_BODIES = st.one_of(
    _VALUES.map(json.dumps),
    st.dictionaries(st.sampled_from(FIELDS), _VALUES, max_size=5).map(json.dumps),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
)


@settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(body=_BODIES)
def test_any_body_gets_the_routes_answer(body, client, people, world, manager_headers):
    _same_for(client, people, manager_headers, body.encode("utf-8", "surrogatepass"), None)
    _same_for(
        client, people, manager_headers, body.encode("utf-8", "surrogatepass"), "application/json"
    )


@pytest.mark.parametrize("body", ["Infinity", "-Infinity", "NaN", '{"value": [NaN]}', "[Infinity]"])
def test_a_body_of_a_float_json_cannot_write_is_a_422_on_both_paths(
    body, client, people, world, manager_headers
):
    """FastAPI echoes a refused body as ``input``: a bare ``Infinity`` made its answer a 500."""
    status = _same_for(client, people, manager_headers, body.encode(), "application/json")
    assert status == 422
