"""How far the guest is through the journey: a bar and "Step n of N" from ``View.progress``."""

from __future__ import annotations

from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout


class StepProgress(BoxLayout):
    """Empty (and invisible) while ``total`` is 0."""

    step = NumericProperty(0)
    total = NumericProperty(0)
    label_key = StringProperty("common.progress")  # its text, with {step} and {total}

    def set_progress(self, progress: tuple[int, int] | None) -> None:
        self.step, self.total = progress if progress else (0, 0)
