from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import delete, func, select

from core.alarms.engine import evaluate_history
from core.domain import ComponentType, MeasurementType, SwitchStatus
from core.errors import InvalidInput, MissingPermission, NonEmptyDatabase
from core.measurements import rollups
from core.models import Alarm, Component, Measurement, MeasurementRollup
from core.seed import (
    PRIMARY_TRANSFORMER_MVA,
    SECONDARY_TRANSFORMER_MVA,
    SeedSummary,
    seed_grid,
)
from core.seed.grid import MAX_CIRCUITS
from core.timestamps import to_micros
from tests.factories import MANAGER, USER, make_component

END = datetime(2024, 3, 10, tzinfo=UTC)
CADENCE_US = 15 * 60 * 1_000_000
LEVELS_KV = (110.0, 20.0, 0.4)
IDENTITY = ["substation", "name", "component_type", "voltage_kv", "capacity_mva", "status"]
TRANSFORMER_RATINGS = {110.0: PRIMARY_TRANSFORMER_MVA, 20.0: SECONDARY_TRANSFORMER_MVA}
LINE_LENGTHS_KM = {110.0: (5.0, 60.0), 20.0: (0.5, 15.0), 0.4: (0.1, 1.0)}


def seed(db, **options) -> SeedSummary:
    """The natural series (the planted excursions have tests of their own, at the end)."""
    arguments = {
        "components": 20, "per_component": 300, "end": END, "plant_excursions": False,
        **options,
    }  # fmt: skip
    with db.write() as session:
        return seed_grid(session=session, actor=MANAGER, **arguments)


def components_frame(db) -> pl.DataFrame:
    with db.read() as session:
        rows = session.execute(
            select(
                Component.id,
                Component.name,
                Component.substation,
                Component.component_type,
                Component.capacity_mva,
                Component.voltage_kv,
                Component.length_km,
                Component.status,
                Component.created_by,
            )
        ).all()
    return pl.DataFrame(
        [tuple(row) for row in rows],
        schema=[
            "id",
            "name",
            "substation",
            "component_type",
            "capacity_mva",
            "voltage_kv",
            "length_km",
            "status",
            "created_by",
        ],
        orient="row",
    )


def measurements_frame(db) -> pl.DataFrame:
    """Every measurement with its component's identity and attributes, in a stable order."""
    with db.read() as session:
        rows = session.execute(
            select(
                Component.substation,
                Component.name,
                Component.component_type,
                Component.voltage_kv,
                Component.capacity_mva,
                Component.status,
                Measurement.measurement_type,
                Measurement.timestamp_us,
                Measurement.value,
            )
            .join(Component, Component.id == Measurement.component_id)
            .order_by(
                Component.substation,
                Component.name,
                Measurement.measurement_type,
                Measurement.timestamp_us,
            )
        ).all()
    return pl.DataFrame(
        [tuple(row) for row in rows],
        schema={
            "substation": pl.String,
            "name": pl.String,
            "component_type": pl.String,
            "voltage_kv": pl.Float64,
            "capacity_mva": pl.Float64,
            "status": pl.String,
            "measurement_type": pl.String,
            "timestamp_us": pl.Int64,
            "value": pl.Float64,
        },
        orient="row",
    )


def wide(measurements: pl.DataFrame) -> pl.DataFrame:
    """One row per component and time with voltage, current and power side by side."""
    return measurements.pivot(
        on="measurement_type",
        index=[*IDENTITY, "timestamp_us"],
        values="value",
    )


def empty_database(db) -> None:
    with db.write() as session:
        for model in (Measurement, MeasurementRollup, Component):
            session.execute(delete(model))


def test_seed_writes_the_asked_counts(db):
    summary = seed(db)

    assert summary.components == 20
    assert summary.measurements == 20 * 300
    components = components_frame(db)
    assert components.height == 20
    assert components.get_column("substation").n_unique() == summary.substations == 2
    with db.read() as session:
        counts = session.execute(
            select(Measurement.component_id, Measurement.measurement_type, func.count()).group_by(
                Measurement.component_id, Measurement.measurement_type
            )
        ).all()
    assert len(counts) == 20 * 3
    assert {count for *_, count in counts} == {100}


def test_per_component_splits_over_the_three_types_with_the_remainder_first(db):
    seed(db, components=2, per_component=302)

    counts = measurements_frame(db).group_by("name", "substation", "measurement_type").len()
    by_type = dict(counts.group_by("measurement_type").agg(pl.col("len").max()).iter_rows())
    assert by_type == {"voltage": 101, "current": 101, "power": 100}
    assert counts.get_column("len").sum() == 2 * 302


def test_component_types_mix_and_every_rule_holds(db):
    summary = seed(db, components=400, per_component=0)

    components = components_frame(db)
    kinds = dict(components.group_by("component_type").len().iter_rows())
    assert kinds == {"transformer": 120, "line": 180, "switch": 100}
    assert summary.substations == components.get_column("substation").n_unique() == 50
    assert set(components.get_column("created_by")) == {MANAGER.username}
    assert components.select("name", "substation").is_unique().all()

    for row in components.iter_rows(named=True):
        kind = ComponentType(row["component_type"])
        if kind is ComponentType.TRANSFORMER:
            assert row["length_km"] is None and row["status"] is None
            assert row["capacity_mva"] in TRANSFORMER_RATINGS[row["voltage_kv"]], row
        elif kind is ComponentType.LINE:
            assert row["capacity_mva"] is None and row["status"] is None
            low, high = LINE_LENGTHS_KM[row["voltage_kv"]]
            assert low <= row["length_km"] <= high, row
        else:
            assert row["capacity_mva"] is row["voltage_kv"] is row["length_km"] is None
            assert row["status"] in {status.value for status in SwitchStatus}

    switches = components.filter(pl.col("component_type") == "switch")
    closed_share = (switches.get_column("status") == "closed").mean()
    assert isinstance(closed_share, float)
    assert 0.8 <= closed_share <= 0.97
    # Both kinds of substation, with their own voltage levels.
    levels = components.group_by("component_type").agg(pl.col("voltage_kv").unique().sort())
    assert dict(levels.iter_rows()) == {
        "transformer": [20.0, 110.0],
        "line": [0.4, 20.0, 110.0],
        "switch": [None],
    }


def test_timestamps_follow_the_cadence_and_end_at_end(db):
    summary = seed(db, components=3, per_component=301, cadence_minutes=15)

    end_us = to_micros(END)
    series = (
        measurements_frame(db)
        .group_by("substation", "name", "measurement_type")
        .agg(
            pl.col("timestamp_us").min().alias("first"),
            pl.col("timestamp_us").max().alias("last"),
            pl.col("timestamp_us").diff().drop_nulls().unique().alias("steps"),
            pl.len().alias("count"),
        )
    )
    assert set(series.get_column("last")) == {end_us}
    assert all(steps.to_list() == [CADENCE_US] for steps in series.get_column("steps"))
    for row in series.iter_rows(named=True):
        assert row["first"] == end_us - (row["count"] - 1) * CADENCE_US
    assert summary.last_timestamp == END
    assert summary.first_timestamp == END - timedelta(minutes=15 * 100)


def test_end_defaults_to_the_start_of_today(db):
    summary = seed(db, components=1, per_component=3, end=None)

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert summary.last_timestamp in {today, today + timedelta(days=1)}  # around midnight


def test_measurement_values_are_physically_plausible(db):
    seed(db)

    rows = wide(measurements_frame(db))
    assert rows.height == 20 * 100
    for row in rows.iter_rows(named=True):
        voltage, current, power = row["voltage"], row["current"], row["power"]
        if row["voltage_kv"] is not None:
            nominal = row["voltage_kv"]
        else:  # a switch measures the bus voltage of one of the grid's levels
            nominal = min(LEVELS_KV, key=lambda level: abs(voltage / level - 1))
        assert abs(voltage / nominal - 1) <= 0.10, row
        assert current >= 0
        assert math.isclose(
            current, abs(power) * 1000 / (math.sqrt(3) * voltage), rel_tol=0.01, abs_tol=0.05
        ), row
        if row["capacity_mva"] is not None:
            assert abs(power) <= row["capacity_mva"], row
        if row["status"] == SwitchStatus.OPEN:
            assert current == power == 0
    positive = (rows.get_column("power") > 0).mean()
    assert isinstance(positive, float)
    assert positive >= 0.75


def test_values_read_back_with_the_decimals_a_meter_reports(db):
    seed(db, components=8, per_component=30)

    measurements = measurements_frame(db)
    decimals = {"current": 2, "power": 4, "voltage": 4}
    for kind, value in measurements.select("measurement_type", "value").iter_rows():
        assert value == round(value, decimals[kind]), (kind, value)
    # Not merely whole numbers: the decimals are there.
    assert measurements.filter(pl.col("value") != pl.col("value").round(0)).height > 0


def test_power_follows_a_daily_profile_with_evening_peak_and_night_valley(db):
    seed(db, components=6, per_component=3 * 24 * 14, cadence_minutes=60)

    measurements = measurements_frame(db).filter(
        pl.col("measurement_type") == MeasurementType.POWER,
        pl.col("component_type") == ComponentType.TRANSFORMER,
    )
    hourly = (
        measurements.with_columns(
            hour=(pl.col("timestamp_us") // 3_600_000_000) % 24,
            share=pl.col("value") / pl.col("value").max().over("substation", "name"),
        )
        .group_by("hour")
        .agg(pl.col("share").mean())
    )
    share = dict(hourly.iter_rows())
    assert share[19] > share[13] > share[3]
    assert share[8] > share[3]
    assert share[3] < 0.6 < share[19]


def test_rollups_agree_with_the_seeded_rows(db):
    seed(db)

    with db.read() as session:
        assert rollups.differences(session).is_empty()


def test_same_seed_gives_identical_data_and_another_seed_different_data(db):
    def seeded(random_seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        empty_database(db)
        seed(db, random_seed=random_seed)
        inventory = components_frame(db).drop("id").sort("substation", "name")
        return inventory, measurements_frame(db)

    first_components, first = seeded(7)
    again_components, again = seeded(7)
    other_components, other = seeded(8)

    assert_frame_equal(first_components, again_components)
    assert_frame_equal(first, again)
    assert not first_components.equals(other_components)
    assert not first.equals(other)


def test_refuses_a_database_that_has_components(db):
    make_component(db)

    with pytest.raises(NonEmptyDatabase, match="already has 1 component;"):
        seed(db)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Component)) == 1
        assert session.scalar(select(func.count()).select_from(Measurement)) == 0


def test_only_a_manager_may_seed(db):
    with db.write() as session, pytest.raises(MissingPermission):
        seed_grid(session=session, actor=USER, components=2, per_component=3, end=END)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"components": 0}, "components"),
        ({"per_component": -1}, "per_component"),
        ({"cadence_minutes": 0}, "cadence_minutes"),
    ],
)
def test_refuses_impossible_sizes(db, options, field):
    with pytest.raises(InvalidInput) as caught:
        seed(db, **options)
    assert field in {problem.field for problem in caught.value.problems}


def test_progress_reports_growing_fractions_up_to_one(db):
    seen: list[float] = []

    seed(db, components=5, per_component=30, progress=seen.append)

    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(1.0)


def test_lines_connect_the_substations_into_one_radial_network(db):
    seed(db, components=400, per_component=0)

    with db.read() as session:
        rows = session.execute(
            select(
                Component.substation,
                Component.to_substation,
                Component.voltage_kv,
                Component.component_type,
            )
        ).all()
    transformers = {(where, kv) for where, _to, kv, kind in rows if kind == "transformer"}
    primaries = {where for where, kv in transformers if kv == 110.0}
    substations = {where for where, *_ in rows}
    assert 0 < len(primaries) < len(substations)
    lines = [(where, to, kv) for where, to, kv, kind in rows if kind == "line"]
    assert all(to is None or to in substations for _where, to, _kv in lines)
    for where, to, kv in lines:
        if kv == 0.4:  # low voltage stays inside its substation
            assert to is None
        elif kv == 110.0:  # between primaries
            assert where in primaries and to in primaries, (where, to)
        elif to is not None:  # a 20 kV feeder reaches a secondary substation
            assert to not in primaries or where not in primaries, (where, to)
    # One network: every substation reaches every other one along lines.
    group = {name: name for name in substations}

    def root(name):
        while group[name] != name:
            name = group[name]
        return name

    for where, to, _kv in lines:
        if to is not None:
            group[root(where)] = root(to)
    assert len({root(name) for name in substations}) == 1
    # Radial: as many distinct connections as substations minus one (a tree).
    links = {frozenset((where, to)) for where, to, _kv in lines if to is not None}
    assert len(links) == len(substations) - 1


def test_parallel_circuits_are_at_most_double_and_named_apart_per_pair(db):
    seed(db, components=400, per_component=0)
    with db.read() as session:
        rows = session.execute(
            select(Component.name, Component.substation, Component.to_substation).where(
                Component.to_substation.is_not(None)
            )
        ).all()
    by_pair: dict[frozenset[str], list[str]] = {}
    for name, where, to in rows:
        by_pair.setdefault(frozenset((where, to)), []).append(name)
    assert max(len(names) for names in by_pair.values()) == MAX_CIRCUITS  # double circuits
    assert sum(len(names) == MAX_CIRCUITS for names in by_pair.values()) >= 5
    for pair, names in by_pair.items():
        assert len(set(names)) == len(names), (pair, names)  # each line told apart
        first, second = sorted(pair)
        assert sorted(names) == [f"{first} – {second} {n}" for n in range(1, len(names) + 1)]


def alarm_rows(db) -> list[tuple[object, ...]]:
    with db.read() as session:
        rows = session.execute(
            select(
                Component.substation, Component.name, Alarm.measurement_type, Alarm.kind,
                Alarm.raised_at_us, Alarm.cleared_at_us, Alarm.worst_value, Alarm.state,
            ).join(Component, Component.id == Alarm.component_id)
        ).all()  # fmt: skip
    return sorted(tuple(row) for row in rows)


def test_the_demo_seed_plants_a_sag_an_overload_and_a_silence_that_raise_alarms(db):
    summary = seed(db, plant_excursions=True)

    end_us, hour_us = to_micros(END), 3_600 * 1_000_000
    alarms = alarm_rows(db)
    by_kind: dict[str, list[tuple[object, ...]]] = {}
    for row in alarms:
        by_kind.setdefault(str(row[3]), []).append(row)
    # a sag below 90 % on three components, an hour long, ten hours before the end
    sags = by_kind["low_alarm"]
    assert len({(r[0], r[1]) for r in sags}) == 3
    assert {(r[4], r[5]) for r in sags} == {(end_us - 10 * hour_us, end_us - 9 * hour_us)}
    assert {(r[0], r[1]) for r in by_kind["low_warning"]} >= {(r[0], r[1]) for r in sags}
    # one transformer above its rating for an hour, six hours before the end
    [overload] = by_kind["loading_alarm"]
    assert (overload[4], overload[5]) == (end_us - 6 * hour_us, end_us - 5 * hour_us)
    with db.read() as session:
        capacity = session.scalar(
            select(Component.capacity_mva).where(
                Component.substation == overload[0], Component.name == overload[1]
            )
        )
    assert overload[6] == pytest.approx(1.12 * capacity, abs=1e-4)
    # one component silent for its last two hours: communication lost, still active
    [silent] = by_kind["communication_lost"]
    assert silent[7] == "active_unacknowledged"
    with db.read() as session:
        newest = session.scalar(
            select(func.max(Measurement.timestamp_us))
            .join(Component, Component.id == Measurement.component_id)
            .where(Component.substation == silent[0], Component.name == silent[1])
        )
    assert newest == end_us - 2 * hour_us  # and nothing in the two hours after
    # its series is as long as every other (it ends, and so begins, two hours earlier)
    assert summary.first_timestamp == END - timedelta(minutes=15 * (99 + 8))
    assert summary.measurements == 20 * 300
    # the planted samples still obey I = |P| / (sqrt(3) U), as a meter would report them
    for row in (
        wide(measurements_frame(db))
        .drop_nulls(["voltage", "current", "power"])
        .iter_rows(named=True)
    ):
        expected = abs(row["power"]) * 1000 / (math.sqrt(3) * row["voltage"])
        assert math.isclose(row["current"], expected, rel_tol=0.01, abs_tol=0.05), row
    # what the seed evaluated is what evaluating every series from scratch derives
    with db.write() as session:
        session.execute(delete(Alarm).where(Alarm.kind != "communication_lost"))
        evaluate_history(session, since=END - timedelta(days=30))
    assert alarm_rows(db) == alarms


def test_the_same_seed_plants_the_same_excursions(db):
    def planted(random_seed: int) -> list[tuple[object, ...]]:
        empty_database(db)
        seed(db, random_seed=random_seed, plant_excursions=True)
        return alarm_rows(db)

    first = planted(7)
    assert first and planted(7) == first
    assert planted(8) != first


def test_a_seed_too_short_for_excursions_plants_none(db):
    seed(db, per_component=30, plant_excursions=True)
    assert alarm_rows(db) == []
