"""Opening the kiosk's devices at start-up, and again while one is missing.

A kiosk powered on before its dispenser, or with a reader unplugged, must not crash into
a restart loop: the guest service shows the out-of-order screen with what is missing and
tries again every few seconds, so the kiosk recovers by itself when the device is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

log = logging.getLogger("kiosk.devices")


class DeviceOpener:
    """Each device's ``open``, called until it succeeds; what failed and why."""

    def __init__(self, opens: Mapping[str, Callable[[], None]]) -> None:
        self._pending = dict(opens)  # in order: a later device may need an earlier one open
        self.missing: dict[str, str] = {}

    def open_missing(self) -> dict[str, str]:
        """Open every device not open yet; the missing ones, name -> "name: reason"."""
        for name, open_ in list(self._pending.items()):
            try:
                open_()
            except Exception as exc:  # any driver's failure to open: the device is missing
                self.missing[name] = f"{name}: {exc or type(exc).__name__}"
                continue
            del self._pending[name]
            if self.missing.pop(name, None) is not None:
                log.warning("%s is back", name)
        return dict(self.missing)
