"""A report period the API accepts can be read back; one whose local days reach past the
calendar is refused when asked for, naming the accepted range."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Report


def _reports(db) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Report)) or 0)


def test_a_report_ending_on_the_last_day_of_9999_is_refused_naming_the_range(
    people, client, manager_headers
):
    asked = client.post(
        "/reports",
        json={"start_date": "9999-12-01T00:00:00Z", "end_date": "9999-12-31T09:00:00Z"},
        headers=manager_headers,
    )
    assert asked.status_code == 422, asked.text
    assert asked.json()["detail"] == (
        "period: the period must lie within the years 1 to 9999 in UTC: from "
        "0001-01-01T00:00:00Z to 9999-12-31T00:00:00Z"
    )
    assert _reports(people) == 0


def test_the_last_period_accepted_is_queued(people, client, manager_headers):
    asked = client.post(
        "/reports",
        json={"start_date": "9999-12-01T00:00:00Z", "end_date": "9999-12-31T00:00:00Z"},
        headers=manager_headers,
    )
    assert asked.status_code == 202, asked.text
