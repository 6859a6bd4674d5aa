"""``kiosk run``: the production entry point — the kiosk on its config file (issue 4, item 5).

Real devices and the property's back-end as the config names them; the same code paths
as ``kiosk demo`` (which only swaps in the simulator and simulated devices).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.config import DEFAULT_CONFIG_PATH, KioskConfig, OperatorConfig, UiConfig

if TYPE_CHECKING:
    from kiosk.runtime import Runtime
    from kiosk.service import GuestService, Scanner

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
    return asyncio.run(_serve(config, args.config))


async def _serve(config: KioskConfig, config_path: Path) -> int:
    from kiosk.runtime import start_runtime
    from screens.launch import prepare_kivy

    prepare_kivy(config.ui)
    runtime = await start_runtime(config, config_path)
    await serve_kiosk(runtime, config.ui, config.operator)
    return 0


async def serve_kiosk(
    runtime: Runtime,
    ui: UiConfig,
    operator: OperatorConfig,
    *,
    on_start: Callable[[Scanner], None] | None = None,
) -> GuestService:
    """The kiosk in service on its screen (``kiosk run``, ``kiosk demo`` with a display)
    until SIGTERM or the window closes; closes ``runtime``. ``on_start`` sees the scanner
    before the camera starts (the demo holds codes to its simulated camera).

    Call ``screens.launch.prepare_kivy`` first (before anything imports Kivy)."""
    from kiosk.journeys.messages import watched_channel
    from kiosk.service import GuestService, Scanner
    from screens.launch import build_app, run_app

    try:
        await runtime.start_background()
        remote = runtime.remote
        channel = watched_channel() if remote is None else remote.channel()
        if runtime.sound is not None:
            runtime.sound.follow(channel)
        service = GuestService(
            runtime.journey,
            channel,
            runtime.health_sources(),
            runtime.opener,
            lobby=runtime.lobby,
        )
        scanner = Scanner(runtime.config.devices.camera, channel)
        app = build_app(
            channel,
            runtime.journey.catalogue,
            service,
            operator,
            ui,
            scanner.preview,
            state=runtime.payment_log.db,
            speech=runtime.sound,
        )
    except BaseException:
        await runtime.aclose()
        raise

    # systemd stops the kiosk with SIGTERM: the journey in flight settles its money first,
    # then the window, the devices and the state close (the devices are needed to void).
    async def stop() -> None:
        await service.shutdown(runtime.config.state.shutdown_grace_s)
        app.stop()

    stopping: list[asyncio.Future[None]] = []  # a reference, so the stop is not collected

    def request_stop() -> None:
        stopping.append(asyncio.ensure_future(stop()))

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, request_stop)
    if remote is not None:  # the fleet's restart is this stop; systemd starts the kiosk again
        service.on_result = remote.journey_ended
        service.on_staff_requested = remote.staff_requested
        remote.attach(service, restart=request_stop, screenshot=_screenshot_png)
    if on_start is not None:
        on_start(scanner)
    scanner.start()
    try:
        await run_app(app, until=service.serve())
    finally:
        scanner.stop()
        await runtime.aclose()
    return service


async def _screenshot_png() -> bytes:
    """The window as a PNG (the fleet's screenshot command), from the next frame."""
    import tempfile

    from kivy.clock import Clock
    from kivy.core.window import Window

    target = Clock.frames + 1
    while Clock.frames < target:
        await asyncio.sleep(0.01)
    with tempfile.TemporaryDirectory(prefix="kiosk-shot-") as folder:
        saved = Window.screenshot(name=str(Path(folder) / "screen.png"))
        if not saved:
            raise RuntimeError("the window gave no screenshot")
        return Path(saved).read_bytes()
