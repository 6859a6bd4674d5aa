"""The device families the operator commands know, and a bounded health probe for each.

A family is listed when its ``hardware`` package is in this build and ``DevicesConfig``
has its field, so ``kiosk hw list`` and ``kiosk doctor`` follow the packages that
exist without an edit here. A probe opens the configured device, asks its health and
closes it, in a worker thread with a deadline: a device that does not answer is a
FAULT, never a hang.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hardware.config import DevicesConfig
from hardware.health import DeviceHealth, HealthLevel

CAMERA_FRAME_WAIT_S = 2.0  # a camera that gives no frame in this time is a fault


@dataclass(frozen=True)
class DeviceFamily:
    name: str  # the field of DevicesConfig, and what the operator sees
    package: str
    opener: str  # the package's open_* function
    driver_field: str = "driver"  # the config field that names the driver


FAMILIES = (
    DeviceFamily("camera", "hardware.camera", "open_camera", driver_field="source"),
    DeviceFamily("encoder", "hardware.card_encoder", "open_encoder"),
    DeviceFamily("dispenser", "hardware.dispenser", "open_dispenser"),
    DeviceFamily("printer", "hardware.printer", "open_printer"),
    DeviceFamily("payment", "hardware.payment", "open_payment_terminal"),
    DeviceFamily("audio", "hardware.audio", "open_player"),
)


@dataclass(frozen=True)
class DeviceReport:
    name: str
    driver: str
    health: DeviceHealth

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "driver": self.driver, **self.health.as_dict()}


def configured(devices: DevicesConfig) -> list[DeviceFamily]:
    """The families in this build that the configuration has a section for."""
    return [
        family
        for family in FAMILIES
        if family.name in type(devices).model_fields
        and importlib.util.find_spec(family.package) is not None
    ]


def missing(devices: DevicesConfig) -> list[str]:
    """Families the kiosk has but this build or its configuration does not."""
    present = {family.name for family in configured(devices)}
    return [family.name for family in FAMILIES if family.name not in present]


def open_device(family: DeviceFamily, devices: DevicesConfig) -> Any:
    """The configured device of ``family``, as its package's opener returns it."""
    opener = getattr(importlib.import_module(family.package), family.opener)
    return opener(getattr(devices, family.name))


def probe_all(devices: DevicesConfig, timeout_s: float) -> list[DeviceReport]:
    """Every configured device's health, all probed at once within ``timeout_s``."""
    families = configured(devices)
    results: dict[str, DeviceHealth] = {}
    threads = [
        threading.Thread(
            target=_probe_into,
            args=(family, devices, results),
            name=f"probe-{family.name}",
            daemon=True,  # a driver stuck in a call must not keep the command alive
        )
        for family in families
    ]
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    reports = []
    for family in families:
        health = results.get(family.name) or DeviceHealth(
            family.name, HealthLevel.FAULT, f"no answer within {timeout_s:g} s"
        )
        driver = str(getattr(getattr(devices, family.name), family.driver_field, "?"))
        reports.append(DeviceReport(family.name, driver, health))
    return reports


def _probe_into(
    family: DeviceFamily, devices: DevicesConfig, results: dict[str, DeviceHealth]
) -> None:
    results[family.name] = _probe(family, devices)


def _probe(family: DeviceFamily, devices: DevicesConfig) -> DeviceHealth:
    try:
        device = open_device(family, devices)
    except Exception as exc:  # any driver failure is the report, not a crash of the command
        return DeviceHealth(family.name, HealthLevel.FAULT, f"cannot open: {_describe(exc)}")
    health_of: Callable[[Any], DeviceHealth] = {
        "camera": _camera_health, "audio": _audio_health
    }.get(family.name, _reported_health)  # fmt: skip
    try:
        return health_of(device)
    except Exception as exc:
        return DeviceHealth(family.name, HealthLevel.FAULT, _describe(exc))
    finally:
        close = getattr(device, "close", None)
        if close is not None:
            # The health above already says what matters; a failing close adds nothing.
            with contextlib.suppress(Exception):
                close()


def _reported_health(device: Any) -> DeviceHealth:
    return device.health()


def _audio_health(player: Any) -> DeviceHealth:
    """A player knows its sound card only once it has played: a moment of silence first."""
    player.check()
    return player.health()


def _camera_health(source: Any) -> DeviceHealth:
    """A camera source reports no health of its own (the QR pipeline does, while it runs):
    the probe opens it and waits for one frame."""
    name = f"camera ({source.name})"
    source.open()
    deadline = time.monotonic() + CAMERA_FRAME_WAIT_S
    while time.monotonic() < deadline:
        frame = source.read()
        if frame is not None:
            height, width = frame.shape[:2]
            return DeviceHealth(name, HealthLevel.OK, f"frames {width}x{height}")
    return DeviceHealth(name, HealthLevel.FAULT, f"no frame within {CAMERA_FRAME_WAIT_S:g} s")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
