"""The fleet page's alert kinds, derived from what the kiosks report (docs/fleet.md):
the alert texts of a status or telemetry ("printer: paper near end", "outbox: 3 dead"),
the devices' metrics in the telemetry, and the time a kiosk has been silent."""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.remote.schemas import Status, Telemetry

# Kind -> label, in the order the page lists them.
ALERT_KINDS: dict[str, str] = {
    "paper_low": "paper low",
    "card_stock_low": "card stock low",
    "reject_bin_full": "reject bin full",
    "device_fault": "device fault",
    "outbox_backlog": "outbox backlog",
    "backend_unreachable": "back-end unreachable",
    "offline": "offline too long",
}


def kind_of(alert: str) -> str:
    """The kind of one alert text ``"<device>: <detail>"``; a device's alert that names
    no known supply is a device fault."""
    source, _, detail = alert.partition(": ")
    detail = detail.lower()
    if source == "outbox":
        return "outbox_backlog"
    if source == "backend":
        return "backend_unreachable"
    if "paper" in detail:
        return "paper_low"
    if "stock" in detail:
        return "card_stock_low"
    if "reject bin" in detail:
        return "reject_bin_full"
    return "device_fault"


def metric_kinds(telemetry: Telemetry) -> set[str]:
    """Kinds read from the devices' metrics (a kiosk may word its texts differently)."""
    kinds: set[str] = set()
    for device in telemetry.devices:
        m, own = device.metrics, set()
        if m.get("paper") in ("near_end", "out"):
            own.add("paper_low")
        if m.get("stock") in ("low", "empty"):
            own.add("card_stock_low")
        if m.get("reject_bin_full") is True:
            own.add("reject_bin_full")
        if device.level == "fault" and not own:
            own.add("device_fault")
        kinds |= own
    return kinds


def derive(
    status: Status | None,
    telemetry: Telemetry | None,
    last_seen: datetime | None,
    now: datetime,
    offline_after: timedelta,
) -> tuple[list[str], list[str]]:
    """(alert texts, alert kinds) of one kiosk. Online: its status's alerts (republished
    whenever they change) and the metrics of telemetry no older than that status. Offline:
    only "offline for N min" once it has been silent longer than ``offline_after``."""
    if status is None or status.state == "offline":
        if last_seen is not None and now - last_seen > offline_after:
            minutes = int((now - last_seen).total_seconds() // 60)
            return [f"offline for {minutes} min"], ["offline"]
        return [], []
    texts = list(status.alerts)
    kinds = {kind_of(text) for text in texts}
    if telemetry is not None and telemetry.ts >= status.ts:
        kinds |= metric_kinds(telemetry)
    return texts, [kind for kind in ALERT_KINDS if kind in kinds]
