"""Limits: the defaults derived from the grid model (EN 50160's voltage band, transformer
loading, a line's rated current), a manager's overrides per component or per component type and
voltage level, the effective limits as one Polars frame. See docs/design.md#limits-and-alarms."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.domain import ComponentType, MeasurementType
from core.errors import FieldProblem, InvalidInput
from core.models import Component, Limit, LimitDefault, utc_now
from core.validation import FieldError, choice_field, parse_number


@dataclass(frozen=True, slots=True)
class DefaultSetting:
    value: float
    low: float
    high: float
    meaning: str


# The one table of defaults: name -> built-in value, allowed range, meaning.
DEFAULTS: dict[str, DefaultSetting] = {
    "voltage_alarm_pct": DefaultSetting(10, 0.1, 100, "voltage alarm band, +-% of voltage_kv"),
    "voltage_warning_pct": DefaultSetting(5, 0.1, 100, "voltage warning band, +-% of voltage_kv"),
    "loading_alarm_pct": DefaultSetting(100, 1, 1000, "transformer loading alarm, % of rating"),
    "loading_warning_pct": DefaultSetting(90, 1, 1000, "transformer loading warning, % of rating"),
    "current_alarm_pct": DefaultSetting(100, 1, 1000, "line current alarm, % of rated_current_a"),
    "current_warning_pct": DefaultSetting(90, 1, 1000, "line current warning, % of rated current"),
    "deadband_pct": DefaultSetting(1, 0, 50, "an alarm clears when back inside by this % of it"),
    "delay_samples": DefaultSetting(1, 1, 1000, "consecutive samples outside before a raise"),
    "silence_minutes": DefaultSetting(60, 1, 1440, "silence (data time) before comm. lost"),
}
LIMIT_FIELDS = ("high_alarm", "high_warning", "low_warning", "low_alarm")
# Which threshold a kind is, and which way it looks: +1 above the limit is outside, -1 below.
DIRECTION = {"high_alarm": 1, "high_warning": 1, "low_warning": -1, "low_alarm": -1}
SEVERITY = {"high_alarm": "alarm", "high_warning": "warning"} | {
    "low_warning": "warning",
    "low_alarm": "alarm",
}
# A row of limit_defaults that no person sets: a new random value at every change of limits,
# so a process that keeps effective limits (core/alarms/single.py) sees that they changed.
REVISION = "limits_revision"
CONDITIONS_SCHEMA = pl.Schema(
    {
        "component_id": pl.Int64,
        "measurement_type": pl.String,
        "kind": pl.String,
        "severity": pl.String,
        "direction": pl.Int8,
        "absolute": pl.Boolean,
        "limit": pl.Float64,
        "deadband": pl.Float64,
        "delay": pl.Int64,
    }
)


def get_defaults(*, session: Session) -> dict[str, float]:
    """Every default by name: a manager's value where one is set, else the built-in one."""
    stored = dict(session.execute(select(LimitDefault.name, LimitDefault.value)).all())
    return {name: stored.get(name, setting.value) for name, setting in DEFAULTS.items()}


def _checked_number(field: str, raw: object, low: float, high: float) -> float:
    try:
        number = parse_number(raw)
    except FieldError as error:
        raise InvalidInput.single(field, str(error)) from None
    if not low <= number <= high:
        raise InvalidInput.single(field, f"must be between {low:g} and {high:g}, got {number:g}")
    return number


@dataclass(frozen=True, slots=True)
class LimitOverride:
    """A manager's limits for one measurement type (values in its units, kV, A or MW)."""

    measurement_type: MeasurementType
    no_limit: bool = False
    high_alarm: float | None = None
    high_warning: float | None = None
    low_warning: float | None = None
    low_alarm: float | None = None
    deadband_pct: float | None = None
    delay_samples: int | None = None

    @classmethod
    def of(cls, row: Limit) -> LimitOverride:
        stored = {name: getattr(row, name) for name in _STORED_AS_IS}
        return cls(measurement_type=MeasurementType(row.measurement_type), **stored)


# The fields an override shares with its stored row, value for value (the type is a name there).
_STORED_AS_IS = tuple(
    f.name for f in dataclasses.fields(LimitOverride) if f.name != "measurement_type"
)


def _optional(field: str, raw: object, low: float, high: float) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return _checked_number(field, raw, low, high)


def validate_override(fields: Mapping[str, Any]) -> LimitOverride:
    """One override from a form, the CLI or the API: every broken rule named at once."""
    problems: list[FieldProblem] = []
    values: dict[str, Any] = {}
    kind = choice_field("measurement_type", fields.get("measurement_type"), MeasurementType)
    for name, low, high in (
        *((f, -1e9, 1e9) for f in LIMIT_FIELDS),
        ("deadband_pct", 0, 50),
        ("delay_samples", 1, 1000),
    ):
        try:
            values[name] = _optional(name, fields.get(name), low, high)
        except InvalidInput as error:
            problems.extend(error.problems)
    if values.get("delay_samples") is not None:
        if not float(values["delay_samples"]).is_integer():
            problems.append(FieldProblem("delay_samples", "must be a whole number of samples"))
        else:
            values["delay_samples"] = int(values["delay_samples"])
    no_limit = bool(fields.get("no_limit", False))
    given = [values[f] for f in LIMIT_FIELDS if values.get(f) is not None]
    if no_limit and given:
        problems.append(FieldProblem("no_limit", "leave the limits empty to switch them off"))
    if not no_limit and not given and not problems:
        problems.append(
            FieldProblem("high_alarm", "give at least one limit, or no_limit to switch them off")
        )
    order = [values.get(f) for f in LIMIT_FIELDS]  # high_alarm >= high_warning >= ... >= low
    present = [v for v in order if v is not None]
    if present != sorted(present, reverse=True):
        problems.append(
            FieldProblem(
                "limits", "must be ordered high_alarm >= high_warning > low_warning >= low_alarm"
            )
        )
    if problems:
        raise InvalidInput(problems)
    return LimitOverride(measurement_type=kind, no_limit=no_limit, **values)


# The columns each frame reads, by the frame's name for them, with their Polars types.
_COMPONENT_COLUMNS: dict[str, tuple[Any, type[pl.DataType]]] = {
    "component_id": (Component.id, pl.Int64),
    "component_type": (Component.component_type, pl.String),
    "voltage_kv": (Component.voltage_kv, pl.Float64),
    "capacity_mva": (Component.capacity_mva, pl.Float64),
    "rated_current_a": (Component.rated_current_a, pl.Float64),
}
_OVERRIDE_COLUMNS: dict[str, tuple[Any, type[pl.DataType]]] = {
    "component_id": (Limit.component_id, pl.Int64),
    "component_type": (Limit.component_type, pl.String),
    "voltage_kv": (Limit.voltage_kv, pl.Float64),
    "measurement_type": (Limit.measurement_type, pl.String),
    "no_limit": (Limit.no_limit, pl.Boolean),
    **{field: (getattr(Limit, field), pl.Float64) for field in LIMIT_FIELDS},
    "deadband_pct": (Limit.deadband_pct, pl.Float64),
    "delay_samples": (Limit.delay_samples, pl.Int64),
}


def _frame(
    session: Session, columns: Mapping[str, tuple[Any, type[pl.DataType]]], *where: Any
) -> pl.DataFrame:
    """The rows of ``columns`` (``where`` they hold), typed, one frame."""
    query = select(*(column for column, _ in columns.values())).where(*where)
    return pl.DataFrame(
        [tuple(row) for row in session.execute(query)],
        schema={name: dtype for name, (_, dtype) in columns.items()},
        orient="row",
    )


def _components(session: Session, component_ids: Collection[int] | None) -> pl.DataFrame:
    where = () if component_ids is None else (Component.id.in_(sorted(component_ids)),)
    return _frame(session, _COMPONENT_COLUMNS, *where)


def _band(column: str, pct: float) -> pl.Expr:
    """``column`` scaled by (100 + pct)%: a limit relative to a rating."""
    return pl.col(column) * (1 + pct / 100)


def _default_limits(components: pl.LazyFrame, d: Mapping[str, float]) -> pl.LazyFrame:
    """The limits the grid model gives, one row per component and measurement type."""
    none = pl.lit(None, pl.Float64)
    voltage = components.filter(pl.col("voltage_kv").is_not_null()).select(
        "component_id",
        pl.lit(MeasurementType.VOLTAGE.value).alias("measurement_type"),
        _band("voltage_kv", d["voltage_alarm_pct"]).alias("high_alarm"),
        _band("voltage_kv", d["voltage_warning_pct"]).alias("high_warning"),
        _band("voltage_kv", -d["voltage_warning_pct"]).alias("low_warning"),
        _band("voltage_kv", -d["voltage_alarm_pct"]).alias("low_alarm"),
        pl.lit(False).alias("absolute"),
    )
    # Power stands in for apparent power: |P| over the rated MVA (docs/design.md).
    loading = components.filter(pl.col("component_type") == ComponentType.TRANSFORMER).select(
        "component_id",
        pl.lit(MeasurementType.POWER.value).alias("measurement_type"),
        _band("capacity_mva", d["loading_alarm_pct"] - 100).alias("high_alarm"),
        _band("capacity_mva", d["loading_warning_pct"] - 100).alias("high_warning"),
        none.alias("low_warning"),
        none.alias("low_alarm"),
        pl.lit(True).alias("absolute"),
    )
    current = components.filter(pl.col("rated_current_a").is_not_null()).select(
        "component_id",
        pl.lit(MeasurementType.CURRENT.value).alias("measurement_type"),
        _band("rated_current_a", d["current_alarm_pct"] - 100).alias("high_alarm"),
        _band("rated_current_a", d["current_warning_pct"] - 100).alias("high_warning"),
        none.alias("low_warning"),
        none.alias("low_alarm"),
        pl.lit(False).alias("absolute"),
    )
    return pl.concat([voltage, loading, current]).with_columns(
        pl.lit(False).alias("no_limit"),
        pl.lit(None, pl.Float64).alias("deadband_pct"),
        pl.lit(None, pl.Int64).alias("delay_samples"),
        pl.lit(0).alias("priority"),
    )


def _kind(absolute: pl.Expr) -> pl.Expr:
    """A loading limit (|P| over a rating) is named as such; the others by their threshold."""
    return (
        pl.when(absolute)
        .then(pl.lit("loading_") + pl.col("threshold").str.split("_").list.last())
        .otherwise(pl.col("threshold"))
    )


def conditions(session: Session, component_ids: Collection[int] | None = None) -> pl.DataFrame:
    """The effective limits of ``component_ids`` (every component when ``None``), one row per
    threshold: component, measurement type, kind, severity, direction (+1 high, -1 low),
    whether |value| is compared, the limit, its deadband (in the measurement's units) and the
    delay in samples. A component's override beats its type and level's, which beats the
    defaults; an override replaces every threshold of its measurement type."""
    defaults = get_defaults(session=session)
    components = _components(session, component_ids).lazy()
    overrides = _frame(session, _OVERRIDE_COLUMNS).lazy()
    columns = [
        "component_id", "measurement_type", "no_limit", *LIMIT_FIELDS, "absolute",
        "deadband_pct", "delay_samples", "priority",
    ]  # fmt: skip
    by_component = overrides.filter(pl.col("component_id").is_not_null()).join(
        components.select("component_id"), on="component_id"
    )
    by_level = components.join(
        overrides.filter(pl.col("component_id").is_null()).drop("component_id"),
        on=["component_type", "voltage_kv"],
    )
    candidates = pl.concat(
        [
            _default_limits(components, defaults).select(columns),
            by_level.with_columns(
                pl.lit(False).alias("absolute"), pl.lit(1).alias("priority")
            ).select(columns),
            by_component.with_columns(
                pl.lit(False).alias("absolute"), pl.lit(2).alias("priority")
            ).select(columns),
        ]
    )
    chosen = (
        candidates.sort("priority", descending=True)
        .unique(["component_id", "measurement_type"], keep="first", maintain_order=True)
        .filter(~pl.col("no_limit"))
    )
    return (
        chosen.unpivot(
            on=list(LIMIT_FIELDS),
            index=["component_id", "measurement_type", "absolute", "deadband_pct", "delay_samples"],
            variable_name="threshold",
            value_name="limit",
        )
        .filter(pl.col("limit").is_not_null() & pl.col("limit").is_finite())
        .select(
            "component_id",
            "measurement_type",
            _kind(pl.col("absolute")).alias("kind"),
            pl.col("threshold").replace_strict(SEVERITY).alias("severity"),
            pl.col("threshold").replace_strict(DIRECTION, return_dtype=pl.Int8).alias("direction"),
            "absolute",
            "limit",
            (
                pl.col("deadband_pct").fill_null(defaults["deadband_pct"])
                / 100
                * pl.col("limit").abs()
            ).alias("deadband"),
            pl.col("delay_samples").fill_null(int(defaults["delay_samples"])).alias("delay"),
        )
        .collect()
        .cast(CONDITIONS_SCHEMA)
    )


def stored_overrides(
    session: Session, *, component_id: int | None = None, level: tuple[str, float] | None = None
) -> list[LimitOverride]:
    query = select(Limit).order_by(Limit.measurement_type)
    if component_id is not None:
        query = query.where(Limit.component_id == component_id)
    elif level is not None:
        query = query.where(Limit.component_type == level[0], Limit.voltage_kv == level[1])
    return [LimitOverride.of(row) for row in session.scalars(query)]


def note_change(session: Session, by: str) -> None:
    """Every change of limits (defaults, overrides) calls this in its transaction."""
    row = session.get(LimitDefault, REVISION)
    value = float(secrets.randbelow(2**52))
    if row is None:
        session.add(LimitDefault(name=REVISION, value=value, updated_by=by))
    else:
        row.value, row.updated_by, row.updated_at = value, by, utc_now()


def replace_overrides(
    session: Session,
    overrides: Collection[LimitOverride],
    *,
    by: str,
    component_id: int | None = None,
    level: tuple[str, float] | None = None,
) -> None:
    """Store ``overrides`` as the whole set of one component's (or one type and level's)."""
    if component_id is not None:
        session.execute(delete(Limit).where(Limit.component_id == component_id))
    elif level is not None:
        session.execute(
            delete(Limit).where(Limit.component_type == level[0], Limit.voltage_kv == level[1])
        )
    for item in overrides:
        session.add(
            Limit(
                component_id=component_id,
                component_type=level[0] if level else None,
                voltage_kv=level[1] if level else None,
                measurement_type=item.measurement_type.value,
                **{name: getattr(item, name) for name in _STORED_AS_IS},
                updated_by=by,
            )
        )
    note_change(session, by)
    session.flush()
