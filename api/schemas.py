"""Request and response bodies (separate from the ORM models; ``core`` validates the values),
named as the exercise's reference service names them. See docs/reference.md#the-http-api."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from core.domain import ComponentType, MeasurementType, SwitchStatus
from core.grid.component_fields import NUMBER_RANGES
from core.grid.components import ComponentRecord
from core.measurements.measurements import MeasurementRecord
from core.reports.jobs import ReportRecord


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


AnyCaseComponentType = Annotated[ComponentType, BeforeValidator(_lower)]
AnyCaseStatus = Annotated[SwitchStatus, BeforeValidator(_lower)]
AnyCaseMeasurementType = Annotated[MeasurementType, BeforeValidator(_lower)]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int = Field(description="seconds until the token expires")
    scope: str = Field(description="'user', or 'user manager' for a manager token")


class Me(BaseModel):
    username: str
    role: str
    manager: bool
    kind: str = Field(description="'user' for a person's sign-in, 'token' for an API token")


# A component's fields, each declared once here for every body (core's table in
# ``core.grid.component_fields`` says which type has which).
_NAME = Field(description="unique within its substation; trimmed")
_SUBSTATION = Field(description="a substation's name; an unknown one is created")
_TYPE = Field(description="transformer, line or switch (any case when sent)")


class _Named(BaseModel):
    name: Annotated[str, _NAME]
    substation: Annotated[str, _SUBSTATION]
    component_type: Annotated[AnyCaseComponentType, _TYPE]


class _MaybeNamed(BaseModel):
    """``_Named``'s fields, each of which an update may leave out."""

    name: Annotated[str | None, _NAME] = None
    substation: Annotated[str | None, _SUBSTATION] = None
    component_type: Annotated[AnyCaseComponentType | None, _TYPE] = None


class ComponentFields(BaseModel):
    """The fields of one type or another: empty (null) for every other type."""

    capacity_mva: float | None = Field(
        default=None,
        description=f"a transformer's rating in MVA, {NUMBER_RANGES['capacity_mva']}",
    )
    voltage_kv: float | None = Field(
        default=None,
        description="a transformer's high-voltage side or a line's nominal voltage in kV, "
        f"{NUMBER_RANGES['voltage_kv']}",
    )
    length_km: float | None = Field(
        default=None, description=f"a line's length in km, {NUMBER_RANGES['length_km']}"
    )
    status: AnyCaseStatus | None = Field(default=None, description="a switch's: open or closed")
    to_substation: str | None = Field(default=None, description="a line's other end, if known")
    rated_current_a: float | None = Field(
        default=None, description="a line's rated current in A, if known: its current limit"
    )


class ComponentCreate(ComponentFields, _Named):
    """A new component: its type's fields, the others left out (or null)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "T1",
                    "substation": "Riverside",
                    "component_type": "transformer",
                    "capacity_mva": 40,
                    "voltage_kv": 110,
                },
                {
                    "name": "L1",
                    "substation": "Riverside",
                    "component_type": "line",
                    "length_km": 12.5,
                    "voltage_kv": 20,
                    "to_substation": "Hilltop",
                    "rated_current_a": 400,
                },
                {
                    "name": "S1",
                    "substation": "Riverside",
                    "component_type": "switch",
                    "status": "closed",
                },
            ]
        }
    )


class ComponentUpdate(ComponentFields, _MaybeNamed):
    """Only the fields to change. A new ``component_type`` empties the old type's fields, so
    give the new type's fields with it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"capacity_mva": 63},
                {"component_type": "line", "length_km": 4.2, "voltage_kv": 20},
            ]
        }
    )


class _Identified(BaseModel):
    id: int


class ComponentOut(ComponentFields, _Named, _Identified):
    """A stored component: its fields, and who created and last changed it, when."""

    # Every field is in every answer, null or not.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, record: ComponentRecord) -> ComponentOut:
        return cls.model_validate(record, from_attributes=True)


class ComponentWritten(ComponentOut):
    """A created or changed component, and the substations its names created."""

    created_substations: list[str] = Field(
        default_factory=list,
        description="substations that did not exist before this write (names not known yet)",
    )


class SubstationOut(BaseModel):
    name: str
    description: str | None
    x: float | None = Field(
        description="place on the network map (about -1 to 1); null until laid out"
    )
    y: float | None
    pinned: bool = Field(description="a manager's place, kept by every layout")
    components: int = Field(description="components standing in it")
    line_ends: int = Field(description="other substations' lines ending here")


class SubstationChange(BaseModel):
    """Only the fields given change. A rename moves every component and line end with it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Seefeld", "description": "fed from the 110 kV ring"},
                {"x": 0.25, "y": -0.5, "pinned": True},
            ]
        },
    )

    name: str | None = Field(None, description="a new name (not a look-alike of another one)")
    description: str | None = Field(None, description="empty or null removes it")
    x: float | None = None
    y: float | None = None
    pinned: bool | None = Field(None, description="true with x and y: never moved by the layout")


class MeasurementCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "component_id": 1,
                    "timestamp": "2024-05-01T13:45:00+02:00",
                    "value": 110.4,
                    "measurement_type": "voltage",
                }
            ]
        }
    )

    component_id: int
    timestamp: str | None = Field(
        default=None,
        description="ISO 8601 as in imports; with an offset it is converted to UTC, without "
        "one it is taken as UTC. Left out: now.",
    )
    value: float = Field(
        description="in GridBoard's units: voltage in kV, current in A, power in MW (signed); "
        "a value implausible for the component is refused (see docs/design.md#plausibility)"
    )
    measurement_type: str = Field(description="voltage, current or power, in any case")


class MeasurementsDeleted(BaseModel):
    deleted: int = Field(description="how many measurements the range held, now deleted")


class MeasurementOut(BaseModel):
    id: int
    component_id: int
    timestamp: datetime
    value: float
    measurement_type: MeasurementType

    @classmethod
    def of(cls, record: MeasurementRecord) -> MeasurementOut:
        return cls.model_validate(record, from_attributes=True)


PERIOD_BOUND = (
    "a date alone is midnight in time_zone, a date and time without an offset is time_zone's "
    "wall clock, one with an offset (or Z) keeps its instant"
)


class ReportCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start_date": "2024-05-01",
                    "end_date": "2024-06-01",
                    "time_zone": "Europe/Zurich",
                }
            ]
        }
    )

    start_date: str = Field(description=f"ISO 8601, inclusive; {PERIOD_BOUND}")
    end_date: str = Field(description=f"ISO 8601, exclusive; {PERIOD_BOUND}")
    time_zone: str = Field(
        default="UTC", description="IANA zone of the daily buckets and of dates without an offset"
    )


class ReportOut(BaseModel):
    id: int
    status: str = Field(description="pending, running, completed, failed or cancelled")
    created_at: datetime
    # Read from a ReportRecord's period_start and period_end (``of``), named as the reference.
    start_date: datetime = Field(validation_alias=AliasChoices("start_date", "period_start"))
    end_date: datetime = Field(validation_alias=AliasChoices("end_date", "period_end"))
    time_zone: str
    requested_by: str
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = Field(description="why it failed or who cancelled it")

    @classmethod
    def of(cls, record: ReportRecord) -> ReportOut:
        return cls.model_validate(record, from_attributes=True)


class ReportDetail(ReportOut):
    result_json: dict[str, Any] | None = Field(
        default=None,
        description="Once completed: 'summary' (components_by_type, "
        "transformer_capacity_by_voltage, line_length_by_voltage) and one list of rows per "
        "other table of the report (daily_averages, daily_averages_by_voltage, "
        "limit_violations, alarm_shares_by_voltage; a report made before limit violations "
        "were reported has neither of the last two), the numbers of its CSV files.",
    )


class ImportOut(BaseModel):
    file_name: str
    rows: int
    inserted: int
    skipped: int
    overwritten: int
    created_substations: list[str] = Field(
        default_factory=list, description="substations the import created (unknown names)"
    )
    ignored_columns: list[str] = Field(
        default=[],
        description="GridBoard's information columns the file had (id, audit columns): "
        "accepted, nothing read from them",
    )
    allow_implausible: bool = Field(
        default=False, description="whether implausible values were let in (audited)"
    )
