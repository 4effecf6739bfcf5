"""The vocabulary of the grid model: enumerations, the acting user, and role checks.
See docs/design.md#roles."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import MissingPermission


class ComponentType(StrEnum):
    TRANSFORMER = "transformer"
    LINE = "line"
    SWITCH = "switch"


class MeasurementType(StrEnum):
    VOLTAGE = "voltage"
    CURRENT = "current"
    POWER = "power"


class SwitchStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Role(StrEnum):
    USER = "user"
    MANAGER = "manager"


MEASUREMENT_UNITS: dict[MeasurementType, str] = {
    MeasurementType.VOLTAGE: "kV",
    MeasurementType.CURRENT: "A",
    MeasurementType.POWER: "MW",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, or the command line acting as a system manager."""

    username: str
    role: Role

    @property
    def is_manager(self) -> bool:
        return self.role is Role.MANAGER


# Whoever can open the database already has manager rights; the CLI says so in what it writes.
SYSTEM_ACTOR = Actor(username="system:cli", role=Role.MANAGER)


def require_manager(actor: Actor, action: str) -> None:
    """Refuse ``action`` unless ``actor`` is a manager."""
    if actor.role is not Role.MANAGER:
        raise MissingPermission(actor.username, actor.role.value, action)
