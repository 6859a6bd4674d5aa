"""The CRT-591 serial driver against the emulator on a real pty pair."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hardware.dispenser import DispenserConfig, open_dispenser
from hardware.dispenser.crt591 import (
    BadFrame,
    Crt591Dispenser,
    command_frame,
    decode_text,
    parse_status,
)
from hardware.dispenser.protocol import (
    DispenserCommError,
    DispenserEmpty,
    DispenserError,
    DispenserJam,
    DispenserNAK,
    DispenserRejected,
    DispenserTimeout,
    RejectBinFull,
    StockLevel,
)
from hardware.health import HealthLevel
from tests.hardware.crt591_emulator import Crt591Emulator, Crt591State

pytestmark = pytest.mark.timeout(20)

ACK_TIMEOUT = 0.15
REPLY_TIMEOUT = 0.5
RETRIES = 2


@pytest.fixture
def emulator() -> Iterator[Crt591Emulator]:
    with Crt591Emulator(Crt591State(stock=3, low_threshold=1, reject_capacity=2)) as emu:
        yield emu


@pytest.fixture
def dispenser(emulator: Crt591Emulator) -> Iterator[Crt591Dispenser]:
    driver = Crt591Dispenser(
        emulator.port_name,
        ack_timeout=ACK_TIMEOUT,
        reply_timeout=REPLY_TIMEOUT,
        retries=RETRIES,
        poll_interval=0.02,
    )
    with driver:
        yield driver


def test_command_frame_bytes_match_the_documented_layout() -> None:
    # F2 ADDR LENH LENL 'C' CM PM 03 BCC, BCC = XOR of F2..03, worked out by hand.
    frame = command_frame(0x00, 0x31, 0x30)
    assert frame == bytes([0xF2, 0x00, 0x00, 0x03, 0x43, 0x31, 0x30, 0x03, 0xB0])


def test_reply_text_and_status_decoding() -> None:
    reply = decode_text(b"P\x31\x30" + b"211")
    status = parse_status(reply.status)
    assert reply.positive
    assert (status.card_at_rf, status.card_at_exit) == (True, False)
    assert status.stock is StockLevel.LOW and status.reject_bin_full
    assert decode_text(b"N\x32\x32A0").error == "A0"
    with pytest.raises(BadFrame):
        decode_text(b"X\x31\x30")
    with pytest.raises(BadFrame):
        parse_status(b"9" + b"20")  # an unknown code is an error, never a guess


def test_init_and_status(dispenser: Crt591Dispenser, emulator: Crt591Emulator) -> None:
    dispenser.reset()
    status = dispenser.status()
    assert status.stock is StockLevel.OK
    assert not status.card_in_channel and not status.reject_bin_full and not status.jammed
    assert emulator.state.executed == [(0x30, 0x31), (0x31, 0x30)]


def test_move_to_rf_present_and_taken(dispenser: Crt591Dispenser, emulator: Crt591Emulator) -> None:
    dispenser.move_to_rf()
    assert dispenser.status().card_at_rf
    assert emulator.state.stock == 2
    dispenser.present()
    assert dispenser.status().card_at_exit
    assert dispenser.wait_taken(0.1) is False  # nobody took it yet
    emulator.take_card()
    assert dispenser.wait_taken(1.0) is True


def test_capture_to_the_reject_bin_until_it_is_full(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    for _ in range(2):
        dispenser.move_to_rf()
        dispenser.capture()
    assert emulator.state.rejected == 2
    assert dispenser.status().reject_bin_full
    assert dispenser.health().level is HealthLevel.FAULT
    dispenser.move_to_rf()
    with pytest.raises(RejectBinFull) as caught:
        dispenser.capture()
    assert caught.value.code == "A1"


def test_stock_low_then_empty(dispenser: Crt591Dispenser, emulator: Crt591Emulator) -> None:
    assert dispenser.health().level is HealthLevel.OK
    for _ in range(2):
        dispenser.move_to_rf()
        dispenser.present()
        emulator.take_card()
    assert dispenser.status().stock is StockLevel.LOW
    health = dispenser.health()
    assert health.level is HealthLevel.WARNING and "low" in health.detail
    dispenser.move_to_rf()
    dispenser.present()
    emulator.take_card()
    assert dispenser.status().stock is StockLevel.EMPTY
    with pytest.raises(DispenserEmpty):
        dispenser.move_to_rf()
    assert dispenser.health().level is HealthLevel.FAULT


def test_jam_is_reported_and_cleared_by_reset(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    emulator.state.jam_next_feed = True
    with pytest.raises(DispenserJam):
        dispenser.move_to_rf()
    assert dispenser.status().jammed
    assert dispenser.health().level is HealthLevel.FAULT
    with pytest.raises(DispenserJam):
        dispenser.present()
    dispenser.reset()
    assert not dispenser.status().jammed
    dispenser.move_to_rf()  # works again
    assert dispenser.status().card_at_rf


def test_other_negative_replies_keep_their_code(dispenser: Crt591Dispenser) -> None:
    with pytest.raises(DispenserRejected) as caught:
        dispenser.present()  # nothing in the channel
    assert caught.value.code == "02"
    assert type(caught.value) is DispenserRejected


def test_nak_once_is_retried(dispenser: Crt591Dispenser, emulator: Crt591Emulator) -> None:
    emulator.state.nak_commands = 1
    dispenser.move_to_rf()
    assert emulator.state.naks_sent == 1
    assert emulator.state.executed == [(0x32, 0x32)]  # executed once, not twice


def test_nak_every_time_is_a_typed_error(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    emulator.state.nak_commands = RETRIES + 1
    with pytest.raises(DispenserNAK):
        dispenser.move_to_rf()
    assert emulator.state.executed == []
    assert emulator.state.stock == 3  # no card left the stacker


def test_bad_bcc_is_detected_and_the_reply_requested_again(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    emulator.state.garble_replies = 1
    dispenser.move_to_rf()
    assert emulator.state.naks_received == 1
    assert emulator.state.executed == [(0x32, 0x32)]  # the move ran once
    assert dispenser.status().card_at_rf


def test_replies_that_stay_corrupt_raise(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    emulator.state.garble_replies = RETRIES + 1
    with pytest.raises(DispenserCommError, match="BCC"):
        dispenser.status()


def test_silent_device_times_out_within_the_bound(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    emulator.state.silent = True
    started = time.monotonic()
    with pytest.raises(DispenserTimeout):
        dispenser.status()
    elapsed = time.monotonic() - started
    bound = (RETRIES + 1) * ACK_TIMEOUT
    assert bound * 0.9 <= elapsed < bound + 0.5
    health = dispenser.health()
    assert health.level is HealthLevel.FAULT and "DispenserTimeout" in health.detail


def test_device_that_stops_after_ack_times_out(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    dispenser.status()
    emulator.state.hang_after_ack = True
    started = time.monotonic()
    with pytest.raises(DispenserTimeout):
        dispenser.status()
    assert time.monotonic() - started < REPLY_TIMEOUT + 0.5
    assert emulator.state.executed == [(0x31, 0x30)]  # the second one never ran


def test_unopened_or_missing_port_is_a_typed_error(tmp_path) -> None:
    with pytest.raises(DispenserError, match="not open"):
        Crt591Dispenser("/dev/null").status()
    with pytest.raises(DispenserError, match="cannot open"):
        Crt591Dispenser(str(tmp_path / "no-such-tty")).open()


def test_open_dispenser_builds_the_serial_driver(emulator: Crt591Emulator) -> None:
    config = DispenserConfig(driver="crt591", port=emulator.port_name, ack_timeout_s=0.2)
    dispenser = open_dispenser(config)
    try:
        assert isinstance(dispenser, Crt591Dispenser)
        assert dispenser.status().stock is StockLevel.OK
    finally:
        dispenser.close()


def test_take_in_draws_a_returned_card_to_rf_and_closes_the_slot(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    emulator.state.card_offered = True  # the guest holds their card to the slot
    assert dispenser.take_in(1.0)
    assert dispenser.status().card_at_rf
    assert not emulator.state.entry_allowed  # closed again behind the card
    assert (0x33, 0x31) in emulator.state.executed and emulator.state.executed[-1] != (0x33, 0x31)
    dispenser.capture()
    assert emulator.state.rejected == 1


def test_take_in_without_a_card_times_out_with_the_slot_closed(
    dispenser: Crt591Dispenser, emulator: Crt591Emulator
) -> None:
    started = time.monotonic()
    assert not dispenser.take_in(0.2)
    assert 0.15 <= time.monotonic() - started < 1.5
    assert not emulator.state.entry_allowed
    assert emulator.state.card is None
