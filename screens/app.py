"""The kiosk's Kivy app: a thin layer that shows the journey's views and posts the guest's
actions, on the one asyncio loop (``await app.async_run(async_lib="asyncio")``).

It owns what no single screen does: the language, the large-text / high-contrast mode,
the inactivity warning and timeout, wiping guest data, and the hidden operator menu.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.scatterlayout import ScatterLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.appliance.notify import Notifier
from kiosk.config import ThemeConfig
from kiosk.i18n import DEFAULT_LANG, Catalogue
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View
from kiosk.operator_access import OperatorAccess, OperatorPort
from kiosk.sound.switch import SpeechSwitch
from screens import theme
from screens import widgets as _widgets  # noqa: F401  (registers widgets, loads their kv)
from screens.amenity_booked import AmenityBookedScreen
from screens.amenity_menu import AmenityMenuScreen
from screens.amenity_pick import AmenityPickScreen
from screens.amenity_slot import AmenitySlotScreen
from screens.attract import AttractScreen
from screens.base import StepScreen
from screens.busy import BusyScreen
from screens.checkout_cards import CheckoutCardsScreen
from screens.checkout_done import CheckoutDoneScreen
from screens.checkout_folio import CheckoutFolioScreen
from screens.checkout_rooms import CheckoutRoomsScreen
from screens.checkout_start import CheckoutStartScreen
from screens.done import DoneScreen
from screens.ekey import EkeyScreen
from screens.extend_card import ExtendCardScreen
from screens.extend_done import ExtendDoneScreen
from screens.extend_nights import ExtendNightsScreen
from screens.extend_start import ExtendStartScreen
from screens.identity import IdentityScreen
from screens.inactivity import InactivityTimer
from screens.key_done import KeyDoneScreen
from screens.key_lost import KeyLostScreen
from screens.key_menu import KeyMenuScreen
from screens.key_progress import KeyProgressScreen
from screens.keys import KeysScreen
from screens.language import LanguageScreen
from screens.out_of_service import OutOfServiceScreen
from screens.payment import PaymentScreen
from screens.receipt import ReceiptScreen
from screens.refusal import RefusalScreen
from screens.register import RegisterScreen
from screens.room import RoomScreen
from screens.scan import ScanScreen
from screens.summary import SummaryScreen
from screens.type_reference import TypeReferenceScreen
from screens.walk_in_nights import WalkInNightsScreen
from screens.walk_in_room import WalkInRoomScreen
from screens.widgets.camera_preview import PreviewSource
from screens.widgets.operator_menu import OperatorCorner, OperatorMenu
from screens.widgets.staff_button import StaffNotice
from screens.widgets.timeout_overlay import TimeoutOverlay

log = logging.getLogger(__name__)

SCREENS: tuple[type[StepScreen], ...] = (
    AttractScreen,
    LanguageScreen,
    ScanScreen,
    TypeReferenceScreen,
    IdentityScreen,
    SummaryScreen,
    RegisterScreen,
    RoomScreen,
    PaymentScreen,
    BusyScreen,
    KeysScreen,
    KeyProgressScreen,
    ReceiptScreen,
    DoneScreen,
    RefusalScreen,
    OutOfServiceScreen,
    # amenity booking
    AmenityMenuScreen,
    AmenityPickScreen,
    AmenitySlotScreen,
    AmenityBookedScreen,
    # walk-in
    WalkInNightsScreen,
    WalkInRoomScreen,
    # extend stay
    ExtendStartScreen,
    ExtendCardScreen,
    ExtendNightsScreen,
    ExtendDoneScreen,
    # the key journey (extra or lost key) and e-keys
    KeyMenuScreen,
    KeyLostScreen,
    KeyDoneScreen,
    EkeyScreen,
    # the check-out journey
    CheckoutStartScreen,
    CheckoutRoomsScreen,
    CheckoutFolioScreen,
    CheckoutCardsScreen,
    CheckoutDoneScreen,
)
_SCREEN_OF_STEP = {screen_class.step: screen_class for screen_class in SCREENS}
# The layout sizes the screens are designed for; a smaller window shows them scaled down.
PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)
# Shown until the journey's first view, and at once after a timeout (data already gone).
IDLE_VIEW = View(Step.ATTRACT, "attract.title", "attract.message", timeout_s=None)


@dataclass(frozen=True)
class UiTiming:
    """Delays of the UI itself (tests shorten them)."""

    warning_s: float  # [ui] warning_s: the configuration holds its default
    tick_s: float = 0.25  # how often the inactivity timer looks at the clock
    operator_hold_s: float = 3.0  # press in the top-left corner that opens the operator menu
    preview_fps: float = 15.0
    # The attract screen's pulsing code, one half-period; 0 keeps it still (every animated
    # frame redraws the whole panel, which software GL in the tests cannot afford).
    attract_pulse_s: float = 1.2
    # The scan screen's "hold your code here" cue (the guide's pulse, the phone's approach),
    # one half-period; 0 keeps it still, for the same reason.
    scan_guide_s: float = 0.9
    # The card screen's cue (the current stage's spinner, the waves around the card being
    # written, the card gliding towards the slot), one loop; 0 keeps it still.
    card_cue_s: float = 1.4
    # The done screen's tick popping in; the room details follow one by one. 0: all at once.
    success_s: float = 0.5


class KioskRoot(FloatLayout):
    """Every touch is guest activity; a touch that dismisses the timeout warning does nothing
    else."""

    def on_touch_down(self, touch: Any) -> bool:
        if App.get_running_app().timer.activity():
            return True
        return super().on_touch_down(touch)


class KioskApp(App):
    lang = StringProperty(DEFAULT_LANG)
    high_contrast = BooleanProperty(False)
    # rebind: kv rules read app.palette.<colour>, so they must follow a new palette object
    palette = ObjectProperty(theme.NORMAL, rebind=True)
    brand = ObjectProperty(None, rebind=True)  # theme.Theme: hotel name, logo, photo
    font_scale = NumericProperty(1.0)
    stage = NumericProperty(-1)  # the step indicator's stage (header.STAGES); -1: none
    landscape = BooleanProperty(False)
    # [ui] low_reach: on a portrait panel the top third holds no control (wheelchair height)
    low_reach = BooleanProperty(False)
    staff_callable = BooleanProperty(True)  # the current screen offers "Call staff"
    # [ui] card_slot: where "take your card" points (the dispenser's slot, seen by the guest)
    card_slot = OptionProperty("below", options=("below", "left", "right"))
    speech_available = BooleanProperty(False)  # the kiosk can speak: "Read aloud" is shown
    speech = BooleanProperty(False)  # this guest hears the screens read aloud

    def __init__(
        self,
        channel: Channel,
        *,
        catalogue: Catalogue,
        operator: OperatorPort,
        operator_access: OperatorAccess,
        preview: PreviewSource | None = None,
        timing: UiTiming,
        font: Path | None = None,
        brand: ThemeConfig | None = None,
        low_reach: bool = False,
        card_slot: str = "below",
        speech: SpeechSwitch | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._speech = speech
        self.speech_available = speech is not None and speech.speech_available
        self.low_reach = low_reach
        self.card_slot = card_slot
        self.brand = theme.build_theme(brand)
        self.palette = self.brand.palette
        self.channel = channel
        self.catalogue = catalogue
        self.operator = operator
        self.preview = preview
        self.timing = timing
        self.title = "Lobby kiosk"
        self._font = font
        self._operator_access = operator_access
        self._consumer: asyncio.Task[None] | None = None
        self._watchdog: Any = None

    def build(self) -> KioskRoot:
        theme.register_fonts(self._font)
        self.manager = ScreenManager(transition=NoTransition())
        self.overlay = TimeoutOverlay()
        self.staff_notice = StaffNotice()
        self.timer = InactivityTimer(
            self.overlay,
            self._timed_out,
            warning_s=self.timing.warning_s,
            tick_s=self.timing.tick_s,
        )
        self.operator_menu = OperatorMenu(self._operator_access, self.operator)
        corner = OperatorCorner(
            hold_s=self.timing.operator_hold_s,
            size_hint=(None, None),
            size=(theme.TOUCH_TARGET * 1.5, theme.TOUCH_TARGET * 1.5),
            pos_hint={"x": 0, "top": 1},
        )
        corner.bind(on_hold=lambda _corner: self.open_operator_menu())
        # Everything is laid out at least at the panel's size and scaled down to fit a
        # smaller window (a desktop's 540x960 demo), so no bar ever collapses.
        self.surface = ScatterLayout(
            do_rotation=False,
            do_scale=False,
            do_translation=False,
            auto_bring_to_front=False,
            size_hint=(None, None),
        )
        for layer in (self.manager, self.staff_notice, self.overlay):
            self.surface.add_widget(layer)
        root = KioskRoot()
        # The corner is in window pixels: staff find it at the same place at any scale.
        for layer in (self.surface, corner):
            root.add_widget(layer)
        root.bind(size=self._fit)
        self.show(IDLE_VIEW)
        return root

    def _fit(self, _root: Any, size: tuple[float, float]) -> None:
        width, height = size
        self.landscape = width > height
        design_w, design_h = LANDSCAPE if self.landscape else PORTRAIT
        scale = min(1.0, width / design_w, height / design_h)
        self.surface.scale = scale
        self.surface.size = (width / scale, height / scale)
        self.surface.pos = (0, 0)

    def on_start(self) -> None:
        self._consumer = asyncio.ensure_future(self._consume_views())
        self.root_window.bind(on_flip=self._first_frame)

    def _first_frame(self, window: Any) -> None:
        """The first screen is on the panel: tell systemd (``Type=notify``), then feed its
        watchdog from the frame loop, so a UI that stops running is restarted."""
        window.unbind(on_flip=self._first_frame)
        systemd = Notifier.from_env()
        systemd.ready()
        if systemd.watchdog_interval_s:
            self._watchdog = Clock.schedule_interval(
                lambda _dt: systemd.watchdog(), systemd.watchdog_interval_s
            )

    def on_stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._consumer is not None:
            self._consumer.cancel()
        self.timer.stop()
        self.wipe()

    async def _consume_views(self) -> None:
        while True:
            view = await self.channel.views.get()
            try:
                self.show(view)
            except Exception as exc:  # one bad view must not leave the kiosk frozen on the last one
                # The type only: an exception's text may quote the view's guest data.
                log.error(
                    "cannot show the %s view (%s); showing the idle screen",
                    view.step,
                    type(exc).__name__,
                )
                self.wipe()
                self.show(IDLE_VIEW)

    # --- what the journey sees -------------------------------------------------------

    def show(self, view: View) -> None:
        """Make ``view`` the current screen; ATTRACT first wipes every guest's data."""
        if view.step is Step.ATTRACT:
            self.wipe()
        screen = self.screen(view.step)
        previous = self.manager.current_screen
        if previous is not None and previous is not screen:
            previous.clear()  # guest data lives on the current screen only
        screen.show(view)
        if screen.stage is not None:
            self.stage = screen.stage
        self.staff_callable = screen.call_staff
        if self._speech is not None:  # the attract screen puts it back to the setting
            self.speech = self._speech.speech_on
        self.manager.current = screen.name
        if self.operator_menu.parent is None:
            self.timer.start(view.timeout_s)

    def screen(self, step: Step) -> StepScreen:
        """The step's screen, built the first time it is needed (a quicker start)."""
        if not self.manager.has_screen(step.value):
            self.manager.add_widget(_SCREEN_OF_STEP[step](name=step.value))
        return self.manager.get_screen(step.value)

    def post(self, action: Action) -> None:
        self.channel.actions.put_nowait(action)

    def wipe(self) -> None:
        """Forget every guest's data on every screen."""
        for screen in self.manager.screens:
            screen.clear()
        self.staff_notice.dismiss()  # the next guest did not call anyone

    def call_staff(self) -> None:
        """The guest's "Call staff": the operator port raises it, the guest is told that
        someone is coming, and the journey on screen goes on."""
        self.operator.request_staff()
        self.staff_notice.show()

    def _timed_out(self) -> None:
        self.post(Action(ActionKind.TIMEOUT))
        # Do not wait for the journey's reply to hide the guest's data.
        self.show(IDLE_VIEW)

    # --- guest settings --------------------------------------------------------------

    def tr(self, key: str, lang: str, **params: Any) -> str:
        """A catalogue text; kv passes ``app.lang`` so that texts follow the language."""
        return self.catalogue.translate(key, lang, **params)

    def choose_language(self, code: str) -> None:
        if code not in {language.code for language in self.catalogue.languages}:
            return
        self.lang = code
        self.post(Action(ActionKind.LANGUAGE, code))

    def on_lang(self, _app: Any, _lang: str) -> None:
        self.manager.current_screen.refresh()

    def set_speech(self, on: bool) -> None:
        """The guest's "Read aloud": the current screen is said at once, in their language."""
        if self._speech is not None:
            self._speech.set_speech(on, self.lang)
            self.speech = self._speech.speech_on

    def on_high_contrast(self, _app: Any, on: bool) -> None:
        self.palette = theme.HIGH_CONTRAST if on else self.brand.palette
        self.font_scale = theme.LARGE_TEXT_SCALE if on else 1.0

    # --- operator --------------------------------------------------------------------

    def open_operator_menu(self) -> None:
        if self.operator_menu.parent is not None:
            return
        self.timer.stop()  # staff at the kiosk: no guest timeout behind the menu
        self.surface.add_widget(self.operator_menu)
        self.operator_menu.show_pin_stage()

    def close_operator_menu(self) -> None:
        self.operator_menu.cancel()
        self.surface.remove_widget(self.operator_menu)
        view = self.manager.current_screen.view
        self.timer.start(view.timeout_s if view is not None else None)
