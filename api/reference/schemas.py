"""The reference service's request and response bodies under ``/b``: its field names and its
upper-case enumerations, translated to and from GridBoard's records. See
docs/reference.md#moving-from-the-reference-service."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from core.grid.components import ComponentRecord
from core.measurements.measurements import MeasurementRecord
from core.reports.jobs import ReportRecord, ReportStatus


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class ComponentType(StrEnum):
    TRANSFORMER = "TRANSFORMER"
    LINE = "LINE"
    SWITCH = "SWITCH"


class SwitchStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class MeasurementType(StrEnum):
    VOLTAGE = "VOLTAGE"
    CURRENT = "CURRENT"
    POWER = "POWER"


AnyCaseType = Annotated[ComponentType, BeforeValidator(_upper)]
AnyCaseStatus = Annotated[SwitchStatus, BeforeValidator(_upper)]
AnyCaseMeasurementType = Annotated[MeasurementType, BeforeValidator(_upper)]


OAUTH2_KIND = "bearer"  # the OAuth2 token type


class Token(BaseModel):
    access_token: str
    token_type: str


class User(BaseModel):
    username: str
    manager: bool | None = None


# Requests: the type's fields are shapes here; their rules (finite, > 0, ranges) are core's.
class TransformerCreate(BaseModel):
    name: str
    substation: str
    component_type: Literal[ComponentType.TRANSFORMER]
    capacity_mva: float
    voltage_kv: float


class LineCreate(BaseModel):
    name: str
    substation: str
    component_type: Literal[ComponentType.LINE]
    length_km: float
    voltage_kv: float


class SwitchCreate(BaseModel):
    name: str
    substation: str
    component_type: Literal[ComponentType.SWITCH]
    status: AnyCaseStatus


ComponentCreate = Annotated[
    TransformerCreate | LineCreate | SwitchCreate, Field(discriminator="component_type")
]


class TransformerUpdate(BaseModel):
    name: str | None = None
    substation: str | None = None
    component_type: Literal[ComponentType.TRANSFORMER]
    capacity_mva: float | None = None
    voltage_kv: float | None = None


class LineUpdate(BaseModel):
    name: str | None = None
    substation: str | None = None
    component_type: Literal[ComponentType.LINE]
    length_km: float | None = None
    voltage_kv: float | None = None


class SwitchUpdate(BaseModel):
    name: str | None = None
    substation: str | None = None
    component_type: Literal[ComponentType.SWITCH]
    status: AnyCaseStatus | None = None


ComponentUpdate = Annotated[
    TransformerUpdate | LineUpdate | SwitchUpdate, Field(discriminator="component_type")
]


def core_fields(body: BaseModel) -> dict[str, Any]:
    """A component body as core reads it: the fields given, enumerations in lower case."""
    given = body.model_dump(mode="json", exclude_unset=True)
    given["component_type"] = str(given["component_type"]).lower()  # required: always set
    if given.get("status") is not None:
        given["status"] = given["status"].lower()
    return given


class TransformerResponse(BaseModel):
    id: int
    name: str
    substation: str
    component_type: Literal[ComponentType.TRANSFORMER] = ComponentType.TRANSFORMER
    capacity_mva: float
    voltage_kv: float


class LineResponse(BaseModel):
    id: int
    name: str
    substation: str
    component_type: Literal[ComponentType.LINE] = ComponentType.LINE
    length_km: float
    voltage_kv: float


class SwitchResponse(BaseModel):
    id: int
    name: str
    substation: str
    component_type: Literal[ComponentType.SWITCH] = ComponentType.SWITCH
    status: SwitchStatus


ComponentResponse = Annotated[
    TransformerResponse | LineResponse | SwitchResponse, Field(discriminator="component_type")
]
_RESPONSES: dict[str, type[TransformerResponse | LineResponse | SwitchResponse]] = {
    "transformer": TransformerResponse,
    "line": LineResponse,
    "switch": SwitchResponse,
}


def component_response(
    record: ComponentRecord,
) -> TransformerResponse | LineResponse | SwitchResponse:
    model = _RESPONSES[record.component_type.value]
    values = {
        name: getattr(record, name) for name in model.model_fields if name != "component_type"
    }
    if values.get("status") is not None:
        values["status"] = SwitchStatus(values["status"].value.upper())
    return model.model_validate(values)


class MeasurementCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "component_id": 1,
                    "timestamp": "2024-05-01T13:45:00Z",
                    "value": 110.4,
                    "measurement_type": "VOLTAGE",
                }
            ]
        }
    )

    component_id: int
    timestamp: str | None = Field(
        default=None, description="ISO 8601; with an offset converted to UTC. Left out: now."
    )
    value: float
    measurement_type: AnyCaseMeasurementType


class MeasurementResponse(BaseModel):
    id: int
    component_id: int
    timestamp: datetime
    value: float
    measurement_type: MeasurementType

    @classmethod
    def of(cls, record: MeasurementRecord) -> MeasurementResponse:
        return cls(
            id=record.id,
            component_id=record.component_id,
            timestamp=record.timestamp,
            value=record.value,
            measurement_type=MeasurementType(record.measurement_type.value.upper()),
        )


class ReportRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"}]
        }
    )

    start_date: str = Field(description="ISO 8601, inclusive")
    end_date: str = Field(description="ISO 8601, exclusive")


class ReportResponse(BaseModel):
    id: int
    status: str = Field(description="pending, completed or 'failed: why'")
    created_at: datetime
    start_date: datetime
    end_date: datetime

    @classmethod
    def of(cls, record: ReportRecord) -> ReportResponse:
        return cls(
            id=record.id,
            status=reference_status(record),
            created_at=record.created_at,
            start_date=record.period_start,
            end_date=record.period_end,
        )


def reference_status(record: ReportRecord) -> str:
    """The reference's three states: a running report is still pending to its clients, and
    a failed or cancelled one is ``failed: why``."""
    if record.status in (ReportStatus.PENDING, ReportStatus.RUNNING):
        return "pending"
    if record.status is ReportStatus.COMPLETED:
        return "completed"
    return f"failed: {record.error or record.status.value}"


class ComponentTypeCount(BaseModel):
    component_type: str
    count: int


class TransformerCapacity(BaseModel):
    voltage_kv: float
    total_capacity_mva: float


class LineLength(BaseModel):
    voltage_kv: float
    total_length_km: float


class DailyAverage(BaseModel):
    day: date
    measurement_type: str
    component_type: str
    avg_value: float


class ReportSummary(BaseModel):
    components_by_type: list[ComponentTypeCount]
    transformer_capacity_by_voltage: list[TransformerCapacity]
    line_length_by_voltage: list[LineLength]


class FinalReportSchema(BaseModel):
    summary: ReportSummary
    daily_averages: list[DailyAverage]


class ReportDetailResponse(ReportResponse):
    result_json: FinalReportSchema | None = None
