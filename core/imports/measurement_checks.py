"""The checks of a measurement file, over whole columns: Polars expressions over text.
See docs/architecture.md#imports."""

from __future__ import annotations

import polars as pl

from core.domain import MeasurementType
from core.import_errors import SHOWN_PROBLEMS, RowProblem, RowProblems
from core.imports.table import LINE
from core.measurements.measurement_store import KEY, MEASUREMENT_SCHEMA
from core.measurements.plausibility import RATING_SCHEMA, plausibility_problem
from core.timestamps import (
    DAY_US,
    MAX_MICROS,
    MIN_MICROS,
    MINUTE_US,
    SECOND_US,
    parse_micros_many,
    timestamp_problem,
)
from core.validation import (
    DECIMAL_PATTERN,
    MAX_MAGNITUDE,
    NOT_A_NUMBER,
    NOT_FINITE,
    NUMBER_REQUIRED,
    OUT_OF_RANGE,
    SHOWN_CHARS,
)

BY_NAME = ("component_name", "substation", "timestamp", "measurement_type", "value")
BY_ID = ("component_id", "timestamp", "measurement_type", "value")

_DECIMAL = f"^(?:{DECIMAL_PATTERN})$"
_COMPONENT_ID = r"^\+?[0-9]{1,18}$"
_TYPES = [kind.value for kind in MeasurementType]
_TYPE_LIST = ", ".join(_TYPES)
_TYPE_ENUM = pl.Enum(sorted(_TYPES))  # sorts as the unique index does, fast to group
# Problem columns are named "problem:<file column>"; the empty file column is the whole row.
_PROBLEM = "problem:"


def columns_for(header: tuple[str, ...]) -> tuple[str, ...]:
    return BY_ID if "component_id" in header else BY_NAME


def _text(column: str) -> pl.Expr:
    return pl.col(column).fill_null("").str.strip_chars()


def _quoted(text: pl.Expr) -> pl.Expr:
    shown = (
        pl.when(text.str.len_chars() > SHOWN_CHARS)
        .then(pl.concat_str(text.str.slice(0, SHOWN_CHARS - 3), pl.lit("...")))
        .otherwise(text)
    )
    return pl.concat_str(pl.lit("'"), shown, pl.lit("'"))


def _problem(column: str, reason: pl.Expr) -> pl.Expr:
    return reason.alias(_PROBLEM + column)


def _check_type(frame: pl.LazyFrame) -> pl.LazyFrame:
    text = _text("measurement_type")
    kind = text.str.to_lowercase()
    return frame.with_columns(
        pl.when(kind.is_in(_TYPES)).then(kind).cast(_TYPE_ENUM).alias("measurement_type"),
        _problem(
            "measurement_type",
            pl.when(text == "")
            .then(pl.lit(f"is required (one of {_TYPE_LIST})"))
            .when(~kind.is_in(_TYPES))
            .then(pl.concat_str(_quoted(text), pl.lit(f" is not one of {_TYPE_LIST}"))),
        ),
    )


def _check_value(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The rule and the messages of ``core.validation.parse_number``, over a column."""
    text = _text("value")
    number = text.cast(pl.Float64, strict=False)
    decimal = text.str.contains(_DECIMAL)
    return frame.with_columns(
        pl.when(decimal & number.is_finite() & (number.abs() <= MAX_MAGNITUDE))
        .then(number)
        .alias("value"),
        _problem(
            "value",
            pl.when(text == "")
            .then(pl.lit(NUMBER_REQUIRED))
            .when(~decimal | number.is_null())
            .then(pl.concat_str(_quoted(text), pl.lit(" " + NOT_A_NUMBER)))
            .when(~number.is_finite())
            .then(pl.concat_str(_quoted(text), pl.lit(" " + NOT_FINITE)))
            .when(number.abs() > MAX_MAGNITUDE)
            .then(pl.concat_str(_quoted(text), pl.lit(" " + OUT_OF_RANGE))),
        ),
    )


# The common ISO 8601 shapes, parsed by Polars; any other text goes to Python's parser.
_ISO = (
    r"^(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"[T ](?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])"
    r"(?::(?P<second>[0-5][0-9])(?:\.(?P<fraction>[0-9]{1,6}))?)?"
    r"(?P<zone>Z|(?P<sign>[+-])(?P<zone_hour>[01][0-9]|2[0-3]):(?P<zone_minute>[0-5][0-9]))?$"
)


def _epoch_day(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)."""
    march_year = year - (month <= 2).cast(pl.Int64)
    era = march_year // 400
    year_of_era = march_year - era * 400
    day_of_year = (153 * (month + pl.when(month > 2).then(-3).otherwise(9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _days_in_month(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return (
        pl.when(month == 2)
        .then(28 + leap.cast(pl.Int64))
        .when(month.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )


def _common_iso_micros(parts: pl.Expr) -> pl.Expr:
    """Microseconds since the epoch (UTC) from the ``_ISO`` groups of a text, else null."""

    def number(name: str) -> pl.Expr:
        return parts.struct.field(name).cast(pl.Int64)

    year, month, day = number("year"), number("month"), number("day")
    fraction = parts.struct.field("fraction").str.pad_end(6, "0").cast(pl.Int64).fill_null(0)
    offset_minutes = pl.when(parts.struct.field("sign") == "-").then(-1).otherwise(1) * (
        number("zone_hour") * 60 + number("zone_minute")
    ).fill_null(0)
    micros = (
        _epoch_day(year, month, day) * DAY_US
        + (number("hour") * 60 + number("minute") - offset_minutes) * MINUTE_US
        + number("second").fill_null(0) * SECOND_US
        + fraction
    )
    fits = micros.is_between(MIN_MICROS, MAX_MICROS)  # a datetime can show it, in UTC
    return pl.when((year >= 1) & (day <= _days_in_month(year, month)) & fits).then(micros)


def _parsed_timestamps(frame: pl.DataFrame) -> pl.LazyFrame:
    """Each distinct timestamp text parsed once, by the rule of a single measurement: the
    common shapes by Polars, the rest (and the bad ones) by ``parse_micros_many``."""
    parsed = (
        frame.lazy()
        .select(_text("timestamp").unique())
        .with_columns(pl.col("timestamp").str.extract_groups(_ISO).alias("parts"))
        .select("timestamp", _common_iso_micros(pl.col("parts")).alias("timestamp_us"))
        .collect()
    )
    others = parsed.filter(pl.col("timestamp_us").is_null()).get_column("timestamp").to_list()
    by_python = parse_micros_many(others)
    # Why each bad text is bad (few distinct texts: a refused file is read by a person).
    reasons = [
        timestamp_problem(text) if text and micros is None else None
        for text, micros in zip(others, by_python, strict=True)
    ]
    return pl.concat(
        [
            parsed.filter(pl.col("timestamp_us").is_not_null()).with_columns(
                pl.lit(None, pl.String).alias("timestamp_reason")
            ),
            pl.DataFrame(
                {"timestamp": others, "timestamp_us": by_python, "timestamp_reason": reasons},
                schema={
                    "timestamp": pl.String,
                    "timestamp_us": pl.Int64,
                    "timestamp_reason": pl.String,
                },
            ),
        ]
    ).lazy()


def _check_timestamp(frame: pl.LazyFrame, parsed: pl.LazyFrame) -> pl.LazyFrame:
    frame = frame.with_columns(_text("timestamp").alias("timestamp"))
    return frame.join(parsed, on="timestamp", how="left").with_columns(
        _problem(
            "timestamp",
            pl.when(pl.col("timestamp") == "")
            .then(pl.lit("a timestamp is required (ISO 8601, like 2024-05-01T13:45:00+02:00)"))
            .when(pl.col("timestamp_us").is_null())
            .then(
                pl.concat_str(_quoted(pl.col("timestamp")), pl.lit(" "), pl.col("timestamp_reason"))
            ),
        )
    )


def _name_text(column: str) -> pl.Expr:
    """A name column in the form names are stored in (``core.validation.normal_name``)."""
    text = pl.col(column).fill_null("").str.normalize("NFKC")
    return text.str.replace_all(r"\s+", " ").str.strip_chars()


def _check_component_name(frame: pl.LazyFrame, inventory: pl.DataFrame) -> pl.LazyFrame:
    name, substation = _name_text("component_name"), _name_text("substation")
    substations = inventory.get_column("substation").unique()
    frame = frame.with_columns(name.alias("component_name"), substation.alias("substation"))
    frame = frame.join(
        inventory.lazy(),
        left_on=["component_name", "substation"],
        right_on=["name", "substation"],
        how="left",
    )
    name, substation = pl.col("component_name"), pl.col("substation")
    known_substation = substation.is_in(substations.implode())
    return frame.with_columns(
        _problem(
            "substation",
            pl.when(substation == "")
            .then(pl.lit("must not be empty"))
            .when(~known_substation)
            .then(pl.concat_str(pl.lit("there is no substation "), _quoted(substation))),
        ),
        _problem(
            "component_name",
            pl.when(name == "")
            .then(pl.lit("must not be empty"))
            .when(known_substation & pl.col("component_id").is_null())
            .then(
                pl.concat_str(
                    pl.lit("there is no component "),
                    _quoted(name),
                    pl.lit(" in substation "),
                    _quoted(substation),
                )
            ),
        ),
    )


def _check_component_id(frame: pl.LazyFrame, inventory: pl.DataFrame) -> pl.LazyFrame:
    text = _text("component_id")
    digits = text.str.contains(_COMPONENT_ID)
    number = pl.when(digits).then(text.cast(pl.Int64, strict=False))
    known = number.is_in(inventory.get_column("component_id").implode())
    ratings = inventory.lazy().select("component_id", *RATING_SCHEMA)
    checked = frame.with_columns(
        pl.when(known).then(number).alias("component_id"),
        _problem(
            "component_id",
            pl.when(text == "")
            .then(pl.lit("a component id is required"))
            .when(~digits)
            .then(pl.concat_str(_quoted(text), pl.lit(" is not a component id (a whole number)")))
            .when(~known)
            .then(pl.concat_str(pl.lit("there is no component with id "), text)),
        ),
    )
    return checked.join(ratings, on="component_id", how="left")


def _check_duplicates(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A key seen on an earlier line is a problem of the later line (offsets already applied)."""
    complete = pl.all_horizontal(pl.col(KEY).is_not_null())
    first = pl.col(LINE).min().over(KEY)
    instant = pl.from_epoch("timestamp_us", time_unit="us").dt.to_string("%Y-%m-%d %H:%M:%S UTC")
    return frame.with_columns(
        _problem(
            "",
            pl.when(complete & (pl.col(LINE) != first)).then(
                pl.concat_str(
                    pl.lit("repeats line "),
                    first.cast(pl.String),
                    pl.lit(": the same component, measurement type and timestamp ("),
                    instant,
                    pl.lit(")"),
                )
            ),
        )
    )


def _check_plausible(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A valid value that is implausible for its component is a problem of its ``value``."""
    value = _PROBLEM + "value"
    return frame.with_columns(pl.coalesce(pl.col(value), plausibility_problem()).alias(value))


def check_measurements(
    frame: pl.DataFrame, inventory: pl.DataFrame, *, allow_implausible: bool = False
) -> pl.DataFrame:
    """``frame`` (text columns of either shape, and ``line``) checked against ``inventory``
    (component_id, name, substation and ``RATING_SCHEMA``): ``line``, the typed
    ``MEASUREMENT_SCHEMA`` columns (null where a cell is bad) and one ``problem:<column>``
    column per checked column. Values implausible for their component are problems unless
    ``allow_implausible``."""
    parsed = _parsed_timestamps(frame)
    lazy = frame.lazy()
    if "component_id" in frame.columns:
        lazy = _check_component_id(lazy, inventory)
    else:
        lazy = _check_component_name(lazy, inventory)
    lazy = _check_duplicates(_check_timestamp(_check_value(_check_type(lazy)), parsed))
    if not allow_implausible:
        lazy = _check_plausible(lazy)
    return lazy.select(LINE, *MEASUREMENT_SCHEMA, pl.col(f"^{_PROBLEM}.*$")).collect()


def add_row_problems(checked: pl.DataFrame, problems: RowProblems) -> None:
    """The checked frame's problems into ``problems``: the first lines' built, the rest
    only counted (a file of a million bad rows makes a hundred objects, not millions)."""
    columns = [name for name in checked.columns if name.startswith(_PROBLEM)]
    total = checked.select(pl.sum_horizontal(pl.col(columns).count())).item()
    first = (
        checked.select(LINE, *columns)
        .filter(pl.any_horizontal(pl.col(columns).is_not_null()))
        .top_k(SHOWN_PROBLEMS, by=LINE, reverse=True)
        .unpivot(index=LINE, variable_name="column", value_name="reason")
        .drop_nulls("reason")
    )
    problems.extend(
        (
            RowProblem(line, column.removeprefix(_PROBLEM), reason)
            for line, column, reason in first.iter_rows()
        ),
        total=total,
    )
