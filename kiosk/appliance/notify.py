"""systemd's notification protocol (sd_notify) without a dependency.

A service of ``Type=notify`` finds ``$NOTIFY_SOCKET`` in its environment: a unix datagram
socket, a path or, with a leading ``@``, a name in the abstract namespace. It sends
``READY=1`` once it serves and, when ``WatchdogSec=`` is set (``$WATCHDOG_USEC``),
``WATCHDOG=1`` more often than that or systemd kills and restarts it. Outside systemd
there is no socket and every call does nothing, so the same code runs in a terminal.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends state lines to systemd's notification socket, if there is one."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        if address and address.startswith("@"):
            address = "\0" + address[1:]  # the abstract namespace
        self._address = address or None
        self._watchdog_usec = watchdog_usec

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Notifier:
        """The notifier systemd set up for this process; ``WATCHDOG_PID``, when set, must be
        ours (a child would otherwise feed its parent's watchdog)."""
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
            return cls(env.get("NOTIFY_SOCKET"))
        return cls(env.get("NOTIFY_SOCKET"), int(usec))

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often to send ``WATCHDOG=1``: half the watchdog's timeout, as systemd advises."""
        if self._address is None or self._watchdog_usec is None:
            return None
        return self._watchdog_usec / 2_000_000

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def send(self, state: str) -> bool:
        """Send ``state`` (newline-separated ``KEY=value`` lines); False if it did not go."""
        if self._address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(state.encode(), self._address)
        except OSError as exc:
            # The kiosk keeps serving guests; systemd will notice what did not arrive.
            log.warning("sd_notify %s failed: %s", state.split("=", 1)[0], exc)
            return False
        return True
