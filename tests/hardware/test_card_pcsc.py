"""The PC/SC card encoder against a real pcscd, Debian's vpcd reader driver and emulated cards.

Nothing is mocked: pyscard talks to pcscd, pcscd to vpcd, vpcd over TCP to the card
emulator of ``tests/hardware/vpcd_card.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.card_encoder import (
    AuthFailure,
    BadTrailer,
    CardRemoved,
    CardType,
    CorruptPayload,
    EncoderConfig,
    EncoderTimeout,
    NoCard,
    NoReader,
    PresenceEvent,
    SectorKeys,
    VerifyMismatch,
    WrongCardType,
    open_encoder,
)
from hardware.card_encoder.pcsc import PcscEncoder
from hardware.health import HealthLevel
from kiosk.cli import main
from tests.hardware.pcscd import (
    READER,
    SECOND_READER,
    Pcscd,
    let_pcscd_see_it_gone,
    running_pcscd,
    wait_until,
)
from tests.hardware.vpcd_card import (
    CLASSIC_4K_ATR,
    TRANSPORT_KEY,
    ClassicCard,
    UltralightCard,
    VirtualCardSlot,
)

pytestmark = [pytest.mark.hardware, pytest.mark.timeout(30)]

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seed_examples" / "pms.json"
SITE_A = bytes.fromhex("A0A1A2A3A4A5")  # test keys, not a site's
SITE_B = bytes.fromhex("B0B1B2B3B4B5")
SITE_KEYS = SectorKeys(transport=TRANSPORT_KEY, site_a=SITE_A, site_b=SITE_B)
TRANSPORT_ONLY = SectorKeys(transport=TRANSPORT_KEY)
UPDATE_BINARY = 0xD6


def seed_payload() -> bytes:
    """The bytes of the seed's ``generateRoomCard`` example ``ic_card_string``."""
    operations = json.loads(SEEDS.read_text())
    (operation,) = [op for op in operations if op["name"] == "generateRoomCard"]
    return bytes.fromhex(operation["response"]["data"]["ic_card_string"])


PAYLOAD = seed_payload()


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    with running_pcscd(tmp_path_factory.mktemp("pcscd")) as service:
        yield service


@pytest.fixture(scope="module")
def slot(pcscd: Pcscd) -> Iterator[VirtualCardSlot]:
    slot = pcscd.slot(0)
    slot.insert(ClassicCard())
    PcscEncoder(READER).wait_for_card(5)
    yield slot
    slot.remove()


@pytest.fixture
def classic(slot: VirtualCardSlot) -> ClassicCard:
    """A fresh blank card on the first reader (swapped in: no wait for pcscd's polling)."""
    card = ClassicCard()
    slot.swap(card)
    return card


def encoder(keys: SectorKeys = TRANSPORT_ONLY, **kwargs: object) -> PcscEncoder:
    return PcscEncoder(READER, keys=keys, **kwargs)  # type: ignore[arg-type]


def writes(slot: VirtualCardSlot) -> list[bytes]:
    return [c for c in slot.commands if c[1] == UPDATE_BINARY]


def test_seed_payload_written_read_back_and_laid_out_as_documented(
    classic: ClassicCard,
) -> None:
    assert json.loads(PAYLOAD) == {
        "room_id": 32,
        "check_in_time": 1743487200,
        "check_out_time": 1743570000,
    }
    card = encoder().write_key(PAYLOAD)
    assert card.uid == classic.uid and card.card_type is CardType.MIFARE_CLASSIC_1K
    assert encoder().read_key() == (card, PAYLOAD)
    # Layout: sector 1 onwards, trailers skipped, 4-byte header (length, CRC) first.
    area = b"".join(bytes(classic.blocks[b]) for b in (4, 5, 6, 8, 9, 10, 12, 13, 14))
    assert area[:2] == len(PAYLOAD).to_bytes(2, "big")
    assert area[4 : 4 + len(PAYLOAD)] == PAYLOAD
    assert not any(area[4 + len(PAYLOAD) :])
    assert bytes(classic.blocks[7][10:]) == TRANSPORT_KEY  # no site keys: trailer untouched


def test_rekeyed_to_site_keys_readable_with_them_not_with_transport_key(
    classic: ClassicCard, slot: VirtualCardSlot
) -> None:
    encoder(SITE_KEYS).write_key(PAYLOAD)
    for sector in range(1, 5):
        trailer = bytes(classic.blocks[sector * 4 + 3])
        assert (trailer[:6], trailer[6:9], trailer[10:]) == (
            SITE_A,
            bytes.fromhex("787788"),
            SITE_B,
        )
    assert bytes(classic.blocks[23][:6]) == TRANSPORT_KEY  # sector 5 is not the layout's
    assert encoder(SITE_KEYS).read_key()[1] == PAYLOAD
    with pytest.raises(AuthFailure):
        encoder(TRANSPORT_ONLY).read_key()
    # Re-encoding a card that has the site keys does not write trailers again.
    slot.commands.clear()
    encoder(SITE_KEYS).write_key(b'{"room_id":7}')
    assert {c[3] % 4 for c in writes(slot)} == {0, 1, 2}
    assert encoder(SITE_KEYS).read_key()[1] == b'{"room_id":7}'


def test_unknown_keys_give_auth_failure_and_nothing_is_written(
    classic: ClassicCard, slot: VirtualCardSlot
) -> None:
    other = bytes.fromhex("0102030405060708090A0B0C0D0E0F10")
    classic.blocks[7][:] = other[:6] + bytes.fromhex("78778869") + other[10:]
    with pytest.raises(AuthFailure):
        encoder(SITE_KEYS).write_key(PAYLOAD)
    assert writes(slot) == []
    with pytest.raises(AuthFailure):
        encoder(SITE_KEYS).read_key()


def test_card_removed_mid_write_is_reported_and_never_as_success(slot: VirtualCardSlot) -> None:
    card = ClassicCard(uid=bytes.fromhex("0BADCAFE"))
    slot.swap(card)
    slot.leave_on = lambda command: len(writes(slot)) == 4 and command[1] == UPDATE_BINARY
    with pytest.raises(CardRemoved):
        encoder().write_key(PAYLOAD)
    assert slot.card is None
    assert len(writes(slot)) == 4  # the fourth never reached the card
    # The card holds a partial write; back in the field, it reads as no valid key.
    let_pcscd_see_it_gone()
    slot.insert(card)
    assert encoder().wait_for_card(5).uid == card.uid
    with pytest.raises(CorruptPayload):
        encoder().read_key()


def test_bad_trailer_refused_before_any_apdu(classic: ClassicCard, slot: VirtualCardSlot) -> None:
    inconsistent = SectorKeys(
        transport=TRANSPORT_KEY, site_a=SITE_A, site_b=SITE_B, site_access=bytes.fromhex("FF0788")
    )
    # Consistent, but the locks' key A could not read the data (0F00FF), or the encoder's
    # key B could never write them again (0F078F).
    unreadable, unwritable = (
        SectorKeys(
            transport=TRANSPORT_KEY, site_a=SITE_A, site_b=SITE_B, site_access=bytes.fromhex(a)
        )
        for a in ("0F00FF", "0F078F")
    )
    for keys in (inconsistent, unreadable, unwritable):
        slot.commands.clear()
        with pytest.raises(BadTrailer):
            encoder(keys).write_key(PAYLOAD)
        with pytest.raises(BadTrailer):
            encoder(keys).erase()
        assert slot.commands == []
    assert classic.blocked == set()


def test_erase_clears_the_area_and_keeps_the_site_keys(classic: ClassicCard) -> None:
    encoder(SITE_KEYS).write_key(PAYLOAD)
    encoder(SITE_KEYS).erase()
    assert encoder(SITE_KEYS).read_key()[1] == b""
    assert not any(any(classic.blocks[b]) for b in (4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18))
    assert bytes(classic.blocks[7][10:]) == SITE_B


def test_verify_mismatch_when_the_card_does_not_keep_what_was_written(
    slot: VirtualCardSlot,
) -> None:
    class StuckBlock(ClassicCard):
        def write(self, block: int, data: bytes) -> bytes:
            reply = super().write(block, data)
            if block == 5:
                self.blocks[5][0] ^= 0x01  # a weak cell: the write "succeeds" but a bit flips
            return reply

    slot.swap(StuckBlock())
    with pytest.raises(VerifyMismatch):
        encoder().write_key(PAYLOAD)


def test_ultralight_write_and_read(slot: VirtualCardSlot) -> None:
    card = UltralightCard()
    slot.swap(card)
    info = encoder(SITE_KEYS).write_key(PAYLOAD)  # keys do not apply to Ultralight
    assert (info.uid, info.card_type) == (card.uid, CardType.ULTRALIGHT)
    assert encoder().read_key()[1] == PAYLOAD
    assert bytes(card.pages[4][:2]) == len(PAYLOAD).to_bytes(2, "big")
    assert b"".join(bytes(p) for p in card.pages[5:]).startswith(PAYLOAD)
    assert bytes(card.pages[1]) == card.uid[3:7]  # UID pages untouched


def test_unsupported_card_type_is_refused(slot: VirtualCardSlot) -> None:
    class Classic4K(ClassicCard):
        atr = CLASSIC_4K_ATR

    slot.swap(Classic4K())
    with pytest.raises(WrongCardType):
        encoder().write_key(PAYLOAD)
    assert writes(slot) == []


def test_another_card_is_seen_as_another_card(slot: VirtualCardSlot) -> None:
    first = ClassicCard(uid=bytes.fromhex("11111111"))
    slot.swap(first)
    assert encoder().write_key(PAYLOAD).uid == first.uid
    second = ClassicCard(uid=bytes.fromhex("22222222"))
    slot.remove()
    slot.insert(second)
    assert encoder().wait_for_card(5).uid == second.uid
    assert encoder().read_key()[1] == b""


def test_no_reader_and_no_card(pcscd: Pcscd) -> None:
    with pytest.raises(NoReader):
        PcscEncoder("No Such Reader").write_key(PAYLOAD)
    health = PcscEncoder("No Such Reader").health()
    assert health.level is HealthLevel.FAULT and "No Such Reader" in health.detail
    assert PcscEncoder(SECOND_READER).health().level is HealthLevel.OK
    started = time.monotonic()
    with pytest.raises(NoCard):
        PcscEncoder(SECOND_READER).wait_for_card(0.3)
    assert time.monotonic() - started < 2
    with pytest.raises(NoCard):
        PcscEncoder(SECOND_READER).read_key()


def test_presence_events_from_the_card_monitor(pcscd: Pcscd) -> None:
    events: list[PresenceEvent] = []
    seen = threading.Condition()

    def record(event: PresenceEvent) -> None:
        with seen:
            events.append(event)
            seen.notify_all()

    second = pcscd.slot(1)
    watcher = PcscEncoder(SECOND_READER)
    stop = watcher.watch(record)
    try:
        second.insert(UltralightCard())
        wait_until(lambda: PresenceEvent(SECOND_READER, True) in events)
        second.remove()
        wait_until(lambda: PresenceEvent(SECOND_READER, False) in events)
    finally:
        started = time.monotonic()
        stop()
        second.remove()
    assert time.monotonic() - started < 2
    assert events == [PresenceEvent(SECOND_READER, True), PresenceEvent(SECOND_READER, False)]


def test_a_reader_that_stops_answering_times_out(pcscd: Pcscd) -> None:
    second = pcscd.slot(1)
    second.insert(ClassicCard())
    try:
        PcscEncoder(SECOND_READER).wait_for_card(5)
        second.mute_on = lambda command: command[1] == UPDATE_BINARY
        started = time.monotonic()
        with pytest.raises(EncoderTimeout):
            PcscEncoder(SECOND_READER, timeout=0.5).write_key(PAYLOAD)
        assert time.monotonic() - started < 2
    finally:
        second.remove()  # unblocks vpcd, which was waiting for the answer
    # The abandoned calls end once vpcd gives up, and release their PC/SC context.
    wait_until(lambda: not [t for t in threading.enumerate() if t.name.startswith("pcsc ")])


def test_open_encoder_from_config(classic: ClassicCard) -> None:
    config = EncoderConfig(driver="pcsc", reader="PCD 00 00")
    encoder = open_encoder(config)
    assert encoder.write_key(PAYLOAD).uid == classic.uid
    with pytest.raises(NoReader):
        open_encoder(EncoderConfig(driver="pcsc", reader="nothing like it"))


def test_cli_write_then_read_print_the_documented_lines(
    classic: ClassicCard, capsys: pytest.CaptureFixture[str]
) -> None:
    uid = classic.uid.hex().upper()
    args = ["--driver", "pcsc", "--reader", READER]
    assert main(["hw", "card", "write", *args, "--payload-hex", PAYLOAD.hex()]) == 0
    assert capsys.readouterr().out == (
        f"uid: {uid}\ntype: mifare_classic_1k\nwritten: {len(PAYLOAD)} bytes, verified\n"
    )
    assert main(["hw", "card", "read", *args]) == 0
    assert capsys.readouterr().out == (
        f"uid: {uid}\ntype: mifare_classic_1k\npayload: {PAYLOAD.hex().upper()}\n"
    )
    assert main(["hw", "card", "erase", *args]) == 0
    assert capsys.readouterr().out.endswith("erased\n")
    assert main(["hw", "card", "read", *args]) == 0
    assert capsys.readouterr().out.endswith("payload: \n")


def test_cli_errors_are_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hw", "card", "read", "--driver", "pcsc", "--reader", "Nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("card encoder: NoReader: ") and err.count("\n") == 1
    no_card = ["--driver", "pcsc", "--reader", SECOND_READER, "--wait", "0.2"]
    assert main(["hw", "card", "read", *no_card]) == 1
    assert capsys.readouterr().err.startswith("card encoder: NoCard: ")
