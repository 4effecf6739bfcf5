"""Request and response bodies of the alarm and limit routes, with their OpenAPI examples.
See docs/reference.md#alarms-and-limits."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from core.alarms.limits import LimitOverride
from core.alarms.records import AlarmEventRecord, AlarmRecord


# One transition as the API answers it: the record's fields, declared once in
# ``core.alarms.records`` (a comment, not a docstring: the OpenAPI document shows none).
@pydantic_dataclass(frozen=True, slots=True)
class AlarmEventOut(AlarmEventRecord):
    @classmethod
    def of(cls, record: AlarmEventRecord) -> AlarmEventOut:
        return cls(**asdict(record))


class AlarmOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "component_id": 1,
                    "component_name": "T1",
                    "substation": "Riverside",
                    "component_type": "transformer",
                    "measurement_type": "voltage",
                    "kind": "high_alarm",
                    "severity": "alarm",
                    "limit": 121.0,
                    "worst_value": 124.2,
                    "worst_at": "2024-05-01T13:47:00Z",
                    "raised_at": "2024-05-01T13:45:00Z",
                    "cleared_at": None,
                    "state": "active_unacknowledged",
                    "shelved_until": None,
                    "shelve_reason": None,
                }
            ]
        }
    )

    id: int
    component_id: int
    component_name: str
    substation: str
    component_type: str
    measurement_type: str | None = Field(description="empty for communication lost")
    kind: str
    severity: str = Field(description="alarm or warning")
    limit: float | None = Field(description="in the measurement's unit; minutes of silence")
    worst_value: float | None
    worst_at: datetime | None
    raised_at: datetime = Field(description="the time of the sample that raised it")
    cleared_at: datetime | None = Field(description="the time of the sample that cleared it")
    state: str
    shelved_until: datetime | None
    shelve_reason: str | None

    @classmethod
    def of(cls, record: AlarmRecord) -> AlarmOut:
        return cls.model_validate(
            {
                **{name: getattr(record, name) for name in cls.model_fields},
                "component_type": record.component_type.value,
                "measurement_type": record.measurement_type.value
                if record.measurement_type
                else None,
                "kind": record.kind.value,
                "state": record.state.value,
            }
        )


class AlarmDetail(AlarmOut):
    events: list[AlarmEventOut] = Field(description="every transition, oldest first")

    @classmethod
    def of(cls, record: AlarmRecord) -> AlarmDetail:
        return cls.model_validate(
            AlarmOut.of(record).model_dump()
            | {"events": [AlarmEventOut.of(e) for e in record.events]}
        )


class AlarmPageOut(BaseModel):
    total: int = Field(description="alarms that match, over every page")
    alarms: list[AlarmOut]


class AcknowledgeBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"comment": "crew on the way"}]})

    comment: str | None = Field(default=None, description="optional, at most 1,000 characters")


class ShelveBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"until": "2024-05-01T18:00:00+02:00", "reason": "planned maintenance"}]
        }
    )

    until: str = Field(description="ISO 8601 with an offset; at most 7 days ahead")
    reason: str = Field(description="required, at most 1,000 characters")


class LimitIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"measurement_type": "voltage", "high_alarm": 118, "low_alarm": 102},
                {"measurement_type": "current", "no_limit": True},
            ]
        }
    )

    measurement_type: str
    no_limit: bool = False
    high_alarm: float | None = None
    high_warning: float | None = None
    low_warning: float | None = None
    low_alarm: float | None = None
    deadband_pct: float | None = Field(default=None, description="0-50; default from /limits")
    delay_samples: int | None = Field(default=None, description="1-1000; default from /limits")


class LimitOut(LimitIn):
    @classmethod
    def of(cls, item: LimitOverride) -> LimitOut:
        return cls.model_validate(
            {
                **{name: getattr(item, name) for name in LimitIn.model_fields},
                "measurement_type": item.measurement_type.value,
            }
        )


class ComponentLimits(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"limits": [{"measurement_type": "voltage", "high_alarm": 118}]}]
        }
    )

    limits: list[LimitIn] = Field(
        max_length=3, description="the whole set: an empty list returns to the defaults"
    )


class LevelLimitsIn(ComponentLimits):
    component_type: str
    voltage_kv: float


class LevelLimitsOut(BaseModel):
    component_type: str
    voltage_kv: float
    limits: list[LimitOut]


class LimitSettings(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "defaults": {"voltage_warning_pct": 4, "silence_minutes": 30},
                    "levels": [
                        {
                            "component_type": "line",
                            "voltage_kv": 20,
                            "limits": [{"measurement_type": "current", "high_alarm": 350}],
                        }
                    ],
                }
            ]
        }
    )

    defaults: dict[str, float] = Field(
        default_factory=dict, description="names and values to change; the others keep theirs"
    )
    levels: list[LevelLimitsIn] = Field(
        default_factory=list,
        max_length=100,
        description="per type and voltage level: each replaces that level's whole set",
    )


class LimitSettingsOut(BaseModel):
    defaults: dict[str, float]
    levels: list[LevelLimitsOut]
