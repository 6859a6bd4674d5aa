"""Cold start to the attract screen, run in a fresh interpreter by the check-in benchmark.

``python -m tests.benchmarks.cold_start FOLDER [--ui]`` assembles the kiosk as ``kiosk demo``
does (embedded property simulator, simulated devices, state under FOLDER), starts the
check-in journey and prints ``attract <time.monotonic()>`` when the journey shows its
first view. The parent reads the same monotonic clock, so the difference is the time
from its spawning this process to the attract screen: interpreter, imports, start-up.
With ``--ui`` (on a display the parent provides) it waits for the Kivy attract screen
to show the journey's view and draw a frame.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from kiosk.demo import demo_config
from kiosk.journeys.messages import Channel
from kiosk.runtime import start_runtime

FIRST_VIEW_TIMEOUT_S = 10.0


async def first_view(folder: Path) -> str:
    runtime = await start_runtime(demo_config(folder))
    try:
        await runtime.start_background()  # as ``kiosk demo``: open payments, the outbox relay
        channel = Channel()
        run = asyncio.create_task(runtime.journey.run(channel))
        try:
            view = await asyncio.wait_for(channel.views.get(), FIRST_VIEW_TIMEOUT_S)
            return f"{view.step.value} {time.monotonic():.6f}"
        finally:
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
    finally:
        await runtime.aclose()


async def first_screen(folder: Path) -> str:
    """The kiosk's UI up (``kiosk run``'s start-up with the demo config): the time its
    attract screen shows the journey's first view and has drawn a frame."""
    from kiosk.config import OperatorConfig, UiConfig
    from kiosk.service import GuestService
    from screens.launch import app_ready, build_app, prepare_kivy

    ui = UiConfig(fullscreen=False)
    prepare_kivy(ui, touch_devices=False)
    runtime = await start_runtime(demo_config(folder))
    await runtime.start_background()  # as ``kiosk run``: open payments, the outbox relay
    channel = Channel()
    service = GuestService(runtime.journey, channel, runtime.health_sources())
    app = build_app(
        channel,
        runtime.journey.catalogue,
        service,
        OperatorConfig(),
        ui,
        state=runtime.payment_log.db,
    )
    serving = asyncio.create_task(service.serve())
    running = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    try:
        await app_ready(app)
        from kivy.clock import Clock

        def journey_on_screen() -> bool:  # the idle screen has no buttons; the journey's has
            view = app.manager.current_screen.view
            return view is not None and bool(view.choices)

        deadline = time.monotonic() + FIRST_VIEW_TIMEOUT_S
        while not journey_on_screen() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        frame = Clock.frames
        while Clock.frames <= frame:
            await asyncio.sleep(0.005)
        return f"{app.manager.current} {time.monotonic():.6f}"
    finally:
        from kivy.base import stopTouchApp

        stopTouchApp()
        await asyncio.wait_for(running, 10)
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await runtime.aclose()


if __name__ == "__main__":
    measure = first_screen if "--ui" in sys.argv[2:] else first_view
    print(asyncio.run(measure(Path(sys.argv[1]))), flush=True)
