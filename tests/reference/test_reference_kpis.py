"""The reference's tests/unit/core/services/test_report.py over HTTP under `/b`: its mock frame
becomes two components and three measurements sent through `/b` to an empty grid, read back as
a report. The assertions are the reference's; the measurement types it fed Polars in lower case
are the upper case its API takes and answers."""

from __future__ import annotations

import time

from tests.reference.conftest import ReferenceClient, bearer
from tests.reference.models import (
    ComponentType,
    DailyAverage,
    FinalReportSchema,
    MeasurementType,
    TransformerCapacity,
)


def test_transform_to_kpis_logic(client: ReferenceClient):
    headers = bearer(client, "manager", "manager")
    ids = {}
    for body in (
        {"name": "T1", "substation": "S1", "component_type": "TRANSFORMER",
         "capacity_mva": 63.0, "voltage_kv": 110.0},
        {"name": "L1", "substation": "S1", "component_type": "LINE",
         "length_km": 42.5, "voltage_kv": 220.0},
    ):  # fmt: skip
        made = client.post("/components", json=body, headers=headers)
        ids[body["component_type"]] = made.json()["id"]
    for kind, value, measured, timestamp in (
        ("TRANSFORMER", 10.0, MeasurementType.VOLTAGE, "2026-01-01T10:00:00"),
        ("TRANSFORMER", 20.0, MeasurementType.VOLTAGE, "2026-01-01T11:00:00"),
        ("LINE", 100.0, MeasurementType.CURRENT, "2026-01-01T12:00:00"),
    ):
        reading = {"component_id": ids[kind], "value": value,
                   "measurement_type": measured.value, "timestamp": timestamp}  # fmt: skip
        assert client.post("/measurements", json=reading, headers=headers).status_code == 201
    period = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-02T00:00:00Z"}
    report_id = client.post("/reports", json=period, headers=headers).json()["id"]
    for _ in range(240):  # a server process on a shared machine
        answer = client.get(f"/reports/{report_id}", headers=headers)
        if answer.status_code == 200:
            break
        time.sleep(0.5)
    report = FinalReportSchema.model_validate(answer.json()["result_json"])

    # KPI 1: Unique counts
    counts = {item.component_type: item.count for item in report.summary.components_by_type}
    assert counts[ComponentType.TRANSFORMER.value] == 1  # Should NOT be 2, despite 2 rows
    assert counts[ComponentType.LINE.value] == 1

    # KPI 2 and 3: Capacity
    trans_cap = report.summary.transformer_capacity_by_voltage[0]
    assert trans_cap == TransformerCapacity(voltage_kv=110.0, total_capacity_mva=63.0)

    # KPI 4: Daily Averages
    # NOTE: sorted by day and component type
    daily_avg_truth = [
        DailyAverage(
            day="2026-01-01",
            measurement_type=MeasurementType.CURRENT.value,
            component_type=ComponentType.LINE.value,
            avg_value=100.0,
        ),
        DailyAverage(
            day="2026-01-01",
            measurement_type=MeasurementType.VOLTAGE.value,
            component_type=ComponentType.TRANSFORMER.value,
            avg_value=15.0,
        ),
    ]
    assert daily_avg_truth == report.daily_averages
