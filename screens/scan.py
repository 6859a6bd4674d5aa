"""Scanning the booking's QR code: the live camera preview with a guide frame.

Decoding is not done here: the kiosk's QR pipeline reads the same camera and the
application that wires it posts ``Action(QR, payload)``. This screen only shows the
newest frame, and forgets it when the guest leaves.
"""

from __future__ import annotations

from kivy.app import App

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class ScanScreen(StepScreen):
    step = Step.SCAN
    stage = 0

    def on_enter(self) -> None:
        self.ids.preview.start(App.get_running_app().preview)

    def on_leave(self) -> None:
        self.ids.preview.clear()

    def wipe(self) -> None:
        self.ids.preview.clear()


load_kv(__file__)
