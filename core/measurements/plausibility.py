"""Whether a measurement's value is plausible for its component, in GridBoard's units (kV, A,
MW): one Polars expression that an import runs over whole columns and a single add over one
row. See docs/design.md#plausibility."""

from __future__ import annotations

import math
from typing import TypeVar

import polars as pl

from core.domain import ComponentType, MeasurementType

# A voltage is plausible from 0 to this many times the component's nominal kV.
VOLTAGE_BAND = 2.0
# A voltage this many times its nominal kV (within the factors below) was typed in volts.
_VOLTS_LOW, _VOLTS_HIGH = 300.0, 3000.0
# A transformer's |P| in MW is plausible up to this many times its capacity in MVA.
TRANSFORMER_POWER_FACTOR = 2.0
# A line's |P| in MW is plausible up to sqrt(3) x its kV x this current in kA: no overhead
# line or cable of any voltage carries more than about 5 kA.
LINE_MAX_CURRENT_KA = 5.0
LINE_POWER_PER_KV = math.sqrt(3) * LINE_MAX_CURRENT_KA  # MW per kV of nominal voltage
# A switch has no rating: its power has no bound beyond any number's (``MAX_MAGNITUDE``).

# The component columns the expression reads, beside ``measurement_type`` and ``value``.
RATING_SCHEMA: dict[str, pl.DataType] = {
    "component_type": pl.String(),
    "voltage_kv": pl.Float64(),
    "capacity_mva": pl.Float64(),
}


# The bounds, written once for a column (``pl.Expr``) and for one number (``float``).
Number = TypeVar("Number", float, pl.Expr)


def voltage_high(nominal_kv: Number) -> Number:
    return nominal_kv * VOLTAGE_BAND


def transformer_power_bound(capacity_mva: Number) -> Number:
    return capacity_mva * TRANSFORMER_POWER_FACTOR


def line_power_bound(nominal_kv: Number) -> Number:
    return nominal_kv * LINE_POWER_PER_KV


def _shown(number: pl.Expr) -> pl.Expr:
    """A number for a message: at most 6 decimals, no trailing ``.0``."""
    return number.round(6).cast(pl.String).str.replace(r"\.0$", "")


def _text(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(part) if isinstance(part, str) else part for part in parts])


def plausibility_problem(
    kind: pl.Expr | None = None,
    value: pl.Expr | None = None,
    component_type: pl.Expr | None = None,
    voltage_kv: pl.Expr | None = None,
    capacity_mva: pl.Expr | None = None,
) -> pl.Expr:
    """Why ``value`` (of measurement type ``kind``) is not plausible for its component, with
    the unit, or null; each argument defaults to the column of its name."""
    kind = pl.col("measurement_type") if kind is None else kind
    value = pl.col("value") if value is None else value
    component_type = pl.col("component_type") if component_type is None else component_type
    nominal = pl.col("voltage_kv") if voltage_kv is None else voltage_kv
    capacity = pl.col("capacity_mva") if capacity_mva is None else capacity_mva
    kind = kind.cast(pl.String)
    shown = _shown(value)
    ratio = value / nominal
    line_bound = line_power_bound(nominal)
    transformer_bound = transformer_power_bound(capacity)
    in_volts = _text(
        shown,
        " kV looks like volts; GridBoard stores kV (the component's nominal voltage is ",
        _shown(nominal),
        " kV: write ",
        _shown(value / 1000),
        ")",
    )
    over_band = _text(
        shown,
        f" kV is more than {VOLTAGE_BAND:g}x the component's nominal ",
        _shown(nominal),
        " kV (plausible: 0 to ",
        _shown(voltage_high(nominal)),
        " kV)",
    )
    over_capacity = _text(
        shown,
        f" MW is more than {TRANSFORMER_POWER_FACTOR:g}x the transformer's capacity of ",
        _shown(capacity),
        " MVA (plausible: -",
        _shown(transformer_bound),
        " to ",
        _shown(transformer_bound),
        " MW)",
    )
    over_line = _text(
        shown,
        " MW is more than a line at ",
        _shown(nominal),
        " kV carries (plausible: -",
        _shown(line_bound),
        " to ",
        _shown(line_bound),
        f" MW, {LINE_MAX_CURRENT_KA:g} kA at its voltage)",
    )
    voltage = kind == MeasurementType.VOLTAGE.value
    current = kind == MeasurementType.CURRENT.value
    power = kind == MeasurementType.POWER.value
    return (
        pl.when(voltage, value < 0)
        .then(_text(shown, " kV is negative: a voltage is 0 kV or more"))
        .when(voltage, value > voltage_high(nominal), ratio.is_between(_VOLTS_LOW, _VOLTS_HIGH))
        .then(in_volts)
        .when(voltage, value > voltage_high(nominal))
        .then(over_band)
        .when(current, value < 0)
        .then(_text(shown, " A is negative: a current is 0 A or more"))
        .when(
            power,
            component_type == ComponentType.TRANSFORMER.value,
            value.abs() > transformer_bound,
        )
        .then(over_capacity)
        .when(power, component_type == ComponentType.LINE.value, value.abs() > line_bound)
        .then(over_line)
    )


def implausible_reason(
    *,
    measurement_type: str,
    value: float,
    component_type: str,
    voltage_kv: float | None,
    capacity_mva: float | None,
) -> str | None:
    """``plausibility_problem`` of one measurement (a single add, a form). The bounds are
    compared here first: a plausible value, nearly every one, costs no Polars evaluation."""
    if _within(measurement_type, value, component_type, voltage_kv, capacity_mva):
        return None
    reason = pl.select(
        plausibility_problem(
            pl.lit(measurement_type, pl.String),
            pl.lit(value, pl.Float64),
            pl.lit(component_type, pl.String),
            pl.lit(voltage_kv, pl.Float64),
            pl.lit(capacity_mva, pl.Float64),
        )
    ).item()
    return None if reason is None else str(reason)


def _within(
    kind: str,
    value: float,
    component_type: str,
    voltage_kv: float | None,
    capacity_mva: float | None,
) -> bool:
    """Whether ``plausibility_problem`` finds nothing to say, by the same bounds."""
    if kind == MeasurementType.VOLTAGE.value:
        return value >= 0 and (voltage_kv is None or value <= voltage_high(voltage_kv))
    if kind == MeasurementType.CURRENT.value:
        return value >= 0
    if kind != MeasurementType.POWER.value:
        return True
    if component_type == ComponentType.TRANSFORMER.value and capacity_mva is not None:
        return abs(value) <= transformer_power_bound(capacity_mva)
    if component_type == ComponentType.LINE.value and voltage_kv is not None:
        return abs(value) <= line_power_bound(voltage_kv)
    return True
