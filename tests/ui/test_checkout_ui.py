"""The real check-out journey behind the real Kivy app, driven by touch.

The app under Xvfb, the lobby with check-in and check-out, the PMS adapter against the
property simulator over loopback HTTP, and the device simulators (terminal, dispenser +
encoder card path, printer). The guest touches the widgets (``tests/ui/guest.py``) and
pushes a card into the slot as a person would (the simulated card path takes it in); a
QR code is posted as the camera pipeline would. After each journey the simulator's own
state is checked: stay and folio status, the kiosk's bill, the returned card.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hardware.payment.simulator import Scenario
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccomDetailRequest,
    AccomStatus,
    BillListRequest,
    BillListType,
    CheckoutStatus,
)
from kiosk.demo.devices import SimCardPath, simulated_devices
from kiosk.journeys.devices import Devices
from kiosk.journeys.messages import Step
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.result import JourneyResult
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.runtime import checkout_journey
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN, SimClock
from tests.contract.test_journey_checkin import SIGNING_KEY, make_journey
from tests.journey_kit import state_db
from tests.ui.driver import UiDriver
from tests.ui.guest import Guest
from tests.ui.test_checkin_ui import SETTINGS

pytestmark = pytest.mark.timeout(60)


@dataclass
class Kiosk:
    ui: UiDriver
    guest: Guest
    client: PmsClient
    devices: Devices
    payment_log: PaymentLog
    clock: SimClock
    in_house: dict[str, dict[str, Any]]

    def start(self) -> asyncio.Task[JourneyResult]:
        """The lobby (check-in, check-out) on the app's channel, for one guest."""
        checkin = make_journey(self.client, self.devices, self.payment_log, self.clock, SETTINGS)
        checkout = checkout_journey(checkin, checkin.backend)  # type: ignore[arg-type]
        return asyncio.ensure_future(checkin.lobby(checkout).run(self.ui.channel))

    def qr(self, case: str) -> str:
        guest = self.in_house[case]
        ref = PmsOrderRef(guest["order_id"], guest["order_no"])
        return encode_payload(ref, signing_key=SIGNING_KEY if guest["signed"] else None)

    @property
    def card_path(self) -> SimCardPath:
        assert isinstance(self.devices.dispenser, SimCardPath)
        return self.devices.dispenser


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Devices]:
    bundle = simulated_devices(tmp_path, terminal_response_timeout_s=0.05)
    yield bundle
    bundle.terminal.close()


@pytest.fixture
async def kiosk(
    ui: UiDriver, sim_server: SimServer, sim_clock: SimClock, devices: Devices, tmp_path: Path
) -> AsyncIterator[Kiosk]:
    in_house = {g["case"]: g for g in seed_demo(sim_server, seed=1)["in_house"]}
    payment_log = PaymentLog(state_db(tmp_path / "state"))
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01) as client:
        yield Kiosk(ui, Guest(ui), client, devices, payment_log, sim_clock, in_house)
    payment_log.db.close()


async def folio_state(client: PmsClient, order_id: int) -> list[tuple[Any, Any]]:
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    return [(a.accom_status, a.checkout_status) for a in detail.accom_list]


async def leave(guest: Guest, run: asyncio.Task[JourneyResult]) -> JourneyResult:
    """No more cards, the receipt, the done screen; the journey's result."""
    await guest.on(Step.CHECKOUT_CARDS)
    await guest.choose("no_more")
    await guest.on(Step.RECEIPT)
    await guest.choose("continue")
    await guest.on(Step.CHECKOUT_DONE)
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)
    assert result.journey == "checkout"
    return result


async def test_card_in_the_slot_the_folio_and_payment_by_touch(kiosk: Kiosk) -> None:
    guest, case = kiosk.guest, kiosk.in_house["checkout_balance_due"]
    run = kiosk.start()
    await guest.on(Step.ATTRACT)
    await guest.start("checkout")
    start = await guest.on(Step.CHECKOUT_START)
    assert "slot" in start.frame.message.text
    kiosk.card_path.guest_inserts(bytes.fromhex(case["card_uid"]))
    folio = await guest.on(Step.CHECKOUT_FOLIO)
    cards = list(reversed(folio.ids.details.children))
    lines = [(card.label, card.value) for card in cards]
    assert ("Minibar 酒水 x2", "60.00 CNY") in lines
    assert ("Still to pay", "60.00 CNY") in lines
    for card in cards:  # money right-aligned: every amount ends at its card's right edge
        value = card.ids.value_line
        assert value.halign == "right"
        assert abs(value.right - (card.right - card.padding[2])) < 2
    assert guest.choice("confirm").text == "Pay 60.00 CNY and check out"
    kiosk.devices.terminal.queue(Scenario("approve"))
    await guest.choose("confirm")
    result = await leave(guest, run)

    assert result.outcome == "checked_out" and len(result.payments) == 1
    assert result.cards_returned == (case["card_uid"],)
    assert [chip.uid.hex().upper() for chip in kiosk.card_path.reject_bin] == [case["card_uid"]]
    assert await folio_state(kiosk.client, case["order_id"]) == [
        (AccomStatus.CHECKED_OUT, CheckoutStatus.SETTLED)
    ]
    page = await kiosk.client.get_bill_list(
        BillListRequest(order_id=case["order_id"], list_type=BillListType.CASHIER)
    )
    assert [b.amount for b in page.bills if "kiosk-ref:" in b.remark] == [Decimal("60.00")]
    assert len(kiosk.devices.printer.printed) == 1  # the invoice


async def test_one_room_of_two_by_qr_leaves_the_other_in_the_house(kiosk: Kiosk) -> None:
    guest, case = kiosk.guest, kiosk.in_house["checkout_two_rooms"]
    run = kiosk.start()
    await guest.on(Step.ATTRACT)
    await guest.start("checkout")
    await guest.on(Step.CHECKOUT_START)
    guest.scan(kiosk.qr("checkout_two_rooms"))  # unsigned: the phone's last digits first
    await guest.on(Step.IDENTITY)
    await guest.type(case["second_factor"]["phone_last4"])
    rooms = await guest.on(Step.CHECKOUT_ROOMS)
    labels = [b.text for b in reversed(rooms.frame.choices.children)]
    assert labels == ["All rooms: 603, 604", "Room 603 only", "Room 604 only", "Cancel"]
    first = rooms.frame.choices.children[-2].choice_id  # "Room 603 only"
    await guest.choose(first)
    folio = await guest.on(Step.CHECKOUT_FOLIO)
    assert "other rooms stay" in folio.frame.message.text
    await guest.choose("confirm")
    result = await leave(guest, run)

    assert result.outcome == "checked_out" and result.payments == ()
    states = await folio_state(kiosk.client, case["order_id"])
    assert sorted(s for s, _ in states) == [AccomStatus.CHECKED_IN, AccomStatus.CHECKED_OUT]
    assert {c for _, c in states} == {CheckoutStatus.UNSETTLED}
    done = [d for d in guest.drawn if d.step is Step.CHECKOUT_DONE][-1]
    assert "rest of your booking stays open" in done.message
