"""The real check-in journey behind the real Kivy app (issue 4's list).

Everything that can run here is real: the app under Xvfb, the journey, the PMS and
open-ability adapters against the property simulator over loopback HTTP, and the device
simulators (payment terminal, dispenser + encoder card path, receipt printer). The guest
touches the widgets (``tests/ui/guest.py``); QR codes are posted as the camera pipeline
would. After each journey the simulator's own state is checked, not only the screens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp

from hardware.payment.simulator import Scenario
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.openability_types import OrderListRequest, OrderState, ResidenceRef
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import AccomStatus
from kiosk.demo.devices import simulated_devices
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.messages import Step
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.result import JourneyResult
from kiosk.journeys.settings import JourneySettings
from kiosk.qr_payload import BookingCodeRef, PmsOrderRef, encode_payload
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN, SimClock
from tests.contract.test_backend_openability import make_backend
from tests.contract.test_journey_checkin import (
    SIGNING_KEY,
    cards_on_record,
    kiosk_bills,
    make_journey,
    sales,
    stay_states,
)
from tests.journey_kit import durable_outbox, journey_over, state_db
from tests.ui.driver import UiDriver
from tests.ui.guest import Guest
from tests.ui.test_language import inked

pytestmark = pytest.mark.timeout(60)
PRINTER_OUT = pytest.mark.parametrize(
    "device_options", [{"printer_paper_rows": 0}], ids=["no_paper"]
)

SETTINGS = JourneySettings(
    timezone="Asia/Shanghai",
    view_timeout_s=30,  # the app's inactivity timer; the timeout test shortens it
    done_timeout_s=30,
    timeout_grace_s=0.5,
    payment_status_interval_s=0.02,
    payment_status_deadline_s=2,
    card_take_timeout_s=0.3,
    backend_timeout_s=5,
    directions={2: {"en": "Lift on your left, second floor", "zh_Hans": "左手边电梯，二楼"}},
    wifi_ssid="Lobby-Guest",
    wifi_password="welcome123",
)


@dataclass
class Kiosk:
    """One kiosk: the app with its guest, the simulator behind it, the devices."""

    ui: UiDriver
    guest: Guest
    client: PmsClient
    devices: Devices
    payment_log: PaymentLog
    clock: SimClock
    demo: dict[str, dict[str, Any]]

    def journey(self, **settings: Any) -> CheckinJourney:
        return make_journey(
            self.client,
            self.devices,
            self.payment_log,
            self.clock,
            SETTINGS.model_copy(update=settings),
        )

    def qr(self, case: str) -> str:
        arrival = self.demo[case]
        ref = PmsOrderRef(arrival["order_id"], arrival["order_no"])
        return encode_payload(ref, signing_key=SIGNING_KEY if arrival["signed"] else None)

    async def start(self, case: str, **settings: Any) -> asyncio.Task[JourneyResult]:
        """A journey on the app's channel; the guest starts it and scans ``case``'s code."""
        run = asyncio.ensure_future(self.journey(**settings).run(self.ui.channel))
        await self.guest.on(Step.ATTRACT)
        await self.guest.choose("start")
        language = await self.guest.on(Step.LANGUAGE)
        await self.ui.tap(self.ui.button("English", root=language.ids.languages))
        await self.guest.on(Step.SCAN)
        self.guest.scan(self.qr(case))
        return run


@pytest.fixture
def device_options() -> dict[str, Any]:
    """``simulated_devices`` options; a test overrides them with ``parametrize``."""
    return {}


@pytest.fixture
def devices(tmp_path: Path, device_options: dict[str, Any]) -> Iterator[Devices]:
    bundle = simulated_devices(tmp_path, terminal_response_timeout_s=0.05, **device_options)
    yield bundle
    bundle.terminal.close()


@pytest.fixture
async def kiosk(
    ui: UiDriver, sim_server: SimServer, sim_clock: SimClock, devices: Devices, tmp_path: Path
) -> AsyncIterator[Kiosk]:
    demo = {a["case"]: a for a in seed_demo(sim_server, seed=1)["arrivals"]}
    payment_log = PaymentLog(state_db(tmp_path / "state"))
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01) as client:
        yield Kiosk(ui, Guest(ui), client, devices, payment_log, sim_clock, demo)
    payment_log.db.close()


async def register(guest: Guest, name: str = "Wei Wang", id_number: str = "E12345678") -> None:
    await guest.on(Step.REGISTER, "register.name")
    await guest.type(name)
    screen = await guest.on(Step.REGISTER, "register.id_type")
    assert screen.keyboard.parent is None  # choices only: no keyboard to type on
    await guest.choose("passport")
    screen = await guest.on(Step.REGISTER, "register.id_number")
    assert screen.keyboard.parent is not None
    await guest.type(id_number)


async def finish(guest: Guest, run: asyncio.Task[JourneyResult]) -> JourneyResult:
    """Leave the receipt and done screens; the journey's result."""
    await guest.on(Step.RECEIPT)
    await guest.choose("continue")
    await guest.on(Step.DONE)
    await guest.choose("finish")
    return await asyncio.wait_for(run, 10)


def drawn(guest: Guest, step: Step) -> list[Any]:
    return [d for d in guest.drawn if d.step is step]


# --- the happy paths -----------------------------------------------------------------------------


async def test_prepaid_happy_path(kiosk: Kiosk) -> None:
    guest = kiosk.guest
    run = await kiosk.start("prepaid")
    summary = await guest.on(Step.SUMMARY)
    lines = [w.text for w in reversed(summary.ids.details.children)]
    assert "Arrival: 04 Mar 2026 14:00" in lines and "Rooms: 201" in lines
    await guest.choose("continue")
    keys = await guest.on(Step.KEYS)
    assert keys.frame.message.text == "For room 201"
    await guest.choose("1")
    receipt = await guest.on(Step.RECEIPT)
    assert receipt.frame.message.text == "Please take your receipt"
    assert receipt.ids.qr.texture is None  # printed: no QR on screen
    await guest.choose("continue")
    done = await guest.on(Step.DONE)
    assert [w.text for w in reversed(done.ids.details.children)] == [
        "Room 201",
        "Floor 2",
        "Lift on your left, second floor",
        "Wi-Fi: Lobby-Guest, password welcome123",
    ]
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)

    assert result.outcome == "checked_in" and len(result.cards) == 1
    assert Step.PAYMENT not in guest.steps()  # nothing due
    (progress,) = {d.details for d in drawn(guest, Step.KEY_PROGRESS)}
    assert progress == ("Room 201", "Card 1 of 1")
    order_id = kiosk.demo["prepaid"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.CHECKED_IN]
    assert await cards_on_record(kiosk.client, order_id) == list(result.cards)
    assert sales(kiosk.devices.terminal) == []
    assert len(kiosk.devices.printer.printed) == 1


async def test_two_rooms_with_two_cards_each(kiosk: Kiosk) -> None:
    guest = kiosk.guest
    run = await kiosk.start("two_rooms")
    await guest.on(Step.SUMMARY)
    await guest.choose("continue")
    await register(guest, "Wei Wang", "E1111111")
    assert "Guest 1 of 2" in drawn(guest, Step.REGISTER)[0].details
    await register(guest, "Anna Smith", "E2222222")
    assert "Guest 2 of 2" in drawn(guest, Step.REGISTER)[-1].details
    for room in ("301", "302"):
        keys = await guest.on(Step.KEYS)
        assert keys.frame.message.text == f"For room {room}"
        await guest.choose("2")
    result = await finish(guest, run)

    assert result.outcome == "checked_in" and len(result.cards) == 4
    cards = [d.details for d in drawn(guest, Step.KEY_PROGRESS)]
    assert list(dict.fromkeys(cards)) == [
        ("Room 301", "Card 1 of 4"),
        ("Room 301", "Card 2 of 4"),
        ("Room 302", "Card 3 of 4"),
        ("Room 302", "Card 4 of 4"),
    ]
    done = drawn(guest, Step.DONE)[-1]
    # each room on its own lines (floor 3 has no directions set)
    assert done.details[:4] == ("Room 301", "Floor 3", "Room 302", "Floor 3")
    order_id = kiosk.demo["two_rooms"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.CHECKED_IN] * 2
    on_record = await cards_on_record(kiosk.client, order_id)
    assert on_record == sorted(result.cards) and len(set(on_record)) == 4


async def test_balance_due_declined_then_approved(kiosk: Kiosk) -> None:
    guest, terminal = kiosk.guest, kiosk.devices.terminal
    run = await kiosk.start("balance_due")
    await guest.on(Step.SUMMARY)
    await guest.choose("continue")
    await register(guest)
    pay = await guest.on(Step.PAYMENT, "payment.message")
    assert pay.frame.message.text == "Amount to pay: 676.00 CNY"
    terminal.queue(Scenario("decline"))
    await guest.choose("pay")
    declined = await guest.on(Step.PAYMENT, "refusal.payment_declined.message")
    assert declined.frame.title.text == "Payment declined"
    assert [b.text for b in reversed(declined.frame.choices.children)] == [
        "Try again",
        "Try another card",
        "Ask the front desk",
    ]
    await guest.choose("other_card")  # the terminal approves the next one
    await guest.on(Step.KEYS)
    await guest.choose("1")
    result = await finish(guest, run)

    processing = drawn(guest, Step.PAYMENT)
    assert any(
        d.message == "Present your card on the payment terminal: 676.00 CNY" for d in processing
    )
    assert result.outcome == "checked_in" and len(result.payments) == 1
    assert [e.event for e in terminal.journal()] == [
        "requested",
        "declined",
        "requested",
        "approved",
    ]
    order_id = kiosk.demo["balance_due"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.CHECKED_IN]
    (bill,) = await kiosk_bills(kiosk.client, order_id)
    assert bill.amount == Decimal("676.00") and result.payments[0] in bill.remark


# --- devices -------------------------------------------------------------------------------------


async def test_a_card_failing_verification_goes_to_the_reject_bin(kiosk: Kiosk) -> None:
    guest, path = kiosk.guest, kiosk.devices.dispenser
    run = await kiosk.start("prepaid")
    await guest.on(Step.SUMMARY)
    await guest.choose("continue")
    await guest.on(Step.KEYS)
    path.fault_next_cards("verify_mismatch")
    await guest.choose("1")
    result = await finish(guest, run)

    assert result.outcome == "checked_in" and result.rejected_cards == 1
    messages = [d.message for d in drawn(guest, Step.KEY_PROGRESS)]
    assert messages.count("Taking a card…") == 2  # the bad card, then the good one
    assert path.inner.rejected == 1 and path.inner.stock == 98
    order_id = kiosk.demo["prepaid"]["order_id"]
    assert await cards_on_record(kiosk.client, order_id) == list(result.cards)


@PRINTER_OUT
async def test_printer_out_of_paper_shows_the_receipt_and_its_qr(kiosk: Kiosk) -> None:
    guest = kiosk.guest
    run = await kiosk.start("prepaid")
    await guest.on(Step.SUMMARY)
    await guest.choose("continue")
    await guest.on(Step.KEYS)
    await guest.choose("1")
    receipt = await guest.on(Step.RECEIPT)
    assert receipt.frame.message.text.startswith("The printer is not available")
    rows = receipt.ids.rows.text
    assert "Check-in receipt" in rows and "Nothing to pay" in rows and "201" in rows
    qr = receipt.view.params["receipt_qr"]
    shot = kiosk.ui.crop(await kiosk.ui.screenshot("receipt-on-screen"), receipt.ids.qr)
    assert [r.text for r in zxingcpp.read_barcodes(np.asarray(shot.convert("L")))] == [qr]
    await guest.choose("continue")
    await guest.on(Step.DONE)
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)

    assert result.outcome == "checked_in" and result.receipt == "on_screen"
    assert kiosk.devices.printer.printed == []
    order_id = kiosk.demo["prepaid"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.CHECKED_IN]


# --- refusals ------------------------------------------------------------------------------------


async def test_a_booking_for_tomorrow_is_refused(kiosk: Kiosk) -> None:
    guest = kiosk.guest
    run = await kiosk.start("tomorrow")
    refusal = await guest.on(Step.REFUSAL)
    assert refusal.frame.title.text == "Not today"
    assert "This booking starts on 05 Mar 2026 14:00" in refusal.frame.message.text
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)

    assert result.outcome == "refused:wrong_day"
    assert Step.SUMMARY not in guest.steps()
    order_id = kiosk.demo["tomorrow"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.BOOKED]


async def test_a_malformed_qr_then_the_right_one(kiosk: Kiosk) -> None:
    guest = kiosk.guest
    run = asyncio.ensure_future(kiosk.journey().run(kiosk.ui.channel))
    await guest.on(Step.ATTRACT)
    guest.scan("{not json")  # scanned on the attract screen: no language screen
    refusal = await guest.on(Step.REFUSAL)
    assert refusal.frame.title.text == "Code not recognised"
    assert [b.text for b in reversed(refusal.frame.choices.children)] == ["Try again", "Start over"]
    await guest.choose("try_again")
    await guest.on(Step.SCAN)
    guest.scan(kiosk.qr("prepaid"))
    await guest.on(Step.SUMMARY)
    await guest.choose("not_mine")
    result = await asyncio.wait_for(run, 10)

    assert result.outcome == "cancelled_by_guest"
    order_id = kiosk.demo["prepaid"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.BOOKED]


async def test_retries_repeat_what_is_asked(kiosk: Kiosk) -> None:
    guest = kiosk.guest
    digits = kiosk.demo["unsigned_qr"]["second_factor"]["phone_last4"]
    run = await kiosk.start("unsigned_qr")
    identity = await guest.on(Step.IDENTITY, "identity.phone_digits")
    assert identity.keyboard.mode == "digits" and identity.ids.hint.text == ""
    await guest.type("0000" if digits != "0000" else "1111")
    identity = await guest.on(Step.IDENTITY, "identity.wrong")
    assert identity.frame.message.text == "That does not match the booking. 2 tries left."
    assert identity.ids.hint.text == "Type the last 4 digits of the phone number on the booking"
    await guest.type(digits)
    await guest.on(Step.SUMMARY)
    await guest.choose("continue")
    await guest.on(Step.REGISTER, "register.name")
    await guest.type("Wei Wang")
    await guest.on(Step.REGISTER, "register.id_type")
    await guest.choose("passport")
    await guest.on(Step.REGISTER, "register.id_number")
    await guest.type("AB")  # too short for an ID number
    invalid = await guest.on(Step.REGISTER, "register.invalid")
    assert invalid.frame.message.text == "Please check what you typed."
    assert invalid.ids.hint.text == "The number of your ID"
    await guest.choose("cancel")
    result = await asyncio.wait_for(run, 10)

    assert result.outcome == "cancelled_by_guest"
    order_id = kiosk.demo["unsigned_qr"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.BOOKED]


# --- leaving and language ------------------------------------------------------------------------


async def test_timeout_goes_back_to_attract_with_no_guest_data_left(kiosk: Kiosk) -> None:
    guest, ui = kiosk.guest, kiosk.ui
    # A property that re-registers every guest asks the prepaid one too; typing must fit
    # in the timeout, under load.
    run = await kiosk.start("prepaid", view_timeout_s=3.0, reregister_known_guests=True)
    summary = await guest.on(Step.SUMMARY)
    surname = kiosk.demo["prepaid"]["second_factor"]["surname"]
    assert any(surname in w.text for w in summary.ids.details.children)
    await guest.choose("continue")
    await guest.on(Step.REGISTER, "register.name")
    await ui.type_text(guest.screen.keyboard, "SYNTHNAME")  # typed, never sent
    assert guest.screen.keyboard.text == "SYNTHNAME"
    await ui.until(lambda: ui.app.overlay.shown, 6)  # "Are you still there?"
    await ui.until(lambda: ui.app.manager.current == Step.ATTRACT.value, 6)
    result = await asyncio.wait_for(run, 8)

    assert result.outcome == "timed_out"
    from kivy.uix.label import Label

    texts = [
        w.text
        for screen in ui.app.manager.screens
        for w in screen.walk(restrict=True)
        if isinstance(w, Label)
    ]
    keyboards = [s.keyboard.text for s in ui.app.manager.screens if hasattr(s, "keyboard")]
    leaked = [t for t in [*texts, *keyboards] if surname in t or "SYNTHNAME" in t or "201" in t]
    assert leaked == []
    assert all(screen.view is None for screen in ui.app.manager.screens if screen.name != "attract")
    order_id = kiosk.demo["prepaid"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.BOOKED]


@PRINTER_OUT
async def test_switching_language_mid_journey(kiosk: Kiosk) -> None:
    guest, ui = kiosk.guest, kiosk.ui
    run = await kiosk.start("prepaid")
    summary = await guest.on(Step.SUMMARY)
    await guest.language("简体中文")
    await ui.until(lambda: summary.frame.title.text == "您的预订")
    assert guest.choice("continue").text == "继续"
    shot = await ui.screenshot("summary-zh_Hans")
    assert inked(ui.crop(shot, summary.frame.title)) > 500, "the Chinese title rendered blank"
    assert inked(ui.crop(shot, summary.ids.details)) > 2000, "the Chinese details rendered blank"
    await guest.choose("continue")
    keys = await guest.on(Step.KEYS)
    assert keys.frame.title.text == "需要几张房卡？"
    await guest.choose("1")
    receipt = await guest.on(Step.RECEIPT)
    assert "入住收据" in receipt.ids.rows.text  # the journey composed it in the new language
    await guest.choose("continue")
    done = await guest.on(Step.DONE)
    assert [w.text for w in reversed(done.ids.details.children)][:3] == [
        "201 号房",
        "2 楼",
        "左手边电梯，二楼",
    ]
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)

    assert result.outcome == "checked_in" and result.language == "zh_Hans"
    order_id = kiosk.demo["prepaid"]["order_id"]
    assert await stay_states(kiosk.client, order_id) == [AccomStatus.CHECKED_IN]


# --- open-ability --------------------------------------------------------------------------------


async def test_open_ability_happy_path(
    ui: UiDriver, sim_server: SimServer, sim_clock: SimClock, devices: Devices, tmp_path: Path
) -> None:
    code = next(c for c in seed_demo(sim_server, seed=1)["booking_codes"] if c["case"] == "oa_gym")
    ref = BookingCodeRef(code["residence_id"], code["booking_code"])
    guest = Guest(ui)
    state = tmp_path / "state"
    payment_log = PaymentLog(state_db(state))
    async with OpenAbilityClient(
        sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01
    ) as client:
        outbox = durable_outbox(state, openability=client, db=payment_log.db)
        journey = journey_over(
            make_backend(client, outbox, sim_clock),
            devices,
            SETTINGS.model_copy(update={"door_pins": True, "max_cards_per_room": 1}),
            payment_log,
            signing_key=SIGNING_KEY,
            now=sim_clock,
        )
        run = asyncio.ensure_future(journey.run(ui.channel))
        await guest.on(Step.ATTRACT)
        await guest.choose("start")
        language = await guest.on(Step.LANGUAGE)
        await ui.tap(ui.button("English", root=language.ids.languages))
        await guest.on(Step.SCAN)
        guest.scan(encode_payload(ref, signing_key=SIGNING_KEY))
        await guest.on(Step.SUMMARY)
        await guest.choose("continue")  # the order's guest is registered already
        result = await finish(guest, run)

        assert result.outcome == "checked_in" and len(result.cards) == 1
        assert Step.REGISTER not in guest.steps() and Step.PAYMENT not in guest.steps()
        done = drawn(guest, Step.DONE)[-1]
        assert "Room 101" in done.details
        assert any(line.startswith("Door PIN: ") for line in done.details)
        orders = await client.get_order_list(OrderListRequest(page_size=100, page_index=1))
        (order,) = [o for o in orders if o.residence_id == ref.residence_id]
        assert order.order_state is OrderState.CHECKED_IN
        assert await client.get_booking_list(ResidenceRef(residence_id=ref.residence_id))
    payment_log.db.close()
