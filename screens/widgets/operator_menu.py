"""The hidden operator menu: a long press in the top-left corner, a PIN, then device health
and the out-of-service switch."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.widget import Widget

from hardware.health import DeviceHealth, HealthLevel
from kiosk.operator_access import AccessResult, OperatorAccess, OperatorPort
from screens.widgets.big_button import BigButton
from screens.widgets.pin_pad import PinPad
from screens.widgets.text import KioskLabel, TitleLabel

log = logging.getLogger(__name__)


class OperatorCorner(Widget):
    """An invisible square at the top-left: held for ``hold_s`` it dispatches ``on_hold``.
    It never consumes the touch, so guests touching there notice nothing."""

    hold_s = NumericProperty(3.0)
    __events__ = ("on_hold",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending: dict[int, Any] = {}

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos):
            self._pending[touch.uid] = Clock.schedule_once(
                lambda _dt: self._held(touch), self.hold_s
            )
        return False

    def on_touch_move(self, touch: Any) -> bool:
        if touch.uid in self._pending and not self.collide_point(*touch.pos):
            self._pending.pop(touch.uid).cancel()
        return False

    def on_touch_up(self, touch: Any) -> bool:
        event = self._pending.pop(touch.uid, None)
        if event is not None:
            event.cancel()
        return False

    def _held(self, touch: Any) -> None:
        self._pending.pop(touch.uid, None)
        self.dispatch("on_hold")

    def on_hold(self) -> None:
        """Default handler of the event."""


class OperatorMenu(FloatLayout):
    """PIN stage, then health stage; while open it takes every touch."""

    out_of_service = BooleanProperty(False)

    def __init__(self, access: OperatorAccess, port: OperatorPort, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.access = access
        self.port = port
        self.status = KioskLabel(tone="inverse")
        self.pad = PinPad()
        self.pad.bind(on_submit=lambda _pad, pin: self._check(pin))
        self._check_task: asyncio.Future[AccessResult] | None = None

    def on_touch_down(self, touch: Any) -> bool:
        super().on_touch_down(touch)
        return True

    def on_touch_up(self, touch: Any) -> bool:
        super().on_touch_up(touch)
        return True

    def show_pin_stage(self) -> None:
        self.pad.clear()
        self._set_status()
        self._fill(self.status, self.pad)

    def _check(self, pin: str) -> None:
        self.pad.clear()
        if self._check_task is not None:
            return  # one check at a time
        self.status.text = _tr("operator.checking")
        # The hash costs a noticeable fraction of a second: keep it off the UI loop.
        self._check_task = asyncio.ensure_future(asyncio.to_thread(self.access.attempt, pin))
        self._check_task.add_done_callback(self._checked)

    def _checked(self, task: asyncio.Future[AccessResult]) -> None:
        self._check_task = None
        if task.cancelled():
            return
        result = task.result()
        if result is AccessResult.GRANTED:
            self.show_health_stage()
        else:
            self._set_status(wrong=result is AccessResult.DENIED)

    def _set_status(self, wrong: bool = False) -> None:
        until = self.access.locked_until
        if until is not None:
            self.status.text = _tr("operator.locked", until=until)
        else:
            self.status.text = _tr("operator.wrong_pin") if wrong else _tr("operator.pin")

    def show_health_stage(self) -> None:
        health = _health(self.port)
        lines: list[Widget] = [KioskLabel(tone="inverse", text=_tr("operator.health"))]
        lines += [_health_line(device) for device in health]
        if any(device.device == "staff" for device in health):  # a guest's "Call staff"
            acknowledge = BigButton(text=_tr("operator.acknowledge_staff"))
            acknowledge.bind(on_release=lambda _b: self.acknowledge_staff())
            lines.append(acknowledge)
        service = BigButton(primary=True)
        service.text = _tr("operator.put_back" if self.out_of_service else "operator.take_out")
        service.bind(on_release=lambda _b: self.toggle_service())
        self._fill(*lines, service)

    def acknowledge_staff(self) -> None:
        self.port.acknowledge_staff()
        self.show_health_stage()

    def toggle_service(self) -> None:
        self.out_of_service = not self.out_of_service
        self.port.set_out_of_service(self.out_of_service)
        self.show_health_stage()

    def cancel(self) -> None:
        """Closing: forget the entry and any check still running."""
        self.pad.clear()
        if self._check_task is not None:
            self._check_task.cancel()
            self._check_task = None

    def _fill(self, *widgets: Widget) -> None:
        content = self.ids.content
        content.clear_widgets()
        content.add_widget(TitleLabel(tone="inverse", text=_tr("operator.title")))
        for widget in widgets:
            content.add_widget(widget)
        close = BigButton(text=_tr("operator.close"))
        close.bind(on_release=lambda _b: App.get_running_app().close_operator_menu())
        content.add_widget(close)


def _tr(key: str, **params: Any) -> str:
    app = App.get_running_app()
    return app.tr(key, app.lang, **params)


def _health(port: OperatorPort) -> list[DeviceHealth]:
    try:
        return port.health()
    except Exception as exc:  # the menu is how staff find faults: it must still open
        log.warning("device health unavailable: %s: %s", type(exc).__name__, exc)
        return [DeviceHealth("health", HealthLevel.FAULT, f"unavailable: {type(exc).__name__}")]


def _health_line(device: DeviceHealth) -> KioskLabel:
    level = _tr(f"operator.level.{device.level.value}")
    detail = f" — {device.detail}" if device.detail else ""
    return KioskLabel(
        tone=device.level.value, role="small", text=f"{device.device}: {level}{detail}"
    )
