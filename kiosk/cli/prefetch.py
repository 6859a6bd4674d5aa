"""``kiosk prefetch``: read the arrivals from yesterday to tomorrow into the offline cache now."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, KioskConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "prefetch", help="read the arrivals from yesterday to tomorrow into the offline cache"
    )
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML config file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config

    return asyncio.run(_prefetch(load_config(args.config), args.json))


async def _prefetch(config: KioskConfig, as_json: bool) -> int:
    from kiosk.backends.base import BackendError
    from kiosk.offline import OfflineBackend, prefetch
    from kiosk.runtime import start_runtime

    runtime = await start_runtime(config)
    try:
        backend = runtime.journey.backend
        if runtime.cache is None or not isinstance(backend, OfflineBackend):
            print("offline use is off, or this back-end lists no arrivals: nothing to prefetch")
            return 2
        try:
            report = await prefetch(
                backend,
                runtime.cache,
                runtime.config.journey.zone,
                runtime.journey.now(),
            )
        except BackendError as exc:
            print(f"prefetch failed: {exc.reason}")
            return 1
    finally:
        await runtime.aclose()
    if as_json:
        print(json.dumps(report.__dict__))
    else:
        print(f"{report.reservations} arrivals and {report.rooms} rooms cached")
    return 0
