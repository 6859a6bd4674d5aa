"""The guest inactivity timer of a view: a warning for the last seconds, then a timeout."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from kivy.clock import Clock

from screens.widgets.timeout_overlay import TimeoutOverlay


class InactivityTimer:
    """Counts a view's ``timeout_s`` down from the last touch. For the last ``warning_s`` (at
    most a third of the view's time) the overlay shows a countdown; a touch then only
    dismisses it and starts the count again."""

    def __init__(
        self,
        overlay: TimeoutOverlay,
        on_timeout: Callable[[], None],
        *,
        warning_s: float,
        tick_s: float,
    ) -> None:
        self._overlay = overlay
        self._on_timeout = on_timeout
        self._warning_s = warning_s
        self._tick_s = tick_s
        self._timeout_s: float | None = None
        self._warn_for = warning_s
        self._deadline = 0.0
        self._event = None

    def start(self, timeout_s: float | None) -> None:
        """Count ``timeout_s`` from now; None stops the timer (no guest timer on this view)."""
        self.stop()
        self._timeout_s = timeout_s
        # A short view (done, refusal) ends by itself: warn for at most its last third,
        # not from the moment it appears.
        self._warn_for = min(self._warning_s, (timeout_s or 0) / 3)
        if timeout_s is not None:
            self._deadline = time.monotonic() + timeout_s
            self._event = Clock.schedule_interval(self._tick, self._tick_s)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._overlay.shown = False

    def activity(self) -> bool:
        """The guest touched the screen. True if that dismissed the warning."""
        warned = self._overlay.shown
        if self._event is not None:
            self.start(self._timeout_s)
        return warned

    def _tick(self, _dt: float) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            self.stop()
            self._on_timeout()
        elif left <= self._warn_for:
            self._overlay.seconds = math.ceil(left)
            self._overlay.shown = True
