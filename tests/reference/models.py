"""The reference service's response shapes, written from its schemas (the same field names,
types and enumeration values), strict: a key it would not send fails the test."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SwitchStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class MeasurementType(StrEnum):
    VOLTAGE = "VOLTAGE"
    CURRENT = "CURRENT"
    POWER = "POWER"


class ComponentType(StrEnum):
    TRANSFORMER = "TRANSFORMER"
    LINE = "LINE"
    SWITCH = "SWITCH"


class Token(Strict):
    access_token: str
    token_type: str


class User(Strict):
    username: str
    manager: bool | None = None


class TransformerResponse(Strict):
    id: int
    name: str
    substation: str
    component_type: Literal[ComponentType.TRANSFORMER]
    capacity_mva: float
    voltage_kv: float


class LineResponse(Strict):
    id: int
    name: str
    substation: str
    component_type: Literal[ComponentType.LINE]
    length_km: float
    voltage_kv: float


class SwitchResponse(Strict):
    id: int
    name: str
    substation: str
    component_type: Literal[ComponentType.SWITCH]
    status: SwitchStatus


ComponentResponse = Annotated[
    TransformerResponse | LineResponse | SwitchResponse, Field(discriminator="component_type")
]


class MeasurementResponse(Strict):
    id: int
    component_id: int
    timestamp: datetime
    value: float
    measurement_type: MeasurementType


class ComponentTypeCount(Strict):
    component_type: ComponentType
    count: int


class TransformerCapacity(Strict):
    voltage_kv: float
    total_capacity_mva: float


class LineLength(Strict):
    voltage_kv: float
    total_length_km: float


class DailyAverage(Strict):
    day: date
    measurement_type: MeasurementType
    component_type: ComponentType
    avg_value: float


class ReportSummary(Strict):
    components_by_type: list[ComponentTypeCount]
    transformer_capacity_by_voltage: list[TransformerCapacity]
    line_length_by_voltage: list[LineLength]


class FinalReportSchema(Strict):
    summary: ReportSummary
    daily_averages: list[DailyAverage]


class ReportResponse(Strict):
    id: int
    status: str
    created_at: datetime
    start_date: datetime
    end_date: datetime


class ReportDetailResponse(ReportResponse):
    result_json: FinalReportSchema | None = None


class Message(Strict):
    """Every refusal but a body's: FastAPI's HTTPException body."""

    detail: str


class Problem(Strict):
    type: str
    loc: list[str | int]
    msg: str
    input: Any
    ctx: dict[str, Any] | None = None


class Invalid(Strict):
    """A body or query FastAPI refuses, and a rule core refuses, under /b."""

    detail: list[Problem]


ROUTES: tuple[tuple[str, re.Pattern[str], int, TypeAdapter[Any]], ...] = tuple(
    (method, re.compile(pattern), status, TypeAdapter(shape))
    for method, pattern, status, shape in (
        ("POST", r"/auth/token", 200, Token),
        ("GET", r"/auth/users/me/", 200, User),
        ("GET", r"/components", 200, list[ComponentResponse]),
        ("POST", r"/components", 201, ComponentResponse),
        ("PUT", r"/components/\d+", 200, ComponentResponse),
        ("POST", r"/measurements", 201, MeasurementResponse),
        ("POST", r"/reports", 202, ReportResponse),
        ("GET", r"/reports", 200, list[ReportResponse]),
        ("GET", r"/reports/\d+", 200, ReportDetailResponse),
    )
)


def parsed(method: str, path: str, status: int, body: Any) -> Any:
    """``body`` as the reference's models read it; an answer of no known shape fails."""
    if status == 204:
        return None
    if status == 422:
        return Invalid.model_validate(body)
    if status >= 400:
        return Message.model_validate(body)
    for route_method, pattern, route_status, shape in ROUTES:
        if route_method == method and pattern.fullmatch(path) and route_status == status:
            return shape.validate_python(body)
    raise AssertionError(f"{method} {path} answered {status}, which the reference never does")
