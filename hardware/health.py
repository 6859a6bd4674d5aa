"""Device health, the one shape every device reports for ``kiosk hw list``, ``kiosk doctor``
and fleet telemetry."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class HealthLevel(StrEnum):
    OK = "ok"
    WARNING = "warning"  # works, but needs attention soon (paper near end, card stock low)
    FAULT = "fault"  # cannot serve a guest (no reader, printer not answering, stock empty)


@dataclass(frozen=True)
class DeviceHealth:
    """One device's state: a level, a short operator-facing detail, and numbers for telemetry."""

    device: str
    level: HealthLevel
    detail: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "level": self.level.value,
            "detail": self.detail,
            "metrics": dict(self.metrics),
        }
