"""The extend-stay journey end to end: scripted guests through the lobby, the PMS adapter
against the property simulator over loopback HTTP, and the device simulators (terminal,
dispenser + encoder, the guest's own card). After each run the simulator's state is
checked: the stay's check-out, the folio's bills, the card the guest got back."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hardware.card_encoder.protocol import VerifyMismatch
from hardware.card_encoder.simulator import SimCard, SimEncoder
from hardware.payment.protocol import Kind, Outcome
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import AccomDetailRequest, BillListRequest, BillListType, OrderRef
from kiosk.demo.devices import SimCardPath
from kiosk.demo.script import GuestScript, ScriptReport, run_script
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.extend import ExtendJourney, extend_journey
from kiosk.journeys.messages import Step, View
from kiosk.journeys.payment import PaymentLog, Payments
from kiosk.journeys.settlement import resolve_unsettled
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.sim import pms
from kiosk.sim.demo import seed_demo
from kiosk.sim.params import Params
from kiosk.sim.server import SimContext, SimServer
from kiosk.state import JourneyMark, current_journey
from tests import journey_kit as kit
from tests.conftest import SimClock
from tests.journey_kit import durable_outbox, pms_journey

pytestmark = pytest.mark.timeout(60)

SIGNING_KEY = kit.SIGNING_KEY
KING_RATE = Decimal("388.00")
SUITE_RATE = Decimal("888.00")


@pytest.fixture
def in_house(sim_server: SimServer) -> dict[str, dict[str, Any]]:
    guests = seed_demo(sim_server, seed=1)["in_house"]
    return {h["case"]: h for h in guests if "card" in h}  # the extend guests (a key on record)


@pytest.fixture
def values(in_house: dict[str, dict[str, Any]]) -> dict[str, str]:
    return kit.script_values(in_house.values(), SIGNING_KEY)


async def play(
    checkin: CheckinJourney,
    values: dict[str, str],
    actions: list[dict],
    on_view: Any = None,
    **expect: Any,
) -> ScriptReport:
    extend = extend_journey(checkin)
    assert isinstance(extend, ExtendJourney)
    script = GuestScript.model_validate(
        {"name": "test", "actions": actions, "expect": expect, "max_seconds": 30}
    )
    report = await run_script(checkin, script, values, lobby=checkin.lobby(extend), on_view=on_view)
    assert report.passed, (report.failures, report.transcript)
    assert report.result.journey == "extend"
    return report


def by_card(case: str) -> list[dict]:
    return [
        {"on": "attract", "tap": "extend"},
        {"on": "extend_start", "insert_card": f"@{case}.card"},
    ]


async def stay_end(client: PmsClient, order_id: int) -> datetime:
    (accom,) = (await client.get_accom_detail(AccomDetailRequest(order_id=order_id))).accom_list
    return accom.checkin_end_time


async def cashier_bills(client: PmsClient, order_id: int) -> list[Decimal]:
    page = await client.get_bill_list(
        BillListRequest(order_id=order_id, list_type=BillListType.CASHIER, page_no=1, page_size=50)
    )
    return [bill.amount for bill in page.bills if "kiosk-ref:" in bill.remark]


async def balance(client: PmsClient, order_id: int) -> Decimal:
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    assert detail.bill_summary is not None
    return detail.bill_summary.need_pay_amount


def payload_on(card: SimCard) -> bytes:
    """What the card holds, read as a door would."""
    reader = SimEncoder()
    reader.insert(card)
    return reader.read_key()[1]


def key_on(card: SimCard) -> dict[str, int]:
    """The key payload the card holds."""
    return json.loads(payload_on(card))


def returned_card(devices: Any) -> SimCard:
    path = devices.dispenser
    assert isinstance(path, SimCardPath)
    (card,) = path.handed_out
    return card


# --- extended --------------------------------------------------------------------------------


async def test_by_card_one_night_paid_and_the_card_re_encoded(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient, devices: Any
) -> None:
    guest = in_house["extend_card"]
    before = await stay_end(client, guest["order_id"])
    views: list[View] = []

    async def seen(view: View) -> None:
        views.append(view)

    report = await play(
        checkin, values,
        [*by_card("extend_card"), {"on": "extend_nights", "tap": "1"},
         {"on": "payment", "pay": "approve"},
         {"on": "receipt", "tap": "continue"}, {"on": "extend_done", "tap": "finish"}],
        on_view=seen, outcome="extended", payments=1, voided=0, receipt="printed",
    )  # fmt: skip
    assert len(devices.printer.printed) == 1
    after = before + timedelta(days=1)
    assert await stay_end(client, guest["order_id"]) == after
    assert await cashier_bills(client, guest["order_id"]) == [KING_RATE]
    assert await balance(client, guest["order_id"]) == 0  # the extension is paid in full
    (reference,) = report.result.payments
    assert checkin.payment_log.state(reference) == "recorded"
    # The guest's own card came back holding the key to the new check-out.
    card = returned_card(devices)
    assert card.uid.hex().upper() == guest["card"].split("/")[0]
    assert key_on(card)["check_out_time"] == int(after.timestamp())
    assert devices.dispenser.inner.stock == 100  # no new card was used
    # The offer: one choice a night (up to the kiosk's week), each priced, and cancel.
    (nights,) = [v for v in views if v.step is Step.EXTEND_NIGHTS]
    assert [c.id for c in nights.choices] == [*map(str, range(1, 8)), "cancel"]
    assert nights.choices[2].params["amount"] == KING_RATE * 3
    assert nights.choices[2].params["until"] == before + timedelta(days=3)
    assert Step.EXTEND_START in report.result.steps


async def test_by_booking_code_and_second_factor_then_the_card(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient, devices: Any
) -> None:
    guest = in_house["extend_qr"]  # an unsigned code: the second factor is asked
    before = await stay_end(client, guest["order_id"])
    await play(
        checkin, values,
        [{"on": "attract", "tap": "extend"}, {"on": "extend_start", "tap": "booking"},
         {"on": "scan", "scan": "@extend_qr"}, {"on": "identity", "type": "@extend_qr.phone_last4"},
         {"on": "extend_card", "insert_card": "@extend_qr.card"},
         {"on": "extend_nights", "tap": "2"}, {"on": "payment", "pay": "approve"},
         {"on": "receipt", "tap": "continue"}, {"on": "extend_done", "tap": "finish"}],
        outcome="extended", payments=1,
    )  # fmt: skip
    assert await stay_end(client, guest["order_id"]) == before + timedelta(days=2)
    assert await cashier_bills(client, guest["order_id"]) == [KING_RATE * 2]
    assert key_on(returned_card(devices))["check_out_time"] == int(
        (before + timedelta(days=2)).timestamp()
    )


async def test_the_reply_lost_the_extension_is_applied_exactly_once(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient,
    sim_server: SimServer, devices: Any,
) -> None:  # fmt: skip
    guest = in_house["extend_card"]
    before = await stay_end(client, guest["order_id"])
    extend = extend_journey(checkin)
    assert extend is not None
    real_extend = extend.stays.extend_stay

    async def lossy(*args: Any) -> bool:
        sim_server.faults.lose_next = 1  # the PMS applies extendCheckIn, its reply is lost
        return await real_extend(*args)

    extend.stays.extend_stay = lossy  # type: ignore[method-assign]
    script = GuestScript.model_validate(
        {"name": "lost", "max_seconds": 30, "expect": {"outcome": "extended", "payments": 1},
         "actions": [*by_card("extend_card"), {"on": "extend_nights", "tap": "1"},
                     {"on": "payment", "pay": "approve"}, {"on": "receipt", "tap": "continue"},
                     {"on": "extend_done", "tap": "finish"}]}
    )  # fmt: skip
    report = await run_script(checkin, script, values, lobby=checkin.lobby(extend))
    assert report.passed, (report.failures, report.transcript)
    after = before + timedelta(days=1)
    # The card was made from the extension still in the outbox (composed in the PMS's format).
    assert key_on(returned_card(devices))["check_out_time"] == int(after.timestamp())
    outbox = durable_outbox(
        checkin.payment_log.db.path.parent, pms=client, db=checkin.payment_log.db
    )
    assert await outbox.drain(deadline_s=10)
    assert [e.operation for e in outbox.entries(("delivered",))] == ["extendCheckIn", "cashier"]
    assert await stay_end(client, guest["order_id"]) == after  # once, not twice
    assert await cashier_bills(client, guest["order_id"]) == [KING_RATE]


# --- refused ---------------------------------------------------------------------------------


async def test_a_room_booked_on_the_next_night_is_refused_before_any_payment(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient, devices: Any
) -> None:
    guest = in_house["extend_taken"]
    before = await stay_end(client, guest["order_id"])
    report = await play(
        checkin, values,
        [*by_card("extend_taken"), {"on": "refusal", "tap": "finish"}],
        outcome="refused:room_taken", payments=0,
    )  # fmt: skip
    assert Step.PAYMENT not in report.result.steps
    assert await stay_end(client, guest["order_id"]) == before
    # The guest's card came back as it was: the old key.
    assert key_on(returned_card(devices))["check_out_time"] == int(before.timestamp())


async def test_the_room_taken_between_offer_and_extension_voids_the_payment(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient,
    sim_server: SimServer, devices: Any,
) -> None:  # fmt: skip
    guest = in_house["extend_card"]
    before = await stay_end(client, guest["order_id"])
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=guest["order_id"]))
    room_id = detail.accom_list[0].room_id

    async def desk_sells_the_night(view: View) -> None:
        if view.step is Step.PAYMENT and view.message == "extend_pay.message":
            _book(sim_server, room_id, before + timedelta(hours=2), before + timedelta(days=1))

    report = await play(
        checkin, values,
        [*by_card("extend_card"), {"on": "extend_nights", "tap": "1"},
         {"on": "payment", "pay": "approve"}, {"on": "refusal", "tap": "finish"}],
        on_view=desk_sells_the_night, outcome="refused:room_taken", payments=1, voided=1,
    )  # fmt: skip
    (reference,) = report.result.payments
    assert devices.terminal.status(reference).outcome is Outcome.VOIDED
    assert await stay_end(client, guest["order_id"]) == before
    assert await cashier_bills(client, guest["order_id"]) == []
    assert key_on(returned_card(devices))["check_out_time"] == int(before.timestamp())


async def test_declined_three_times_nothing_is_extended_and_the_card_comes_back(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient, devices: Any
) -> None:
    guest = in_house["extend_card"]
    before = await stay_end(client, guest["order_id"])
    await play(
        checkin, values,
        [*by_card("extend_card"), {"on": "extend_nights", "tap": "1"},
         {"on": "payment", "pay": "decline"}, {"on": "payment", "pay": "decline"},
         {"on": "payment", "pay": "decline"}, {"on": "refusal", "tap": "finish"}],
        outcome="refused:payment_declined", payments=0,
    )  # fmt: skip
    assert await stay_end(client, guest["order_id"]) == before
    assert returned_card(devices).uid.hex().upper() == guest["card"].split("/")[0]


async def test_a_card_on_no_stay_in_house_is_refused_and_given_back(
    checkin: CheckinJourney, values: dict, devices: Any
) -> None:
    await play(
        checkin, values,
        [{"on": "attract", "tap": "extend"}, {"on": "extend_start", "insert_card": "0BADCAFE"},
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:card_unknown", payments=0,
    )  # fmt: skip
    assert returned_card(devices).uid == bytes.fromhex("0BADCAFE")


async def test_a_booking_with_another_stays_card_is_refused(
    checkin: CheckinJourney, values: dict, devices: Any
) -> None:
    await play(
        checkin, values,
        [{"on": "attract", "tap": "extend"}, {"on": "extend_start", "tap": "booking"},
         {"on": "scan", "scan": "@extend_card"},
         {"on": "extend_card", "insert_card": "@extend_qr.card"},
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:card_unknown", payments=0,
    )  # fmt: skip
    assert len(devices.dispenser.handed_out) == 1


async def test_the_card_cannot_be_re_encoded_the_extension_stands_and_is_paid(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient, devices: Any
) -> None:
    guest = in_house["extend_card"]
    before = await stay_end(client, guest["order_id"])

    def worn_out(payload: bytes) -> Any:  # the card reads back otherwise after every write
        raise VerifyMismatch("the card reads back different bytes")

    devices.encoder.write_key = worn_out
    await play(
        checkin, values,
        [*by_card("extend_card"), {"on": "extend_nights", "tap": "1"},
         {"on": "payment", "pay": "approve"}, {"on": "refusal", "tap": "finish"}],
        outcome="refused:card_not_updated", payments=1, voided=0,
    )  # fmt: skip
    assert await stay_end(client, guest["order_id"]) == before + timedelta(days=1)
    assert await cashier_bills(client, guest["order_id"]) == [KING_RATE]
    # The guest has their card back, the old key on it (the desk makes a new one).
    assert key_on(returned_card(devices))["check_out_time"] == int(before.timestamp())


async def test_a_guest_who_walks_away_leaves_the_card_erased_in_the_bin(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient, devices: Any
) -> None:
    guest = in_house["extend_card"]
    before = await stay_end(client, guest["order_id"])
    await play(
        checkin, values,
        [*by_card("extend_card"), {"take_card": False}, {"on": "extend_nights", "timeout": True}],
        outcome="timed_out", payments=0,
    )  # fmt: skip
    path = devices.dispenser
    (card,) = path.reject_bin  # a working key must not lie in the slot
    assert card.uid.hex().upper() == guest["card"].split("/")[0]
    assert path.handed_out == []
    assert payload_on(card) == b""  # erased: no key on it any more
    assert await stay_end(client, guest["order_id"]) == before


async def test_a_payment_approved_before_a_crash_is_voided_unless_the_extension_was_stored(
    checkin: CheckinJourney, in_house: dict, client: PmsClient, devices: Any
) -> None:
    """The restart's rule (``resolve_unsettled``), for an extension's journey."""
    guest = in_house["extend_card"]
    log = checkin.payment_log
    extend = extend_journey(checkin)
    assert extend is not None
    (stay,) = (await checkin.backend.find_reservation(PmsOrderRef(guest["order_id"]))).stays
    paid: list[str] = []
    for stored in (False, True):
        token = current_journey.set(JourneyMark(f"journey-{stored}", str(guest["order_id"])))
        try:
            result = await Payments(devices.terminal, log).charge(Kind.SALE, KING_RATE, "CNY")
            paid.append(result.reference)
            if stored:  # the extension went into the outbox, then the kiosk stopped
                await extend.stays.extend_stay(
                    stay, stay.ends + timedelta(days=1), KING_RATE, f"extend-{result.reference}"
                )
        finally:
            current_journey.reset(token)
    await resolve_unsettled(log, devices.terminal, checkin.backend)
    assert [log.state(reference) for reference in paid] == ["voided", "recorded"]
    assert await cashier_bills(client, guest["order_id"]) == [KING_RATE]
    assert await stay_end(client, guest["order_id"]) == stay.ends + timedelta(days=1)


def _book(sim_server: SimServer, room_id: int, start: datetime, end: datetime) -> None:
    """Another guest's booking of the room (the front desk selling it)."""
    stay = {"accom_type": 10, "checkin_start_time": int(start.timestamp()),
            "checkin_end_time": int(end.timestamp()), "amount": "388.00", "accom_status": 40,
            "room_id": room_id, "tenant_list": [{"name": "Desk Guest", "phone": "13900000000",
                                                 "id_type": 0, "id_number": ""}]}  # fmt: skip
    order = {"pms_id": 1, "name": "Desk Guest", "phone": "13900000000", "room_list": [stay],
             "reminder_list": []}  # fmt: skip
    with sim_server.db.transaction() as conn:
        ctx = SimContext(now=sim_server.clock(), rng=random.Random(1))
        pms.ROUTES["/api/v1/pmsOrder/create"](conn, Params(order), ctx)


async def test_a_stored_extension_is_parked_when_the_desk_extended_further_meanwhile(
    checkin: CheckinJourney, in_house: dict, client: PmsClient, sim_server: SimServer
) -> None:
    guest = in_house["extend_card"]
    extend = extend_journey(checkin)
    assert extend is not None
    (stay,) = (await checkin.backend.find_reservation(PmsOrderRef(guest["order_id"]))).stays
    token = current_journey.set(JourneyMark("journey-desk", str(guest["order_id"])))
    try:
        sim_server.faults.fail_next = 10  # the PMS away: the extension is stored
        applied = await extend.stays.extend_stay(
            stay, stay.ends + timedelta(days=1), KING_RATE, "extend-stored"
        )
    finally:
        current_journey.reset(token)
    assert applied is False
    sim_server.faults.fail_next = 0
    further = stay.ends + timedelta(days=2)
    with sim_server.db.transaction() as conn:  # the desk extends by two nights meanwhile
        ctx = SimContext(now=sim_server.clock(), rng=random.Random(1))
        request = {"extends": [{"accom_id": int(stay.stay_id), "amount": "776.00",
                                "checkin_end_time": int(further.timestamp())}]}  # fmt: skip
        pms.ROUTES["/api/v1/pmsOrder/extendCheckIn"](conn, Params(request), ctx)
    outbox = durable_outbox(
        checkin.payment_log.db.path.parent, pms=client, db=checkin.payment_log.db
    )
    await outbox.drain(deadline_s=5)
    (entry,) = outbox.entries(("dead",))
    assert entry.operation == "extendCheckIn" and "extended further" in entry.error
    assert await stay_end(client, guest["order_id"]) == further  # not moved back or on


async def test_a_booking_not_checked_in_is_not_in_house(
    checkin: CheckinJourney, sim_server: SimServer, values: dict, devices: Any
) -> None:
    arrival = next(a for a in seed_demo(sim_server, seed=1)["arrivals"] if a["case"] == "prepaid")
    code = encode_payload(
        PmsOrderRef(arrival["order_id"], arrival["order_no"]), signing_key=SIGNING_KEY
    )
    report = await play(
        checkin, {**values, "prepaid": code},
        [{"on": "attract", "tap": "extend"}, {"on": "extend_start", "scan": "@prepaid"},
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:not_in_house", payments=0,
    )  # fmt: skip
    assert Step.EXTEND_CARD not in report.result.steps  # no card asked for
    assert devices.dispenser.handed_out == []


async def test_an_extension_stored_when_the_wait_runs_out_keeps_the_payment(
    client: PmsClient, devices: Any, payment_log: PaymentLog, sim_clock: SimClock,
    values: dict, in_house: dict,
) -> None:  # fmt: skip
    # long enough for the card's search on a loaded machine, shorter than the slow reply
    settings = kit.FAST.model_copy(update={"backend_timeout_s": 3})
    checkin = pms_journey(
        client, devices, settings, payment_log, signing_key=SIGNING_KEY, now=sim_clock
    )
    extend = extend_journey(checkin)
    assert extend is not None
    real_extend = extend.stays.extend_stay

    async def slow_reply(*args: Any) -> bool:  # applied, then the answer takes too long
        await real_extend(*args)
        await asyncio.sleep(8)
        return True

    extend.stays.extend_stay = slow_reply  # type: ignore[method-assign]
    guest = in_house["extend_card"]
    before = await stay_end(client, guest["order_id"])
    script = GuestScript.model_validate(
        {"name": "slow", "max_seconds": 30, "expect": {"outcome": "extended", "voided": 0},
         "actions": [*by_card("extend_card"), {"on": "extend_nights", "tap": "1"},
                     {"on": "payment", "pay": "approve"}, {"on": "receipt", "tap": "continue"},
                     {"on": "extend_done", "tap": "finish"}]}
    )  # fmt: skip
    report = await run_script(checkin, script, values, lobby=checkin.lobby(extend))
    assert report.passed, (report.failures, report.transcript)
    after = before + timedelta(days=1)
    assert key_on(returned_card(devices))["check_out_time"] == int(after.timestamp())
    assert await stay_end(client, guest["order_id"]) == after
    assert await cashier_bills(client, guest["order_id"]) == [KING_RATE]


async def test_the_door_pin_and_phone_key_last_until_the_new_check_out(
    client: PmsClient, devices: Any, payment_log: PaymentLog, sim_clock: SimClock,
    values: dict, in_house: dict,
) -> None:  # fmt: skip
    settings = kit.FAST.model_copy(update={"door_pins": True, "ekeys": True})
    checkin = kit.pms_journey(
        client, devices, settings, payment_log, signing_key=SIGNING_KEY, now=sim_clock
    )
    guest = in_house["extend_card"]
    views: list[View] = []

    async def seen(view: View) -> None:
        views.append(view)

    await play(
        checkin, values,
        [*by_card("extend_card"), {"on": "extend_nights", "tap": "1"},
         {"on": "payment", "pay": "approve"},
         {"on": "receipt", "tap": "continue"}, {"on": "extend_done", "tap": "ekey"},
         {"on": "ekey", "tap": "finish"}],
        on_view=seen, outcome="extended", payments=1,
    )  # fmt: skip
    after = await stay_end(client, guest["order_id"])
    order = OrderRef(order_id=guest["order_id"])
    (done,) = [v for v in views if v.step is Step.EXTEND_DONE]
    pins = [
        p
        for entry in await client.get_accom_all_lock_password(order)
        for p in entry.password_list
        if p.end_date >= after
    ]
    assert [p.keyboard_pwd for p in pins] == [done.params["door_pin"]] and pins[0].keyboard_pwd
    keys = [
        k
        for entry in await client.get_accom_all_access_keys(order)
        for k in entry.key_list
        if k.end_date >= after
    ]
    assert len(keys) == 1, keys
    assert views[-1].message == "ekey.sent"


async def test_without_paper_the_receipt_of_the_nights_is_on_screen(
    checkin: CheckinJourney, values: dict, in_house: dict, client: PmsClient
) -> None:
    guest = in_house["extend_card"]
    shown: list[View] = []

    async def seen(view: View) -> None:
        if view.step is Step.RECEIPT:
            shown.append(view)

    await play(
        checkin, values,
        [{"paper": "out"}, *by_card("extend_card"), {"on": "extend_nights", "tap": "2"},
         {"on": "payment", "pay": "approve"}, {"on": "receipt", "tap": "continue"},
         {"on": "extend_done", "tap": "finish"}],
        on_view=seen, outcome="extended", payments=1, receipt="on_screen",
    )  # fmt: skip
    (receipt,) = shown
    rows = "\n".join(receipt.params["receipt_rows"])
    departure = checkin.catalogue.format_value(await stay_end(client, guest["order_id"]), "en")
    assert "Stay extension receipt" in rows and f"{KING_RATE * 2} CNY" in rows
    assert departure in rows and "206" in rows
    assert guest["second_factor"]["surname"] not in rows  # the holder's initial only
