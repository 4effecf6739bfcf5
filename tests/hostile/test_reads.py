"""Reads with ids, offsets and limits no database column holds: an empty answer or a domain
error that names the page, never a driver's overflow, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.domain import MeasurementType
from core.errors import InvalidInput
from core.grid.components import count_measurements, list_components
from core.measurements.measurements import list_measurements, read_series, series_bounds
from tests.factories import make_component

HUGE = [2**31, -(2**31) - 1, 2**63, 10**30]


@pytest.mark.parametrize("component_id", HUGE)
def test_measurements_of_an_impossible_component_id_are_none(db, component_id):
    make_component(db)
    with db.read() as session:
        assert list_measurements(session=session, component_id=component_id).is_empty()
        assert count_measurements(session=session, component_id=component_id) == 0
        bounds = series_bounds(session=session, component_id=component_id)
        assert (bounds.first, bounds.last, bounds.count) == (None, None, 0)
        series = read_series(
            session=session,
            component_id=component_id,
            measurement_type=MeasurementType.VOLTAGE,
            start=datetime.min.replace(tzinfo=UTC),
            end=datetime.max.replace(tzinfo=UTC),
        )
        assert series.raw_count == 0 and series.frame.is_empty()


@pytest.mark.parametrize(
    ("offset", "limit"), [(-1, 10), (0, 0), (2**63, 10), (0, 2**63), (10**30, 10**30)]
)
def test_a_page_no_database_can_count_to_is_refused_by_name(db, offset, limit):
    component = make_component(db)
    with db.read() as session:
        with pytest.raises(InvalidInput) as caught:
            list_components(session=session, offset=offset, limit=limit)
        assert [problem.field for problem in caught.value.problems] == ["page"]
        with pytest.raises(InvalidInput, match="offset >= 0"):
            list_measurements(
                session=session, component_id=component.id, offset=offset, limit=limit
            )


def test_the_last_possible_page_is_simply_empty(db):
    make_component(db)
    with db.read() as session:
        assert list_components(session=session, offset=2**62 - 1, limit=2**62 - 1).items == []
