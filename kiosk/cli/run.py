"""``kiosk run``: the production entry point — the kiosk on its config file (issue 4, item 5).

Real devices and the property's back-end as the config names them; the same code paths
as ``kiosk demo`` (which only swaps in the simulator and simulated devices).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, KioskConfig

log = logging.getLogger("kiosk.run")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="run the kiosk on its config file (production)")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML config file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config

    if not args.config.exists():
        log.error("no config file at %s (see docs/configuration.md)", args.config)
        return 2
    config = load_config(args.config)
    return asyncio.run(_serve(config))


async def _serve(config: KioskConfig) -> int:
    from kiosk.runtime import serve_kiosk, start_runtime
    from screens.launch import prepare_kivy

    prepare_kivy(config.ui)
    runtime = await start_runtime(config)
    await serve_kiosk(runtime, config.ui, config.operator)
    return 0
