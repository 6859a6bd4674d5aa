"""The fleet page's alert kinds, from alert texts, device metrics and silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.remote.console.alerts import derive, kind_of
from kiosk.remote.schemas import DeviceReport, Status, Telemetry

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TEN_MIN = timedelta(minutes=10)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("printer: paper near end", "paper_low"),
        ("printer: paper out", "paper_low"),
        ("dispenser: card stock low", "card_stock_low"),
        ("dispenser: card stock empty", "card_stock_low"),
        ("dispenser: reject bin full", "reject_bin_full"),
        ("printer: printer offline", "device_fault"),
        ("camera: fault", "device_fault"),
        ("outbox: 3 dead", "outbox_backlog"),
        ("outbox: 25 queued", "outbox_backlog"),
        ("backend: unreachable", "backend_unreachable"),
    ],
)
def test_alert_texts(text: str, kind: str) -> None:
    assert kind_of(text) == kind


def status(**changes: object) -> Status:
    return Status(kiosk="k1", state="online", ts=T0, **changes)  # type: ignore[arg-type]


def telemetry(ts: datetime, *devices: DeviceReport) -> Telemetry:
    return Telemetry(kiosk="k1", ts=ts, devices=list(devices))


def test_an_online_kiosk_has_its_status_alerts_and_fresh_metrics() -> None:
    s = status(alerts=["printer: paper near end", "outbox: 1 dead"])
    assert derive(s, None, T0, T0, TEN_MIN) == (
        ["printer: paper near end", "outbox: 1 dead"],
        ["paper_low", "outbox_backlog"],
    )
    jammed_full = DeviceReport(
        device="dispenser", level="fault", detail="jam",
        metrics={"stock": "empty", "reject_bin_full": True},
    )  # fmt: skip
    fault = DeviceReport(device="encoder", level="fault", detail="no reader")
    fresh = telemetry(T0 + timedelta(seconds=5), jammed_full, fault)
    texts, kinds = derive(s, fresh, T0, T0, TEN_MIN)
    assert texts == s.alerts
    assert kinds == [
        "paper_low", "card_stock_low", "reject_bin_full", "device_fault", "outbox_backlog"
    ]  # fmt: skip
    # Telemetry older than the status was superseded by it (the alerts may have cleared).
    stale = telemetry(T0 - timedelta(seconds=5), jammed_full)
    assert derive(status(), stale, T0, T0, TEN_MIN) == ([], [])


def test_an_offline_kiosk_alerts_once_silent_long_enough() -> None:
    offline = Status(kiosk="k1", state="offline", ts=T0, alerts=["printer: paper near end"])
    assert derive(offline, None, T0, T0 + TEN_MIN, TEN_MIN) == ([], [])
    later = T0 + timedelta(minutes=12, seconds=30)
    assert derive(offline, None, T0, later, TEN_MIN) == (["offline for 12 min"], ["offline"])
    assert derive(None, None, None, later, TEN_MIN) == ([], [])
