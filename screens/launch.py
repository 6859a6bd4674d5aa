"""Starting the Kivy UI over the kiosk core: ``kiosk run`` and ``kiosk demo``.

Kivy reads its environment when first imported, so :func:`prepare_kivy` runs before
anything imports it; everything Kivy is imported inside the functions below.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from kiosk.config import OperatorConfig, UiConfig
from kiosk.i18n import Catalogue
from kiosk.journeys.messages import Channel, View
from kiosk.operator_access import OperatorAccess, OperatorPort, hash_pin
from kiosk.sound.switch import SpeechSwitch
from kiosk.state import StateDb

PreviewSource = Callable[[], Any]


def prepare_kivy(ui: UiConfig, *, touch_devices: bool = True) -> None:
    """Kivy's environment and window settings; call before the first Kivy import."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    from kivy.config import Config

    Config.set("graphics", "width", str(ui.width))
    Config.set("graphics", "height", str(ui.height))
    Config.set("graphics", "fullscreen", "auto" if ui.fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    if not touch_devices:  # a virtual display has none; every touch is synthetic
        for name, _value in Config.items("input"):
            Config.remove_option("input", name)


def operator_access(config: OperatorConfig, state: StateDb) -> OperatorAccess:
    """The PIN check, its lockout kept in ``state``; without a configured hash the menu
    cannot be opened by anyone."""
    pin_hash = (
        config.pin_hash.get_secret_value()
        if config.pin_hash is not None
        else hash_pin(secrets.token_hex(16), iterations=1_000)
    )
    return OperatorAccess(
        pin_hash,
        state,
        max_failures=config.max_failures,
        lockout=timedelta(seconds=config.lockout_s),
    )


def build_app(
    channel: Channel,
    catalogue: Catalogue,
    operator: OperatorPort,
    operator_config: OperatorConfig,
    ui: UiConfig,
    preview: PreviewSource | None = None,
    *,
    state: StateDb,
    speech: SpeechSwitch | None = None,
) -> Any:
    from screens.app import KioskApp, UiTiming

    return KioskApp(
        channel,
        catalogue=catalogue,
        operator=operator,
        operator_access=operator_access(operator_config, state),
        preview=preview,
        timing=UiTiming(warning_s=ui.warning_s),
        brand=ui.theme,
        low_reach=ui.low_reach,
        card_slot=ui.card_slot,
        speech=speech,
    )


async def run_app(app: Any, *, until: Awaitable[Any] | None = None) -> None:
    """Run ``app`` on the running loop; with ``until``, stop it when that finishes."""
    from kivy.base import stopTouchApp

    running = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    if until is None:
        await running
        return
    done, _ = await asyncio.wait({running, asyncio.ensure_future(until)},
                                 return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
    if running not in done:
        stopTouchApp()
        await asyncio.wait_for(running, 10)


def on_digit_key(handler: Callable[[int], bool]) -> None:
    """Call ``handler(digit)`` for each digit typed on a keyboard (the demo's QR keys);
    it returns whether it used the key."""
    from kivy.core.window import Window

    def on_key(_window: object, _key: int, _scancode: int, text: str | None, *_: object) -> bool:
        return bool(text and text.isascii() and text.isdigit() and handler(int(text)))

    Window.bind(on_key_down=on_key)


async def app_ready(app: Any, timeout: float = 30.0) -> None:
    """Wait until ``app`` has built its screens and shows its window."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while app.root is None or getattr(app, "_consumer", None) is None:
        if loop.time() > deadline:
            raise TimeoutError("the UI did not start")
        await asyncio.sleep(0.02)


async def show_and_capture(app: Any, view: View, path: Path, frames: int = 3) -> None:
    """Show ``view`` as the journey would and save the window as a PNG at ``path``."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    app.show(view)
    target = Clock.frames + frames
    while Clock.frames < target:
        await asyncio.sleep(0.01)
    saved = Window.screenshot(name=str(path))  # Kivy adds a counter to the name
    if saved:
        Path(saved).replace(path)


class KivyDemoScreen:
    """The kiosk's real screens showing the demo's scripted journeys, one screenshot each."""

    def __init__(self, ui: UiConfig) -> None:
        self._ui = ui
        from hardware.camera.sim import SimCamera  # the demo only: its guests hold codes up

        self._app: Any = None
        self._camera = SimCamera()
        self._running: asyncio.Future[Any] | None = None

    async def start(self, runtime: Any) -> None:
        from kiosk.service import GuestService

        # The scripted guest answers the journey; the app only shows what it is given.
        operator = GuestService(runtime.journey, Channel(), runtime.health_sources())
        self._app = build_app(
            Channel(),
            runtime.journey.catalogue,
            operator,
            OperatorConfig(),
            self._ui,
            state=runtime.payment_log.db,
            preview=self._camera.frame,
            speech=runtime.sound,
        )
        # One screenshot a few frames after each view: the done screen as it ends, not the
        # first frames of its entrance (the looping cues are fine at any frame).
        self._app.timing = dataclasses.replace(self._app.timing, success_s=0.0)
        self._running = asyncio.ensure_future(self._app.async_run(async_lib="asyncio"))
        await app_ready(self._app)

    async def show(self, view: View, name: str, holding: str | None = None) -> Path | None:
        path = Path(name)
        self._camera.show(holding)
        # No guest touches this app: its language is the one the scripted guest chose.
        if view.language:
            self._app.lang = view.language
        await show_and_capture(self._app, view, path)
        return path if path.exists() else None

    async def stop(self) -> None:
        from kivy.base import stopTouchApp

        if self._running is not None:
            stopTouchApp()
            await asyncio.wait_for(self._running, 10)
