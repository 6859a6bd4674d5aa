"""What the kiosk needs from a card dispenser: move one card through RF position, exit, reject bin.

The journey's card step is: ``move_to_rf`` (a card leaves the stacker and stops on the
antenna) -> the encoder writes and verifies it -> ``present`` (to the exit slot) ->
``wait_taken``; on any failure, or when the guest walks away, ``capture`` to the reject bin.
A card the guest hands back (check-out) comes in through the exit slot: ``take_in`` brings
it to the RF position, where the encoder reads and erases it, and ``capture`` keeps it.
All calls block (run them with ``asyncio.to_thread``) and end within bounded time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from hardware.health import DeviceHealth, HealthLevel


class StockLevel(StrEnum):
    OK = "ok"
    LOW = "low"
    EMPTY = "empty"


@dataclass(frozen=True)
class DispenserStatus:
    """One reading of the dispenser's sensors."""

    stock: StockLevel
    reject_bin_full: bool
    card_at_rf: bool
    card_at_exit: bool
    jammed: bool

    @property
    def card_in_channel(self) -> bool:
        return self.card_at_rf or self.card_at_exit


class DispenserError(RuntimeError):
    """The dispenser could not do what was asked."""


class DispenserTimeout(DispenserError):
    """The dispenser did not answer within the bounded time (unplugged, powered off, hung)."""


class DispenserCommError(DispenserError):
    """The link is up but the exchange failed: NAK after every retry, bad checksum, bad frame."""


class DispenserNAK(DispenserCommError):
    """The dispenser refused every retransmission of a command with NAK."""


class DispenserRejected(DispenserError):
    """The dispenser answered with a negative reply; ``code`` is its two-character error code."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class DispenserJam(DispenserRejected):
    """A card is stuck in the channel; ``reset`` clears it (to the reject bin) if it can."""


class DispenserEmpty(DispenserRejected):
    """The stacker has no card left."""


class RejectBinFull(DispenserRejected):
    """The reject bin cannot take another card."""


class CardDispenser(Protocol):
    """A card dispenser with an RF position for the encoder, an exit slot and a reject bin."""

    name: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def reset(self) -> None:
        """Initialise the mechanism; a card left in the channel goes to the reject bin."""

    def status(self) -> DispenserStatus: ...

    def move_to_rf(self) -> None:
        """Take a card from the stacker (or the one at the exit) to the RF position."""

    def present(self) -> None:
        """Move the card to the exit slot, held so that the guest can take it."""

    def capture(self) -> None:
        """Move the card in the channel to the reject bin."""

    def wait_taken(self, timeout: float) -> bool:
        """True when the guest took the presented card within ``timeout`` s, False if not."""

    def take_in(self, timeout: float) -> bool:
        """Open the exit slot for a card the guest inserts and bring it to the RF position;
        False when none came within ``timeout`` s. The slot is closed again either way."""

    def health(self) -> DeviceHealth: ...


def poll_until_taken(
    read_status: Callable[[], DispenserStatus], timeout: float, interval: float
) -> bool:
    """Poll ``read_status`` until no card is left in the channel, for at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        if not read_status().card_in_channel:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(interval, remaining))


def dispenser_health(name: str, status: DispenserStatus) -> DeviceHealth:
    """Stock low -> WARNING; stock empty, reject bin full or a jam -> FAULT."""
    metrics = {
        "stock": status.stock.value,
        "reject_bin_full": status.reject_bin_full,
        "jammed": status.jammed,
    }
    faults = [
        text
        for present, text in (
            (status.stock is StockLevel.EMPTY, "card stock empty"),
            (status.reject_bin_full, "reject bin full"),
            (status.jammed, "card jam"),
        )
        if present
    ]
    if faults:
        return DeviceHealth(name, HealthLevel.FAULT, ", ".join(faults), metrics)
    if status.stock is StockLevel.LOW:
        return DeviceHealth(name, HealthLevel.WARNING, "card stock low", metrics)
    return DeviceHealth(name, HealthLevel.OK, "", metrics)


def health_of_error(name: str, error: DispenserError) -> DeviceHealth:
    """The health of a dispenser whose status could not be read."""
    return DeviceHealth(name, HealthLevel.FAULT, f"{type(error).__name__}: {error}")
