"""The simulated dispenser: stock countdown, misfeeds, reject bin, a guest who walks away."""

from __future__ import annotations

import time

import pytest

from hardware.dispenser import DispenserConfig, open_dispenser
from hardware.dispenser.protocol import (
    DispenserEmpty,
    DispenserError,
    DispenserJam,
    RejectBinFull,
    StockLevel,
)
from hardware.dispenser.simulator import SimDispenser
from hardware.health import HealthLevel

pytestmark = pytest.mark.timeout(20)


def sim(**knobs) -> SimDispenser:
    knobs.setdefault("delay_scale", 0)
    knobs.setdefault("poll_interval", 0.01)
    return SimDispenser(**knobs)


def issue_one(dispenser: SimDispenser) -> bool:
    """The journey's card step without the encoder: feed, present, taken or captured."""
    dispenser.move_to_rf()
    dispenser.present()
    if dispenser.wait_taken(0.05):
        return True
    dispenser.capture()
    return False


def test_stock_counts_down_to_low_then_empty() -> None:
    dispenser = sim(stock=3, low_threshold=1)
    assert dispenser.status().stock is StockLevel.OK
    assert issue_one(dispenser) and issue_one(dispenser)
    assert dispenser.status().stock is StockLevel.LOW
    assert dispenser.health().level is HealthLevel.WARNING
    assert issue_one(dispenser)
    assert dispenser.status().stock is StockLevel.EMPTY
    assert dispenser.health().level is HealthLevel.FAULT
    with pytest.raises(DispenserEmpty):
        dispenser.move_to_rf()
    assert dispenser.issued == 3 and dispenser.health().metrics["cards_left"] == 0


def test_scripted_misfeed_jams_until_reset_sends_the_card_to_the_reject_bin() -> None:
    dispenser = sim(stock=5, misfeeds=[False, True])
    assert issue_one(dispenser)
    with pytest.raises(DispenserJam):
        dispenser.move_to_rf()
    assert dispenser.status().jammed and dispenser.stock == 3  # the jammed card left the stacker
    assert dispenser.health().level is HealthLevel.FAULT
    with pytest.raises(DispenserJam):
        dispenser.present()
    dispenser.reset()
    assert not dispenser.status().jammed and dispenser.rejected == 1
    assert issue_one(dispenser)


def test_misfeed_rate_is_random_but_seeded() -> None:
    def jams(seed: int) -> list[bool]:
        dispenser = sim(stock=200, misfeed_rate=0.3, seed=seed)
        outcome = []
        for _ in range(100):
            try:
                dispenser.move_to_rf()
                dispenser.capture()
                dispenser.rejected = 0  # an operator empties the bin; only jams matter here
                outcome.append(False)
            except DispenserJam:
                dispenser.reset()
                outcome.append(True)
        return outcome

    first = jams(1)
    assert first == jams(1)
    assert 15 <= sum(first) <= 45


def test_guest_who_does_not_take_the_card_gets_it_captured() -> None:
    dispenser = sim(stock=5, guest_takes=[False, True])
    dispenser.move_to_rf()
    dispenser.present()
    started = time.monotonic()
    assert dispenser.wait_taken(0.2) is False
    assert time.monotonic() - started >= 0.2
    assert dispenser.status().card_at_exit
    dispenser.capture()
    assert dispenser.rejected == 1 and not dispenser.status().card_in_channel
    assert issue_one(dispenser)  # the next guest takes theirs
    assert dispenser.issued == 1


def test_guest_takes_the_card_after_a_scaled_delay() -> None:
    dispenser = sim(delay_scale=0.05)  # the guest reaches for it after 0.1 s
    dispenser.move_to_rf()
    dispenser.present()
    assert dispenser.status().card_at_exit
    started = time.monotonic()
    assert dispenser.wait_taken(2.0) is True
    assert 0.05 <= time.monotonic() - started < 1.0


def test_reject_bin_fills_up() -> None:
    dispenser = sim(stock=5, reject_capacity=1, guest_takes=[False, False])
    assert not issue_one(dispenser)
    assert dispenser.status().reject_bin_full
    assert dispenser.health().level is HealthLevel.FAULT
    dispenser.move_to_rf()
    with pytest.raises(RejectBinFull):
        dispenser.capture()


def test_moves_need_a_card_in_the_channel() -> None:
    dispenser = sim()
    with pytest.raises(DispenserError):
        dispenser.present()
    with pytest.raises(DispenserError):
        dispenser.capture()


def test_open_dispenser_defaults_to_the_simulator() -> None:
    dispenser = open_dispenser(DispenserConfig(sim_stock=7, low_stock_threshold=7))
    assert isinstance(dispenser, SimDispenser)
    assert dispenser.status().stock is StockLevel.LOW


def test_take_in_waits_for_a_card_the_guest_inserts() -> None:
    from hardware.dispenser.simulator import SimDispenser

    dispenser = SimDispenser(stock=5, delay_scale=0)
    assert not dispenser.take_in(0.05)  # nobody inserted a card
    dispenser.insert_from_front()
    assert dispenser.take_in(0.05)
    assert dispenser.status().card_at_rf and dispenser.stock == 5  # not from the stacker
    dispenser.capture()
    assert dispenser.rejected == 1 and not dispenser.status().card_in_channel
