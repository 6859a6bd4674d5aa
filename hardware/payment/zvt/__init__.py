"""A real payment-terminal driver: ZVT over TCP/IP (``ZvtTerminal``)."""

from __future__ import annotations

from hardware.payment.zvt.terminal import ZvtTerminal

__all__ = ["ZvtTerminal"]
