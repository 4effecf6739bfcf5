"""A downsampled read is made whole before it is sent, so its size has a limit; every
measurement of any range streams instead."""

from __future__ import annotations

from core.db import Database
from tests.factories import make_component


def test_a_downsampled_read_is_bounded_and_the_refusal_says_how_to_read_more(
    client, user_headers, people: Database
):
    component = make_component(people)
    path = f"/components/{component.id}/measurements"
    refused = client.get(path, params={"max_points": 1_000_000}, headers=user_headers)
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {
            "field": "max_points",
            "reason": "at most 100,000 points per type; leave max_points out to stream every "
            "measurement of the range, or narrow it with start and end",
        }
    ]
    assert client.get(path, params={"max_points": 100_000}, headers=user_headers).status_code == 200
    assert client.get(path, headers=user_headers).json() == []
