"""``kiosk out-of-order --reason TEXT``: the out-of-service screen alone, nothing else.

systemd starts it (``kiosk-out-of-order.service``) when ``kiosk.service`` has failed too
often in a row: the panel then tells guests to see the front desk instead of flickering
through restarts. It reads no config file, opens no device and no back-end, so it still
runs when one of those is what made the kiosk fail; the reason goes to the journal.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from hardware.health import DeviceHealth

log = logging.getLogger("kiosk.out_of_order")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("out-of-order", help="show only the out-of-service screen")
    p.add_argument("--reason", default="", help="why, for staff (logged, not shown to guests)")
    p.set_defaults(func=run)


class _NoOperations:
    """The operator menu's port with nothing behind it: no device runs here."""

    def health(self) -> list[DeviceHealth]:
        return []

    def set_out_of_service(self, on: bool) -> None:
        """Already out of service, and staying so until systemd starts the kiosk again."""

    def request_staff(self) -> None:
        """Not offered: the out-of-service screen hides "Call staff"."""

    def acknowledge_staff(self) -> None:
        """Nothing is ever requested here."""


def run(args: argparse.Namespace) -> int:
    log.error("kiosk out of order: %s", args.reason or "no reason given")
    return asyncio.run(_show())


async def _show() -> int:
    from kiosk.config import OperatorConfig, UiConfig
    from kiosk.i18n import Catalogue
    from kiosk.journeys.messages import Channel
    from kiosk.service import OUT_OF_SERVICE_VIEW
    from kiosk.state import StateDb
    from screens.launch import build_app, prepare_kivy, run_app

    ui = UiConfig()
    prepare_kivy(ui)
    channel = Channel()
    channel.views.put_nowait(OUT_OF_SERVICE_VIEW)
    app = build_app(
        channel, Catalogue.load(), _NoOperations(), OperatorConfig(), ui, state=StateDb.in_memory()
    )
    await run_app(app)
    return 0
