"""``kiosk hw list`` and ``kiosk hw print-test``: the configured devices and their health,
and a test receipt on the configured printer."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hardware.printer import PrinterConfig, Receipt
    from kiosk.cli._devices import DeviceReport

DEFAULT_PROBE_TIMEOUT_S = 10.0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "list",
        help="every configured device, its driver and health",
        description="Open each configured device, ask its health and close it again.",
    )
    add_common_options(p)
    p.set_defaults(func=run_list)

    p = subparsers.add_parser(
        "print-test",
        help="print a test receipt on the configured printer",
        description="Print a test receipt and say where it went (a simulated printer "
        "writes a PNG).",
    )
    p.add_argument("--config", type=Path, help="the kiosk's TOML config (default: built-in)")
    p.set_defaults(func=run_print_test)


def add_common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="the kiosk's TOML config (default: built-in)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_PROBE_TIMEOUT_S,
        help="seconds a device may take to answer (default %(default)s)",
    )


def run_list(args: argparse.Namespace) -> int:
    from kiosk.cli._devices import missing, probe_all
    from kiosk.config import load_config
    from kiosk.runtime import devices_in_state_dir

    devices = devices_in_state_dir(load_config(args.config))
    reports = probe_all(devices, args.timeout)
    absent = missing(devices)
    if args.json:
        body = {"devices": [r.as_dict() for r in reports], "not_in_build": absent}
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(format_table(reports))
        if absent:
            print(f"not in this build: {', '.join(absent)}")
    return 0


def format_table(reports: list[DeviceReport]) -> str:
    """One aligned line per device: name, driver, level, detail."""
    rows = [("DEVICE", "DRIVER", "LEVEL", "DETAIL")] + [
        (r.name, r.driver, r.health.level.value.upper(), r.health.detail) for r in reports
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    )


def run_print_test(args: argparse.Namespace) -> int:
    from kiosk.cli._devices import configured, open_device
    from kiosk.config import load_config

    devices = load_config(args.config).devices
    family = next((f for f in configured(devices) if f.name == "printer"), None)
    if family is None:
        print("no printer in this build or configuration", file=sys.stderr)
        return 2
    from hardware.printer import PrinterError

    try:
        printer = open_device(family, devices)
        try:
            printer.print_receipt(sample_receipt(datetime.now(UTC)))
        finally:
            printer.close()
    except PrinterError as exc:
        print(f"print test failed: {exc}", file=sys.stderr)
        return 1
    print(f"test receipt printed: {_where(printer, devices.printer)}")
    return 0


def sample_receipt(now: datetime) -> Receipt:
    """A receipt that exercises what guests' receipts use: sizes, bold, CJK, pairs, a QR."""
    from hardware.printer import Align, Pair, QrCode, Receipt, Separator, Text

    return Receipt(
        (
            Text("Lobby kiosk", Align.CENTER, bold=True, double=True),
            Text("printer test / 打印测试", Align.CENTER),
            Separator(),
            Pair("Time (UTC)", now.strftime("%Y-%m-%d %H:%M")),
            Pair("Amount", "0.00", bold=True),
            Text("ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 房间 欢迎"),
            Separator("="),
            QrCode("lobby-kiosk print test"),
            Text("end of test", Align.CENTER),
        )
    )


def _where(printer: Any, config: PrinterConfig) -> str:
    printed = getattr(printer, "printed", None)  # the simulator keeps the PNGs it wrote
    if printed:
        return str(printed[-1])
    if config.connection == "network":
        return f"escpos printer at {config.host}:{config.port}"
    if config.connection == "serial":
        return f"escpos printer on {config.serial_port}"
    if config.connection == "usb":
        return f"escpos printer on USB {config.usb_vendor_id:04x}:{config.usb_product_id:04x}"
    return f"escpos printer file {config.file_path}"
