"""``kiosk hw ...``: operator commands for the devices (issue 3, item 6)."""

from __future__ import annotations

import argparse
import importlib

# One module per device family; each adds its commands under ``kiosk hw``.
HW_MODULES = ("kiosk.cli.hw_devices", "kiosk.cli.hw_card", "kiosk.cli.hw_scan")


def register(subparsers: argparse._SubParsersAction) -> None:
    hw = subparsers.add_parser("hw", help="inspect and exercise the kiosk's devices")
    hw_sub = hw.add_subparsers(dest="hw_command", required=True, metavar="HW_COMMAND")
    for name in HW_MODULES:
        importlib.import_module(name).register(hw_sub)
