"""Scanning the booking's QR code: the live camera preview with a guide frame.

Decoding is not done here: the kiosk's QR pipeline reads the same camera and the
application that wires it posts ``Action(QR, payload)``. This screen only shows the
newest frame, and forgets it when the guest leaves. Around the preview, a "hold your
code here" cue runs while the screen is shown: the guide's corner marks pulse and a
phone moves towards the frame.
"""

from __future__ import annotations

from kivy.animation import Animation
from kivy.app import App
from kivy.metrics import dp
from kivy.properties import ListProperty, NumericProperty
from kivy.uix.floatlayout import FloatLayout

from kiosk.journeys.messages import Step
from screens import theme
from screens.base import StepScreen
from screens.kv import load_kv


class ScanGuide(FloatLayout):
    """The guide's corner marks and the approaching phone (kv), driven by two numbers:
    ``pulse`` (0 rest .. 1 bright and enlarged) and ``approach`` (0 far .. 1 at the frame)."""

    pulse = NumericProperty(0.0)
    approach = NumericProperty(0.0)
    guide_fraction = NumericProperty(0.6)  # the preview's guide square (CameraPreview)
    marks = ListProperty([[], [], [], []])  # the four corner marks' polylines
    phone_size = NumericProperty(0.0)
    phone_center = ListProperty([0.0, 0.0])

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._cue: list[Animation] = []
        for name in ("pos", "size", "pulse", "approach", "guide_fraction"):
            self.bind(**{name: self._place})

    def _place(self, *_: object) -> None:
        # The marks sit just outside the guide square and swell outwards as they pulse.
        cx, cy = self.center
        d = min(self.size) * self.guide_fraction / 2 + dp(14) + dp(16) * self.pulse
        arm = d * 0.35
        self.marks = [
            [x, y + sy * arm, x, y, x + sx * arm, y]  # along the side, the corner, across
            for sx, sy in ((1, -1), (-1, -1), (-1, 1), (1, 1))
            for x, y in [(cx - sx * d, cy - sy * d)]
        ]
        # The phone glides from the lower right corner to the guide's, always inside the
        # preview (a guest reads nothing into a phone half off the screen).
        size = self.phone_size = min(theme.HERO_ICON_SIZE * 0.6, min(self.size) * 0.22)
        far = (self.right - size / 2, self.y + size / 2)
        near = (cx + d, cy - d)
        self.phone_center = [
            min(max(f + (n - f) * self.approach, low + size / 2), high - size / 2)
            for f, n, low, high in zip(
                far, near, (self.x, self.y), (self.right, self.top), strict=True
            )
        ]

    def start(self, half_period: float) -> None:
        """Loop the cue, ``half_period`` seconds each way; 0 leaves it still."""
        self.stop()
        if half_period <= 0:
            return
        pulse = Animation(pulse=1.0, duration=half_period, t="in_out_sine") + Animation(
            pulse=0.0, duration=half_period, t="in_out_sine"
        )
        # The phone glides in, rests at the frame, and starts again from afar.
        approach = (
            Animation(approach=1.0, duration=1.5 * half_period, t="out_cubic")
            + Animation(duration=half_period / 2)
            + Animation(approach=0.0, duration=0)
        )
        pulse.repeat = approach.repeat = True
        self._cue = [pulse, approach]
        for anim in self._cue:
            anim.start(self)

    def stop(self) -> None:
        for anim in self._cue:
            anim.cancel(self)
        self._cue = []
        self.pulse = self.approach = 0.0

    @property
    def animating(self) -> bool:
        return any(anim.have_properties_to_animate(self) for anim in self._cue)


class ScanScreen(StepScreen):
    step = Step.SCAN
    stage = 0

    def on_enter(self) -> None:
        app = App.get_running_app()
        self.ids.preview.start(app.preview)
        self.ids.guide.start(app.timing.scan_guide_s)

    def on_leave(self) -> None:
        self.ids.guide.stop()
        self.ids.preview.clear()

    def wipe(self) -> None:
        self.ids.preview.clear()


load_kv(__file__)
