"""Card issuing against the dispenser and encoder simulators joined as one card path:
dispense -> write -> read back -> record -> present, reject-and-retry, and the stops."""

from __future__ import annotations

import json

import pytest

from hardware.card_encoder.simulator import SimEncoder
from hardware.dispenser.simulator import SimDispenser
from kiosk.demo.devices import SimCardPath
from kiosk.journeys.keys import CardIssueFailed, CardIssuer, CardStockEmpty, Stage

pytestmark = pytest.mark.timeout(30)
PAYLOAD = json.dumps({"room_id": 32, "check_in_time": 1743487200}).encode()


def card_path(**dispenser: object) -> tuple[SimCardPath, SimEncoder]:
    encoder = SimEncoder()
    path = SimCardPath(SimDispenser(delay_scale=0, poll_interval=0.01, **dispenser), encoder)
    path.open()
    return path, encoder


def issuer_for(path: SimCardPath, encoder: SimEncoder, attempts: int = 3) -> CardIssuer:
    return CardIssuer(path, encoder, attempts=attempts, take_timeout_s=0.2)


class Recorder:
    """The journey's record and progress callbacks, noting what the dispenser held."""

    def __init__(self, path: SimCardPath, fail: Exception | None = None) -> None:
        self.path = path
        self.fail = fail
        self.recorded: list[str] = []
        self.stages: list[Stage] = []

    async def record(self, uid: str) -> None:
        assert self.path.status().card_at_rf  # recorded before the card leaves the kiosk
        if self.fail:
            raise self.fail
        self.recorded.append(uid)

    async def progress(self, stage: Stage) -> None:
        self.stages.append(stage)


async def test_a_good_card_is_written_checked_recorded_and_taken() -> None:
    path, encoder = card_path(stock=5)
    calls = Recorder(path)
    card = await issuer_for(path, encoder).issue(PAYLOAD, calls.record, calls.progress)
    assert card.taken and calls.recorded == [card.uid]
    assert calls.stages == [Stage.DISPENSE, Stage.ENCODE, Stage.VERIFY, Stage.PRESENT]
    assert path.inner.issued == 1 and path.inner.rejected == 0 and path.inner.stock == 4


async def test_a_card_failing_verification_is_rejected_and_the_next_is_tried() -> None:
    path, encoder = card_path(stock=5)
    path.fault_next_cards("verify_mismatch")
    issuer, calls = issuer_for(path, encoder), Recorder(path)
    card = await issuer.issue(PAYLOAD, calls.record, calls.progress)
    assert card.taken and issuer.rejected == 1 and path.inner.rejected == 1
    assert calls.recorded == [card.uid]  # the bad card was never recorded
    assert calls.stages.count(Stage.DISPENSE) == 2


async def test_every_card_failing_gives_up_after_the_attempts() -> None:
    path, encoder = card_path(stock=10)
    path.fault_next_cards("verify_mismatch", "removed", "verify_mismatch")
    issuer, calls = issuer_for(path, encoder), Recorder(path)
    with pytest.raises(CardIssueFailed):
        await issuer.issue(PAYLOAD, calls.record, calls.progress)
    assert issuer.rejected == 3 and path.inner.stock == 7 and calls.recorded == []


async def test_a_jam_is_cleared_and_the_next_card_works() -> None:
    path, encoder = card_path(stock=5, misfeeds=[True])
    issuer, calls = issuer_for(path, encoder), Recorder(path)
    card = await issuer.issue(PAYLOAD, calls.record, calls.progress)
    assert card.taken and issuer.rejected == 1 and not path.status().jammed


async def test_stock_running_out_is_its_own_error() -> None:
    path, encoder = card_path(stock=1)
    path.fault_next_cards("verify_mismatch")
    issuer, calls = issuer_for(path, encoder), Recorder(path)
    with pytest.raises(CardStockEmpty):
        await issuer.issue(PAYLOAD, calls.record, calls.progress)
    assert issuer.rejected == 1


async def test_a_full_reject_bin_stops_issuing() -> None:
    path, encoder = card_path(stock=5, reject_capacity=1)
    path.inner.rejected = 1
    path.fault_next_cards("verify_mismatch")
    with pytest.raises(CardIssueFailed):
        await issuer_for(path, encoder).issue(
            PAYLOAD, Recorder(path).record, Recorder(path).progress
        )


async def test_a_failed_record_captures_the_card_and_propagates() -> None:
    path, encoder = card_path(stock=5)
    calls = Recorder(path, fail=RuntimeError("back-end gone"))
    issuer = issuer_for(path, encoder)
    with pytest.raises(RuntimeError, match="back-end gone"):
        await issuer.issue(PAYLOAD, calls.record, calls.progress)
    assert issuer.rejected == 1 and path.inner.issued == 0
    assert not path.status().card_in_channel


async def test_a_card_left_in_the_slot_is_captured() -> None:
    path, encoder = card_path(stock=5, guest_takes=[False])
    issuer, calls = issuer_for(path, encoder), Recorder(path)
    card = await issuer.issue(PAYLOAD, calls.record, calls.progress)
    assert not card.taken and calls.recorded == [card.uid]
    assert issuer.rejected == 1 and path.inner.issued == 0


async def test_ready_refuses_before_any_payment() -> None:
    empty, encoder = card_path(stock=0)
    with pytest.raises(CardStockEmpty):
        await issuer_for(empty, encoder).ready()
    full, encoder = card_path(stock=5, reject_capacity=1)
    full.inner.rejected = 1
    with pytest.raises(CardIssueFailed):
        await issuer_for(full, encoder).ready()
    fine, encoder = card_path(stock=5)
    await issuer_for(fine, encoder).ready()


async def test_a_card_left_at_the_rf_position_is_captured_at_start_up() -> None:
    from hardware.dispenser.simulator import SimDispenser
    from kiosk.journeys.keys import capture_stray_card

    dispenser = SimDispenser(stock=5, delay_scale=0, guest_takes=(False,))
    dispenser.open()
    assert not await capture_stray_card(dispenser)  # an empty channel: nothing to do
    dispenser.move_to_rf()  # where a kill -9 mid-encoding leaves a card
    assert await capture_stray_card(dispenser)
    status = dispenser.status()
    assert not status.card_in_channel and dispenser.rejected == 1
    dispenser.move_to_rf()
    dispenser.present()  # presented: its payment stands, so the card stays for its guest
    assert not await capture_stray_card(dispenser)
    assert dispenser.status().card_at_exit
