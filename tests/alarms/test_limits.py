"""Each default limit the grid model gives, and a manager's overrides beating it."""

from __future__ import annotations

import pytest

from core.alarms.limit_changes import set_component_limits, set_defaults, set_level_limits
from core.errors import InvalidInput
from tests.alarms.support import kinds, post
from tests.factories import LINE, MANAGER, make_component


def test_voltage_outside_ten_percent_of_nominal_is_an_alarm_and_five_a_warning(db):
    transformer = make_component(db)  # 110 kV
    post(db, transformer.id, "voltage", [110.0, 118.0])
    assert kinds(db) == {"high_warning": ("active_unacknowledged", pytest.approx(115.5), "voltage")}
    post(db, transformer.id, "voltage", [98.0], at=transformer.created_at.replace(year=2025))
    found = kinds(db)
    assert found["low_alarm"] == ("active_unacknowledged", pytest.approx(99.0), "voltage")
    assert found["low_warning"] == ("active_unacknowledged", pytest.approx(104.5), "voltage")


def test_transformer_loading_is_power_over_its_rating_either_way(db):
    transformer = make_component(db)  # 40 MVA
    post(db, transformer.id, "power", [10.0, -37.0])
    assert kinds(db) == {"loading_warning": ("active_unacknowledged", 36.0, "power")}
    post(db, transformer.id, "power", [41.0], at=transformer.created_at.replace(year=2025))
    assert kinds(db)["loading_alarm"] == ("active_unacknowledged", 40.0, "power")


def test_line_current_is_limited_only_when_its_rating_is_known(db):
    rated = make_component(db, LINE, rated_current_a=400)
    unrated = make_component(db, LINE, name="L2")
    post(db, rated.id, "current", [100.0, 410.0])
    post(db, unrated.id, "current", [100.0, 5000.0])
    assert kinds(db) == {
        "high_alarm": ("active_unacknowledged", 400.0, "current"),
        "high_warning": ("active_unacknowledged", 360.0, "current"),
    }


def test_a_component_override_beats_its_level_which_beats_the_defaults(db):
    first = make_component(db)
    second = make_component(db, name="T2")
    with db.write() as session:
        set_level_limits(
            session=session, actor=MANAGER, component_type="transformer", voltage_kv=110,
            limits=[{"measurement_type": "voltage", "high_alarm": 112}],
        )  # fmt: skip
        set_component_limits(
            session=session, actor=MANAGER, component_id=second.id,
            limits=[{"measurement_type": "voltage", "no_limit": True}],
        )  # fmt: skip
    post(db, first.id, "voltage", [113.0])
    post(db, second.id, "voltage", [200.0])
    assert kinds(db) == {"high_alarm": ("active_unacknowledged", 112.0, "voltage")}


def test_the_defaults_are_settings_a_manager_changes(db):
    transformer = make_component(db)
    with db.write() as session:
        set_defaults(session=session, actor=MANAGER, values={"voltage_warning_pct": 2})
    post(db, transformer.id, "voltage", [113.0])
    assert kinds(db) == {"high_warning": ("active_unacknowledged", pytest.approx(112.2), "voltage")}


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"voltage_alarm_pct": "ten"}, "voltage_alarm_pct: 'ten' is not a number"),
        ({"voltage_alarm_pct": 0}, "voltage_alarm_pct: must be between 0.1 and 100"),
        ({"voltage_warning_pct": 20}, "voltage_warning_pct: must not be above voltage_alarm_pct"),
        ({"volts": 3}, "volts: is not a limit default"),
        ({"delay_samples": 1.5}, "delay_samples: must be a whole number"),
    ],
)
def test_a_bad_default_is_named(db, values, named):
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        set_defaults(session=session, actor=MANAGER, values=values)
    assert named in str(refused.value)


def test_a_bad_override_is_named(db):
    component = make_component(db)
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        set_component_limits(
            session=session, actor=MANAGER, component_id=component.id,
            limits=[{"measurement_type": "voltage", "high_alarm": 100, "low_alarm": 120}],
        )  # fmt: skip
    assert "limits[0].limits: must be ordered" in str(refused.value)
