"""The animations a screen runs while it is shown, and stops when the guest leaves it."""

from __future__ import annotations

from collections.abc import Callable

from kivy.animation import Animation
from kivy.uix.widget import Widget


class Motion:
    """Animations of a screen's widgets: ``play`` starts one, ``stop`` cancels them all and
    calls ``rest``, which puts every widget where it is drawn without animations."""

    def __init__(self, rest: Callable[[], None]) -> None:
        self._rest = rest
        self._playing: list[tuple[Animation, Widget]] = []

    def play(self, animation: Animation, widget: Widget) -> None:
        self._playing.append((animation, widget))
        animation.start(widget)

    def stop(self) -> None:
        for animation, widget in self._playing:
            animation.cancel(widget)
        self._playing = []
        self._rest()

    @property
    def running(self) -> bool:
        return any(anim.have_properties_to_animate(widget) for anim, widget in self._playing)
