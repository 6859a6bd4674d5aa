"""A simulated card dispenser: a stacker that runs down, misfeeds, a reject bin that fills,
and a guest who takes the card, or walks away. Delays are realistic times multiplied by
``delay_scale`` (0 in tests). Thread-safe."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Iterable

from hardware.dispenser.protocol import (
    DispenserEmpty,
    DispenserError,
    DispenserJam,
    DispenserStatus,
    RejectBinFull,
    StockLevel,
    dispenser_health,
    poll_until_taken,
)
from hardware.health import DeviceHealth

# Rough seconds a motorised dispenser takes for each move (order of magnitude, not measured).
FEED_S = 1.2
PRESENT_S = 0.6
CAPTURE_S = 0.8
RESET_S = 1.5
GUEST_TAKES_S = 2.0  # a guest who takes the card does so this long after it appears


class SimDispenser:
    """A dispenser in memory.

    ``misfeeds`` and ``guest_takes`` are scripts consumed one value per feed / per
    presented card; when a script runs out, ``misfeed_rate`` (random, seeded) and
    "the guest takes it" apply.
    """

    def __init__(
        self,
        *,
        stock: int = 100,
        low_threshold: int = 10,
        reject_capacity: int = 20,
        misfeed_rate: float = 0.0,
        misfeeds: Iterable[bool] = (),
        guest_takes: Iterable[bool] = (),
        delay_scale: float = 1.0,
        poll_interval: float = 0.05,
        seed: int | None = None,
        name: str = "dispenser",
    ) -> None:
        self.name = name
        self.stock = stock
        self.low_threshold = low_threshold
        self.reject_capacity = reject_capacity
        self.rejected = 0
        self.misfeed_rate = misfeed_rate
        self.delay_scale = delay_scale
        self._misfeeds = deque(misfeeds)
        self._guest_takes = deque(guest_takes)
        self._poll_interval = poll_interval
        self._random = random.Random(seed)
        self._lock = threading.RLock()
        self._card: str | None = None  # None, "rf" or "exit"
        self._jammed = False
        self._taken_at: float | None = None  # when the guest will take the presented card
        self._inserted = threading.Event()  # a guest holds a card to the exit slot
        self.issued = 0  # cards the guests took

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def script_misfeeds(self, *values: bool) -> None:
        with self._lock:
            self._misfeeds.extend(values)

    def script_guest(self, *takes: bool) -> None:
        with self._lock:
            self._guest_takes.extend(takes)

    def insert_from_front(self) -> None:
        """A guest pushes a card into the exit slot: the next ``take_in`` takes it."""
        self._inserted.set()

    def refill(self, stock: int) -> None:
        """The stacker holds ``stock`` cards from now on (an operator refilled or emptied it)."""
        if stock < 0:
            raise ValueError("stock cannot be negative")
        with self._lock:
            self.stock = stock

    def status(self) -> DispenserStatus:
        with self._lock:
            self._let_guest_take()
            return DispenserStatus(
                stock=self._stock_level(),
                reject_bin_full=self.rejected >= self.reject_capacity,
                card_at_rf=self._card == "rf" or self._jammed,
                card_at_exit=self._card == "exit",
                jammed=self._jammed,
            )

    def reset(self) -> None:
        """Clear a jam: whatever is in the channel goes to the reject bin."""
        self._delay(RESET_S)
        with self._lock:
            self._let_guest_take()
            if self._card is not None or self._jammed:
                self._to_reject_bin()
            self._jammed = False

    def move_to_rf(self) -> None:
        with self._lock:
            self._refuse_when_jammed()
            self._let_guest_take()
            if self._card == "rf":
                return
            if self._card == "exit":  # pulled back from the exit, as the CRT-591 does
                self._card, self._taken_at = "rf", None
                return
            if self.stock <= 0:
                raise DispenserEmpty("no card in the stacker", "A0")
            self.stock -= 1
            misfeed = self._next(self._misfeeds, self._random.random() < self.misfeed_rate)
        self._delay(FEED_S)
        with self._lock:
            if misfeed:
                self._jammed = True
                raise DispenserJam("card jam while feeding", "10")
            self._card = "rf"

    def present(self) -> None:
        with self._lock:
            self._refuse_when_jammed()
            if self._card is None:
                raise DispenserError("no card in the channel to present")
        self._delay(PRESENT_S)
        with self._lock:
            self._card = "exit"
            takes = self._next(self._guest_takes, True)
            self._taken_at = time.monotonic() + GUEST_TAKES_S * self.delay_scale if takes else None

    def capture(self) -> None:
        with self._lock:
            self._refuse_when_jammed()
            self._let_guest_take()
            if self._card is None:
                raise DispenserError("no card in the channel to capture")
            if self.rejected >= self.reject_capacity:
                raise RejectBinFull("reject bin full", "A1")
        self._delay(CAPTURE_S)
        with self._lock:
            self._to_reject_bin()

    def wait_taken(self, timeout: float) -> bool:
        return poll_until_taken(self.status, timeout, self._poll_interval)

    def take_in(self, timeout: float) -> bool:
        with self._lock:
            self._refuse_when_jammed()
            self._let_guest_take()
            if self._card is not None:
                raise DispenserError("a card is in the channel: capture or present it first")
        if not self._inserted.wait(timeout):
            return False
        self._delay(FEED_S)
        with self._lock:
            self._inserted.clear()
            self._card = "rf"
        return True

    def health(self) -> DeviceHealth:
        health = dispenser_health(self.name, self.status())
        health.metrics.update(cards_left=self.stock, rejected=self.rejected)
        return health

    # -- internals ------------------------------------------------------------------
    def _stock_level(self) -> StockLevel:
        if self.stock <= 0:
            return StockLevel.EMPTY
        return StockLevel.LOW if self.stock <= self.low_threshold else StockLevel.OK

    def _let_guest_take(self) -> None:
        taken_at = self._taken_at
        if self._card == "exit" and taken_at is not None and time.monotonic() >= taken_at:
            self._card, self._taken_at = None, None
            self.issued += 1

    def _to_reject_bin(self) -> None:
        self._card, self._taken_at = None, None
        self.rejected += 1

    def _refuse_when_jammed(self) -> None:
        if self._jammed:
            raise DispenserJam("card jam: reset first", "10")

    def _delay(self, seconds: float) -> None:
        if self.delay_scale > 0:
            time.sleep(seconds * self.delay_scale)

    @staticmethod
    def _next(script: deque[bool], default: bool) -> bool:
        return script.popleft() if script else default
