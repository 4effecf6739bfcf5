"""Measurement values plausible for their component, in GridBoard's units (kV, A, MW): one
rule for a single add, the dashboard's form, the API and every import; an import may let
implausible values in, and its log record says so."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.cli import main
from core.config import Settings
from core.errors import InvalidInput
from core.import_errors import ImportRejection
from core.imports import run_import
from core.logs import configure_logging, reset_logging
from core.measurements.measurements import add_measurement
from core.measurements.plausibility import (
    RATING_SCHEMA,
    implausible_reason,
    plausibility_problem,
)
from core.models import Component, Measurement
from tests.factories import LINE, MANAGER, SWITCH, TRANSFORMER, make_component

T = "2024-05-01T12:00:00Z"
HEADER = "component_name,substation,timestamp,measurement_type,value\n"


def _count(db) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Measurement)) or 0)


@pytest.fixture
def grid(db):
    make_component(db, TRANSFORMER)  # T1: 110 kV, 40 MVA
    make_component(db, LINE)  # L1: 20 kV
    make_component(db, SWITCH)  # S1: no rating
    return db


IMPLAUSIBLE = [
    ("T1", "voltage", "110000", "110000 kV looks like volts; GridBoard stores kV (the "
     "component's nominal voltage is 110 kV: write 110)"),
    ("T1", "voltage", "300", "300 kV is more than 2x the component's nominal 110 kV "
     "(plausible: 0 to 220 kV)"),
    ("T1", "voltage", "-1", "-1 kV is negative: a voltage is 0 kV or more"),
    ("L1", "current", "-50", "-50 A is negative: a current is 0 A or more"),
    ("T1", "power", "-90.5", "-90.5 MW is more than 2x the transformer's capacity of 40 MVA "
     "(plausible: -80 to 80 MW)"),
    ("L1", "power", "200", "200 MW is more than a line at 20 kV carries (plausible: "
     "-173.205081 to 173.205081 MW, 5 kA at its voltage)"),
]  # fmt: skip


def test_an_import_refuses_each_implausible_row_by_line_with_its_unit(grid):
    rows = "".join(
        f"{name},Riverside,2024-05-01T{hour:02d}:00:00Z,{kind},{value}\n"
        for hour, (name, kind, value, _) in enumerate(IMPLAUSIBLE)
    )
    plausible = f"S1,Riverside,{T},power,5000\nT1,Riverside,{T},current,0\n"
    with pytest.raises(ImportRejection) as refused:
        run_import(
            database=grid, actor=MANAGER, kind="measurements",
            source=(HEADER + rows + plausible).encode(), file_name="readings.csv",
        )  # fmt: skip
    problems = [(p.line, p.column, p.reason) for p in refused.value.problems]
    assert problems == [
        (line, "value", reason) for line, (*_, reason) in enumerate(IMPLAUSIBLE, start=2)
    ]
    assert _count(grid) == 0


@pytest.fixture
def audit(tmp_path, capsys):
    """The import's log records, as the audit reads them."""
    file = tmp_path / "logs" / "gridboard.log"
    configure_logging(Settings(cookie_key="k3y-that-signs-the-cookies-0123456789",
                               log_file=str(file)), stream="stdout")  # fmt: skip
    yield lambda: [
        record
        for record in pl.read_ndjson(file).to_dicts()
        if record.get("action") == "import.measurements"
    ]
    reset_logging()


def test_a_manager_may_allow_implausible_values_for_one_import_and_it_is_audited(grid, audit):
    data = (HEADER + f"T1,Riverside,{T},voltage,110000\n").encode()
    summary = run_import(
        database=grid, actor=MANAGER, kind="measurements", source=data,
        file_name="volts.csv", allow_implausible=True,
    )  # fmt: skip
    assert summary.inserted == 1 and _count(grid) == 1
    assert summary.notes() == [
        "implausible values allowed for this import (recorded in the audit log)"
    ]
    (record,) = audit()
    assert (record["user"], record["file_name"], record["allow_implausible"]) == (
        "mona", "volts.csv", True,
    )  # fmt: skip
    # The next import is checked again: the override was for that one.
    with pytest.raises(ImportRejection):
        run_import(
            database=grid, actor=MANAGER, kind="measurements",
            source=(HEADER + "T1,Riverside,2024-05-02T00:00:00Z,voltage,110000\n").encode(),
            file_name="again.csv",
        )  # fmt: skip


@pytest.mark.parametrize(("name", "kind", "value", "reason"), IMPLAUSIBLE)
def test_a_single_add_is_refused_by_the_same_rule(grid, name, kind, value, reason):
    with pytest.raises(InvalidInput) as refused, grid.write() as session:
        add_measurement(
            session=session, actor=MANAGER, component_id=_id(grid, name),
            measurement_type=kind, timestamp=T, value=float(value),
        )  # fmt: skip
    assert [(p.field, p.reason) for p in refused.value.problems] == [("value", reason)]
    assert _count(grid) == 0


def _id(db, name: str) -> int:
    with db.read() as session:
        return int(session.scalar(select(Component.id).where(Component.name == name)))


def test_the_cli_refuses_then_allows_with_allow_implausible(grid, tmp_path, capsys):
    url = grid.engine.url.render_as_string(hide_password=False)
    path = tmp_path / "volts.csv"
    path.write_text(HEADER + f"T1,Riverside,{T},voltage,110000\n", encoding="utf-8")
    assert main(["--database-url", url, "import-measurements", str(path)]) == 1
    assert "looks like volts; GridBoard stores kV" in capsys.readouterr().err
    assert _count(grid) == 0
    assert main(["--database-url", url, "import-measurements", str(path),
                 "--allow-implausible"]) == 0  # fmt: skip
    assert "implausible values allowed for this import" in capsys.readouterr().out
    assert _count(grid) == 1


RATINGS = st.sampled_from(
    [("transformer", 110.0, 40.0), ("line", 20.0, None), ("switch", None, None),
     ("transformer", 0.4, 0.001), ("line", 1200.0, None)]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["voltage", "current", "power"]),
    st.floats(min_value=-1e7, max_value=1e7, allow_nan=False),
    RATINGS,
)
def test_one_measurement_and_a_column_get_the_same_answer(kind, value, rating):
    component_type, voltage_kv, capacity_mva = rating
    column = (
        pl.DataFrame(
            [(kind, value, component_type, voltage_kv, capacity_mva)],
            schema={"measurement_type": pl.String, "value": pl.Float64, **RATING_SCHEMA},
            orient="row",
        )
        .select(plausibility_problem())
        .item()
    )
    one = implausible_reason(
        measurement_type=kind, value=value, component_type=component_type,
        voltage_kv=voltage_kv, capacity_mva=capacity_mva,
    )  # fmt: skip
    assert one == column
