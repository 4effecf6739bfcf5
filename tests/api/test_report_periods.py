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


def test_dates_are_local_midnights_in_the_zone_asked_and_offsets_keep_their_instant(
    people, client, manager_headers
):
    from datetime import UTC, datetime

    from core.reports.periods import partial_days

    asked = client.post(
        "/reports",
        json={"start_date": "2026-11-01", "end_date": "2026-12-01", "time_zone": "Europe/Zurich"},
        headers=manager_headers,
    )
    assert asked.status_code == 202, asked.text
    assert (asked.json()["start_date"], asked.json()["end_date"]) == (
        "2026-10-31T23:00:00Z",
        "2026-11-30T23:00:00Z",
    )
    start, end = (datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC))
    assert partial_days(start, end, time_zone="Europe/Zurich") == set()
    with people.read() as session:
        stored = session.scalars(select(Report)).one()
    assert (stored.period_start, stored.period_end) == (start, end)

    wall_clock = client.post(
        "/reports",
        json={
            "start_date": "2026-11-01T06:30",
            "end_date": "2026-11-02T00:00:00-05:00",
            "time_zone": "Europe/Zurich",
        },
        headers=manager_headers,
    ).json()
    assert (wall_clock["start_date"], wall_clock["end_date"]) == (
        "2026-11-01T05:30:00Z",
        "2026-11-02T05:00:00Z",
    )


def test_a_bad_zone_and_a_bad_date_are_named_in_one_answer(people, client, manager_headers):
    asked = client.post(
        "/reports",
        json={"start_date": "2026-11-01", "end_date": "December", "time_zone": "Mars/Olympus"},
        headers=manager_headers,
    )
    assert asked.status_code == 422
    assert "Mars/Olympus" in asked.text and "December" in asked.text
    assert _reports(people) == 0
