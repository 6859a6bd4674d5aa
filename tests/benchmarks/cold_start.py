"""Cold start to the attract screen, run in a fresh interpreter by the check-in benchmark.

``python -m tests.benchmarks.cold_start FOLDER`` assembles the kiosk as ``kiosk demo``
does (embedded property simulator, simulated devices, state under FOLDER), starts the
check-in journey and prints ``attract <time.monotonic()>`` when the journey shows its
first view. The parent reads the same monotonic clock, so the difference is the time
from its spawning this process to the attract screen: interpreter, imports, start-up.
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


if __name__ == "__main__":
    print(asyncio.run(first_view(Path(sys.argv[1]))), flush=True)
