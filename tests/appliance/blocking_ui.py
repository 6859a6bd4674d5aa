"""The kiosk's UI that blocks its own frame loop for a while, for test_notify.

``python -m tests.appliance.blocking_ui RUN_S BLOCK_S``, on a display, with systemd's
``NOTIFY_SOCKET``: the real KioskApp runs RUN_S seconds after its first frame, then a Clock
callback sleeps BLOCK_S seconds (the UI loop is stuck, as a deadlock or a runaway
computation would leave it), then it runs RUN_S more and stops. It prints one JSON line:
when the first frame was drawn and when the loop was blocked, in CLOCK_MONOTONIC time,
which the test process shares.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


def main(run_s: float, block_s: float) -> None:
    from kiosk.config import OperatorConfig, UiConfig
    from kiosk.i18n import Catalogue
    from kiosk.journeys.messages import Channel
    from kiosk.state import StateDb
    from screens.launch import build_app, prepare_kivy, run_app

    ui = UiConfig(width=540, height=960, fullscreen=False)
    prepare_kivy(ui, touch_devices=False)
    from kivy.clock import Clock
    from kivy.core.window import Window

    from tests.ui.driver import NoOperatorPort

    app = build_app(
        Channel(),
        Catalogue.load(),
        NoOperatorPort(),
        OperatorConfig(),
        ui,
        state=StateDb.in_memory(),
    )
    times: dict[str, float] = {}

    def block(_dt: float) -> None:
        times["blocked_from"] = time.monotonic()
        time.sleep(block_s)
        times["blocked_to"] = time.monotonic()
        # From now (Kivy's clock still reads the time of the frame before the block).
        asyncio.get_running_loop().call_later(run_s, app.stop)

    def first_draw(*_: Any) -> None:
        if "first_draw" not in times:
            times["first_draw"] = time.monotonic()
            Clock.schedule_once(block, run_s)

    Window.bind(on_draw=first_draw)  # the window draws a frame, then flips it
    asyncio.run(run_app(app))
    print(json.dumps(times), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), float(sys.argv[2]))
