"""The test driver: a stand-in for the check-in journey (test_checkin_ui.py runs the real one).

It puts Views on the app's Channel and reads the Actions back, exactly as the journey
does, and it touches the screen like a guest: synthetic MotionEvents (Kivy's
``UnitTestTouch``) at a widget's window coordinates, dispatched through Kivy's event loop
— never by calling handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hardware.health import DeviceHealth
from kiosk.i18n import Catalogue
from kiosk.journeys.messages import Action, Channel, View, watched_channel
from kiosk.operator_access import OperatorAccess, OperatorPort, hash_pin
from kiosk.state import StateDb

OPERATOR_PIN = "246810"
WIDTH, HEIGHT = 1080, 1920  # the kiosk's portrait panel
# attract_pulse_s 0: an animation redraws the whole panel each frame, a quarter of a second
# with software GL on a loaded machine, and the timing of every test would follow
TIMING = {
    "warning_s": 0.6,
    "tick_s": 0.05,
    "operator_hold_s": 0.4,
    "preview_fps": 30.0,
    "attract_pulse_s": 0.0,
    "scan_guide_s": 0.0,
    "card_cue_s": 0.0,
    "success_s": 0.0,
}


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class NoOperatorPort:
    """The port of the UI tests that never open the operator menu; test_operator.py drives
    the kiosk's real one (``GuestService``)."""

    def health(self) -> list[DeviceHealth]:
        raise AssertionError("the operator menu is tested with the real service (ui_kiosk)")

    def set_out_of_service(self, on: bool) -> None:
        raise AssertionError("the operator menu is tested with the real service (ui_kiosk)")

    def request_staff(self) -> None:
        raise AssertionError("Call staff is tested with the real service (test_call_staff)")

    def acknowledge_staff(self) -> None:
        raise AssertionError("the operator menu is tested with the real service (ui_kiosk)")


class PreviewFeed:
    """The camera's newest-frame callable; a test sets ``frame`` or ``error``."""

    def __init__(self) -> None:
        self.frame: np.ndarray | None = None
        self.error: Exception | None = None
        self.calls = 0

    def __call__(self) -> np.ndarray | None:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.frame


class UiDriver:
    def __init__(
        self,
        app: Any,
        channel: Channel,
        port: OperatorPort,
        feed: PreviewFeed,
        access: OperatorAccess,
        tmp_path: Path,
    ) -> None:
        self.app = app
        self.channel = channel
        self.port = port
        self.feed = feed
        self.access = access
        self.tmp_path = tmp_path

    # --- the journey's side ----------------------------------------------------------

    async def show(self, view: View) -> Any:
        """Send ``view`` and wait until it is on screen; returns its screen."""
        await self.channel.views.put(view)
        await self.until(lambda: self.app.manager.current_screen.view is view)
        await self.frames(1)
        return self.app.manager.current_screen

    async def action(self, timeout: float = 3.0) -> Action:
        return await asyncio.wait_for(self.channel.actions.get(), timeout)

    def no_action(self) -> bool:
        return self.channel.actions.empty()

    # --- the guest's side ------------------------------------------------------------

    async def tap(self, widget: Any) -> None:
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(*self._center(widget))
        # Both are queued and dispatched in order at the start of Kivy's next frame.
        touch.touch_down()
        touch.touch_up()
        await self.frames(1)

    async def press(
        self, widget: Any, seconds: float, at: tuple[float, float] | None = None
    ) -> None:
        from kivy.tests.common import UnitTestTouch

        x, y = at if at is not None else self._center(widget)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        await self.frames(1)
        await asyncio.sleep(seconds)
        touch.touch_up()
        await self.frames(1)

    async def type_text(self, keyboard: Any, text: str) -> None:
        """Tap the keys of ``text`` in order ("\\b" Delete, "\\n" OK), in one frame: software
        GL makes every redraw of the panel cost a noticeable fraction of a second."""
        from kivy.tests.common import UnitTestTouch

        for char in text:
            touch = UnitTestTouch(*self._center(self.key(keyboard, char)))
            touch.touch_down()
            touch.touch_up()
        await self.frames(1)

    @staticmethod
    def _center(widget: Any) -> tuple[float, float]:
        return widget.to_window(*widget.center)

    def key(self, keyboard: Any, char: str) -> Any:
        keys = [*keyboard.ids.key_grid.children, *keyboard.ids.bottom_row.children]
        return next(k for k in keys if getattr(k, "choice_id", None) == char)

    def button(self, text: str, root: Any = None) -> Any:
        """The one button on screen showing ``text``."""
        from kivy.uix.behaviors import ButtonBehavior

        found = [w for w in self.walk(root) if isinstance(w, ButtonBehavior) and w.text == text]
        assert len(found) == 1, f"{len(found)} buttons show {text!r}"
        return found[0]

    def walk(self, root: Any = None) -> Iterator[Any]:
        from kivy.core.window import Window

        for top in [root] if root is not None else Window.children:
            yield from top.walk(restrict=True)

    @contextlib.asynccontextmanager
    async def window(self, width: int, height: int) -> AsyncIterator[None]:
        """The window at ``width`` x ``height`` (another panel, a desktop's window), then back."""
        from kivy.core.window import Window

        Window.size = (width, height)
        try:
            await self.until(lambda: tuple(self.app.root.size) == (width, height), 10)
            await self.frames(2)
            yield
        finally:
            Window.size = (WIDTH, HEIGHT)
            await self.until(lambda: tuple(self.app.root.size) == (WIDTH, HEIGHT), 10)

    # --- waiting and looking ---------------------------------------------------------

    async def frames(self, count: int) -> None:
        from kivy.clock import Clock

        target = Clock.frames + count
        # Generous: one frame that draws a new screen in software GL can take seconds on a
        # loaded 2-core machine; a UI that hangs still fails here.
        await self.until(lambda: Clock.frames >= target, timeout=10.0 + count)

    async def until(self, condition: Callable[[], bool], timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the UI did not get there in time")
            await asyncio.sleep(0.01)

    async def screenshot(self, name: str) -> Image.Image:
        """The window as an image, saved in tmp_path (look at it when a test fails)."""
        from kivy.core.window import Window

        await self.frames(3)
        saved = Window.screenshot(name=str(self.tmp_path / f"{name}.png"))
        return Image.open(saved).convert("RGB")

    async def grab(self, path: Path, frames: int = 2) -> Image.Image:
        """The window as an image once ``frames`` more are drawn, kept as a PNG at ``path``
        (fast compression: a test may take a hundred)."""
        from kivy.core.window import Window
        from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels

        await self.frames(frames)
        width, height = Window.size
        pixels = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
        image = Image.frombytes("RGB", (width, height), pixels).transpose(
            Image.Transpose.FLIP_TOP_BOTTOM  # GL's rows start at the bottom
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, compress_level=1)
        return image

    @staticmethod
    def crop(image: Image.Image, widget: Any) -> Image.Image:
        """The part of a screenshot covered by ``widget`` (window y grows upwards)."""
        x, y = widget.to_window(widget.x, widget.y)
        top = image.height - (y + widget.height)
        return image.crop((int(x), int(top), int(x + widget.width), int(top + widget.height)))


@contextlib.asynccontextmanager
async def start_app(
    clock: FixedClock,
    tmp_path: Path,
    operator: Callable[[Channel], OperatorPort] | None = None,
    state: StateDb | None = None,
    brand: Any = None,
    speech: Any = None,
) -> AsyncIterator[UiDriver]:
    """Run a fresh KioskApp on the running loop with its own Kivy Clock, Factory and Builder
    (as Kivy's own test fixture does), and stop it afterwards. ``operator`` makes the
    operator port on the app's channel; ``state`` keeps the PIN lockout (else tmp_path's);
    ``brand`` is the ``[ui.theme]`` (else the default); ``speech`` the sound's speech switch
    (else none: no "Read aloud")."""
    from kivy.base import stopTouchApp
    from kivy.clock import ClockBase
    from kivy.context import Context
    from kivy.core.window import Window
    from kivy.factory import Factory, FactoryBase
    from kivy.lang.builder import Builder, BuilderBase

    from screens.app import KioskApp, UiTiming

    context = Context(init=False)
    context["Clock"] = ClockBase(async_lib="asyncio")
    context["Factory"] = FactoryBase.create_from(Factory)
    context["Builder"] = BuilderBase.create_from(Builder)
    context.push()
    Window.create_window()
    Window.register()
    Window.initialized = True
    Window.canvas.clear()

    channel = watched_channel()  # the sound, where a test gives one, follows it
    port = operator(channel) if operator is not None else NoOperatorPort()
    feed = PreviewFeed()
    own_state = None
    if state is None:
        state = own_state = StateDb.in_dir(tmp_path / "ui-state")
    access = OperatorAccess(hash_pin(OPERATOR_PIN, iterations=1_000), state, clock=clock)
    app = KioskApp(
        channel,
        catalogue=Catalogue.load(tz="Asia/Shanghai"),
        operator=port,
        operator_access=access,
        preview=feed,
        timing=UiTiming(**TIMING),
        brand=brand,
        speech=speech,
    )
    # kv's ``app`` is a proxy that keeps the first app it saw until that app dispatches
    # on_stop, which stopTouchApp() does not: point it at this test's app.
    from kivy.lang.parser import global_idmap

    object.__setattr__(global_idmap["app"], "_obj", None)
    task = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    driver = UiDriver(app, channel, port, feed, access, tmp_path)
    try:
        await driver.until(lambda: app.root is not None and app._consumer is not None, 20)
        # SDL may show the window at a default size first: wait for the panel's size.
        await driver.until(lambda: tuple(app.root.size) == tuple(Window.size) == (WIDTH, HEIGHT))
        await driver.frames(1)
        yield driver
    finally:
        stopTouchApp()
        await asyncio.wait_for(task, 10)
        for child in Window.children[:]:
            Window.remove_widget(child)
        context.pop()
        if own_state is not None:
            own_state.close()
