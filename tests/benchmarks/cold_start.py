"""Cold start to the attract screen, run in a fresh interpreter by the check-in benchmark.

``python -m tests.benchmarks.cold_start FOLDER [--ui]`` assembles the kiosk as ``kiosk demo``
does (embedded property simulator, simulated devices, state under FOLDER), starts the
check-in journey and prints ``attract <time.monotonic()>`` when the journey shows its
first view. The parent reads the same monotonic clock, so the difference is the time
from its spawning this process to the attract screen: interpreter, imports, start-up.
With ``--ui`` (on a display the parent provides) it starts the UI as ``kiosk run`` does
(``serve_kiosk``) and waits for the Kivy attract screen to show the journey's view and
draw a frame. Phases go to stderr (``cold_start_report.py``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from kiosk.demo import demo_config
from kiosk.journeys.messages import Channel
from kiosk.runtime import start_runtime

FIRST_VIEW_TIMEOUT_S = 10.0


async def first_view(folder: Path) -> str:
    runtime = await start_runtime(demo_config(folder))
    phase("runtime")
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
    """The kiosk's UI up, through ``serve_kiosk`` as ``kiosk run`` starts it (demo config):
    the time its attract screen shows the journey's first view and has drawn a frame.
    Then SIGTERM, as systemd stops the kiosk."""
    from kiosk.cli.run import serve_kiosk
    from kiosk.config import OperatorConfig, UiConfig
    from screens.launch import prepare_kivy

    ui = UiConfig(fullscreen=False)
    prepare_kivy(ui, touch_devices=False)
    runtime = await start_runtime(demo_config(folder))
    phase("runtime")
    serving = asyncio.create_task(serve_kiosk(runtime, ui, OperatorConfig()))
    from kivy.app import App
    from kivy.clock import Clock

    def journey_on_screen() -> bool:  # the idle screen has no buttons; the journey's has
        app = App.get_running_app()
        view = app.manager.current_screen.view if app and app.root else None
        return view is not None and bool(view.choices)

    deadline = time.monotonic() + FIRST_VIEW_TIMEOUT_S
    while not journey_on_screen() and time.monotonic() < deadline and not serving.done():
        await asyncio.sleep(0.005)
    frame = Clock.frames
    while Clock.frames <= frame and not serving.done():
        await asyncio.sleep(0.005)
    shown = f"{App.get_running_app().manager.current} {time.monotonic():.6f}"
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serving, 20)
    return shown


def phase(name: str) -> None:
    """Where the time goes (stderr; stdout is the parent's answer)."""
    print(f"phase {name} {time.monotonic():.6f}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    phase("imports")
    measure = first_screen if "--ui" in sys.argv[2:] else first_view
    print(asyncio.run(measure(Path(sys.argv[1]))), flush=True)
