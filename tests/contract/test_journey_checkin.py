"""The check-in journey end to end: scripted guests, the PMS adapter against the property
simulator over loopback HTTP, and the device simulators (terminal, dispenser + encoder,
printer). After each run the simulator's own state is checked, not only the screens."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hardware.payment.protocol import Kind, Outcome
from hardware.payment.simulator import Scenario, SimulatedTerminal
from hardware.printer.simulator import SimPrinter
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccomDetailRequest,
    AccomRef,
    AccomStatus,
    BillListRequest,
    BillListType,
)
from kiosk.demo.devices import SimCardPath, simulated_devices
from kiosk.demo.script import GuestScript, ScriptError, ScriptReport, run_script
from kiosk.journeys import checkin
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View
from kiosk.journeys.payment import PaymentLog, Payments
from kiosk.journeys.settings import JourneySettings
from kiosk.journeys.settlement import resolve_unsettled
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.sim.demo import seed_demo
from kiosk.sim.pms.property import set_dirty
from kiosk.sim.server import SimServer
from tests import journey_kit as kit
from tests.conftest import SIM_TOKEN, SimClock
from tests.journey_kit import durable_outbox, pms_journey

pytestmark = pytest.mark.timeout(60)

SIGNING_KEY = kit.SIGNING_KEY
FAST = kit.FAST.model_copy(
    update={
        "directions": {2: {"en": "Lift on your left, second floor"}},
        "wifi_ssid": "Lobby-Guest",
        "wifi_password": "welcome123",
    }
)


@pytest.fixture
def demo(sim_server: SimServer) -> dict[str, dict[str, Any]]:
    return {a["case"]: a for a in seed_demo(sim_server, seed=1)["arrivals"]}


@pytest.fixture
def values(demo: dict[str, dict[str, Any]]) -> dict[str, str]:
    """ "@case" -> the case's QR payload; "@case.phone_last4" / "@case.surname"."""
    return kit.script_values(demo.values(), SIGNING_KEY)


def make_journey(
    client: PmsClient,
    devices: Any,
    payment_log: PaymentLog,
    clock: SimClock,
    settings: JourneySettings = FAST,
) -> CheckinJourney:
    return pms_journey(client, devices, settings, payment_log, signing_key=SIGNING_KEY, now=clock)


@pytest.fixture
def journey(
    client: PmsClient, devices: Any, payment_log: PaymentLog, sim_clock: SimClock
) -> CheckinJourney:
    return make_journey(client, devices, payment_log, sim_clock)


async def play(
    journey: CheckinJourney, values: dict[str, str], actions: list[dict], **expect: Any
) -> ScriptReport:
    script = GuestScript.model_validate(
        {"name": "test", "actions": actions, "expect": expect, "max_seconds": 30}
    )
    report = await run_script(journey, script, values)
    assert report.passed, (report.failures, report.transcript)
    return report


def start(case: str) -> list[dict]:
    return [{"on": "attract", "tap": "start"}, {"on": "language", "language": "en"},
            {"on": "scan", "scan": f"@{case}"}]  # fmt: skip


def register(name: str = "Wei Wang", id_number: str = "E12345678") -> list[dict]:
    return [
        {"on": "register", "type": name},
        {"on": "register", "tap": "passport"},
        {"on": "register", "type": id_number},
    ]


def by_hand(payload: str, then: tuple[str, ...], *, register: bool = True) -> Iterator[Action]:
    """A guest's answers by hand: start, English, the code, continue, registration (unless
    the guest is on file), ``then`` (choices)."""
    yield from (
        Action(ActionKind.CHOOSE, "start"),
        Action(ActionKind.LANGUAGE, "en"),
        Action(ActionKind.QR, payload),
        Action(ActionKind.CHOOSE, "continue"),
    )
    if register:
        yield from (
            Action(ActionKind.TEXT, "Wei Wang"),
            Action(ActionKind.CHOOSE, "passport"),
            Action(ActionKind.TEXT, "E1234567"),
        )
    yield from (Action(ActionKind.CHOOSE, choice) for choice in then)


async def answer_until(channel: Channel, answers: Iterator[Action], step: Step) -> View:
    """Answer every view that waits for the guest until ``step`` shows; that view."""
    while (view := await asyncio.wait_for(channel.views.get(), 10)).step is not step:
        if view.choices or view.input:
            await channel.actions.put(next(answers))
    return view


async def stay_states(client: PmsClient, order_id: int) -> list[AccomStatus]:
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    return [accom.accom_status for accom in detail.accom_list]


async def cards_on_record(client: PmsClient, order_id: int) -> list[str]:
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    uids = []
    for accom in detail.accom_list:
        assert accom.accom_id is not None
        cards = await client.get_all_accom_card(AccomRef(accom_id=accom.accom_id))
        uids += [card.card_uid.upper() for card in cards]
    return sorted(uids)


async def kiosk_bills(client: PmsClient, order_id: int) -> list[Any]:
    page = await client.get_bill_list(
        BillListRequest(order_id=order_id, list_type=BillListType.CASHIER)
    )
    return [bill for bill in page.bills if "kiosk-ref:" in bill.remark]


def sales(terminal: SimulatedTerminal) -> list[str]:
    return [e.reference for e in terminal.journal() if e.event == "requested"]


# --- the happy paths ---------------------------------------------------------------------------


async def test_prepaid_happy_path(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    report = await play(
        journey,
        values,
        [
            *start("prepaid"),
            {"on": "summary", "tap": "continue"},  # the guest is on file: no registration
            {"on": "keys", "tap": "1"},
            {"on": "receipt", "tap": "continue"},
            {"on": "done", "tap": "finish"},
        ],
        outcome="checked_in",
        cards=1,
        payments=0,
        receipt="printed",
    )
    result = report.result
    assert Step.PAYMENT not in result.steps  # nothing due: no payment screen
    assert Step.REGISTER not in result.steps  # name and ID on file: not asked again
    assert result.steps[:4] == (Step.ATTRACT, Step.LANGUAGE, Step.SCAN, Step.BUSY)
    assert result.steps[-2:] == (Step.RECEIPT, Step.DONE)
    order_id = demo["prepaid"]["order_id"]
    assert await stay_states(client, order_id) == [AccomStatus.CHECKED_IN]
    assert await cards_on_record(client, order_id) == list(result.cards)
    assert sales(devices.terminal) == []
    printer: SimPrinter = devices.printer
    assert len(printer.printed) == 1 and printer.printed[0].exists()
    # The guest's name stays out of the result (transcripts, logs).
    surname = demo["prepaid"]["second_factor"]["surname"]
    assert surname not in repr(result) and not any(surname in t for t in report.transcript)


async def test_the_done_screen_shows_room_floor_directions_and_wifi(
    journey: CheckinJourney, values: dict
) -> None:
    # Driven by hand to read the done view's values (a transcript keeps the keys only).
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    answers = by_hand(values["prepaid"], ("1", "continue"), register=False)
    view = await answer_until(channel, answers, Step.DONE)
    assert view.params["room"] == "201"
    assert view.params["floor"] == "2"
    assert view.params["directions"] == "Lift on your left, second floor"
    assert (view.params["wifi_ssid"], view.params["wifi_password"]) == ("Lobby-Guest", "welcome123")
    await channel.actions.put(Action(ActionKind.CHOOSE, "finish"))
    assert (await run).outcome == "checked_in"


async def test_two_rooms_with_two_cards_each(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient
) -> None:
    report = await play(
        journey,
        values,
        [
            *start("two_rooms"),
            {"on": "summary", "tap": "continue"},
            *register("Wei Wang", "E1111111"),
            *register("Anna Smith", "E2222222"),
            {"on": "keys", "tap": "2"},
            {"on": "keys", "tap": "2"},
        ],
        outcome="checked_in",
        cards=4,
        rejected_cards=0,
    )
    order_id = demo["two_rooms"]["order_id"]
    assert await stay_states(client, order_id) == [AccomStatus.CHECKED_IN] * 2
    on_record = await cards_on_record(client, order_id)
    assert on_record == sorted(report.result.cards) and len(set(on_record)) == 4


async def test_balance_due_declined_then_approved(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    report = await play(
        journey,
        values,
        [
            *start("balance_due"),
            {"on": "summary", "tap": "continue"},
            *register(),
            {"on": "payment", "pay": "decline"},
            {"on": "payment", "pay": "approve", "choice": "other_card"},
            {"on": "keys", "tap": "1"},
        ],
        outcome="checked_in",
        cards=1,
        payments=1,
        voided=0,
    )
    order_id = demo["balance_due"]["order_id"]
    assert await stay_states(client, order_id) == [AccomStatus.CHECKED_IN]
    journal = devices.terminal.journal()
    assert [e.event for e in journal] == ["requested", "declined", "requested", "approved"]
    (bill,) = await kiosk_bills(client, order_id)
    assert bill.amount == Decimal("676.00")
    assert report.result.payments[0] in bill.remark  # the terminal's reference on the folio


async def test_deposit_is_held_where_the_property_asks(
    client: PmsClient, devices: Any, payment_log: PaymentLog, sim_clock: SimClock,
    values: dict, demo: dict,
) -> None:  # fmt: skip
    settings = FAST.model_copy(update={"deposit": Decimal("300"), "max_cards_per_room": 1})
    journey = make_journey(client, devices, payment_log, sim_clock, settings)
    await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(),
         {"on": "payment", "pay": "approve"}, {"on": "payment", "pay": "approve"}],
        outcome="checked_in", cards=1, payments=2,
    )  # fmt: skip
    kinds = [(e.kind, e.amount) for e in devices.terminal.journal() if e.event == "approved"]
    assert kinds == [(Kind.SALE, Decimal("676.00")), (Kind.PREAUTH, Decimal("300"))]
    # Only the sale is on the folio; a hold is not a payment.
    (bill,) = await kiosk_bills(client, demo["balance_due"]["order_id"])
    assert bill.amount == Decimal("676.00")


async def test_unassigned_room_gets_a_clean_free_room(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient
) -> None:
    await play(
        journey,
        values,
        [*start("unassigned_room"), {"tap": "continue"}, *register(),
         {"on": "room", "tap": "#0"}, {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1, steps_include=["room"],
    )  # fmt: skip
    order_id = demo["unassigned_room"]["order_id"]
    assert await stay_states(client, order_id) == [AccomStatus.CHECKED_IN]
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    assert detail.accom_list[0].room_name in ("501", "502", "503")


async def test_dirty_room_is_replaced_by_a_clean_one(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient
) -> None:
    await play(
        journey,
        values,
        [*start("dirty_room"), {"tap": "continue"}, *register(),
         {"on": "room", "tap": "#0"}, {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1,
    )  # fmt: skip
    detail = await client.get_accom_detail(
        AccomDetailRequest(order_id=demo["dirty_room"]["order_id"])
    )
    assert detail.accom_list[0].room_name == "205"  # 204 is dirty; 205 is the only free King


# --- cards -------------------------------------------------------------------------------------


async def test_a_card_failing_verification_goes_to_the_reject_bin_and_the_next_one_works(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    report = await play(
        journey,
        values,
        [*start("prepaid"), {"tap": "continue"},
         {"card_fault": "verify_mismatch"}, {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1, rejected_cards=1,
    )  # fmt: skip
    path: SimCardPath = devices.dispenser
    assert path.inner.rejected == 1 and path.inner.stock == 98  # two fed, one in the bin
    # Only the card that works is on record: the bad one never reached record_key.
    assert await cards_on_record(client, demo["prepaid"]["order_id"]) == list(report.result.cards)


async def test_a_card_leaving_the_field_while_written_is_rejected_too(
    journey: CheckinJourney, values: dict, devices: Any
) -> None:
    await play(
        journey,
        values,
        [*start("prepaid"), {"tap": "continue"},
         {"card_fault": "removed"}, {"card_fault": "verify_mismatch"}, {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1, rejected_cards=2,
    )  # fmt: skip


async def test_a_card_that_keeps_nothing_is_caught_by_the_fresh_read_alone(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """The encoder's own write check passes; only the issuer's read-back comparison sees
    that the card went back to blank: it is captured and the next card works."""
    caplog.set_level(logging.WARNING, logger="kiosk.journeys.keys")
    report = await play(
        journey,
        values,
        [*start("prepaid"), {"tap": "continue"},
         {"card_fault": "reverts"}, {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1, rejected_cards=1,
    )  # fmt: skip
    messages = [r.getMessage() for r in caplog.records]
    assert "card read back differs from what was written" in messages
    assert not any(m.startswith("encoding a card failed") for m in messages)
    assert devices.dispenser.inner.rejected == 1
    assert await cards_on_record(client, demo["prepaid"]["order_id"]) == list(report.result.cards)


async def test_no_working_card_after_payment_voids_it_and_undoes_the_check_in(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    """refused:card_failed after the money: every card fails (the last one only on the
    fresh read), the sale is voided, the check-in revoked, nothing reaches the folio."""
    report = await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(), {"pay": "approve"},
         {"card_fault": "verify_mismatch"}, {"card_fault": "removed"}, {"card_fault": "reverts"},
         {"on": "keys", "tap": "1"}, {"on": "refusal", "tap": "finish"}],
        outcome="refused:card_failed", payments=1, voided=1, cards=0,
        rejected_cards=FAST.card_attempts,
    )  # fmt: skip
    assert "refusal: refusal.card_failed.title / refusal.card_failed.message" in report.transcript
    (reference,) = report.result.voided
    assert report.result.payments == (reference,)
    assert devices.terminal.status(reference).outcome is Outcome.VOIDED
    order_id = demo["balance_due"]["order_id"]
    assert await kiosk_bills(client, order_id) == []
    assert await cards_on_record(client, order_id) == []
    assert await stay_states(client, order_id) == [AccomStatus.BOOKED]  # check-in revoked


async def test_card_stock_empty_before_payment_takes_no_money(
    client: PmsClient, payment_log: PaymentLog, sim_clock: SimClock, tmp_path: Path,
    values: dict, demo: dict,
) -> None:  # fmt: skip
    devices = simulated_devices(tmp_path, card_stock=0)
    journey = make_journey(client, devices, payment_log, sim_clock)
    await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(),
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:card_stock_empty", payments=0, steps_include=["refusal"],
    )  # fmt: skip
    assert sales(devices.terminal) == []
    assert await stay_states(client, demo["balance_due"]["order_id"]) == [AccomStatus.BOOKED]


async def test_card_stock_running_out_after_payment_voids_it(
    client: PmsClient, payment_log: PaymentLog, sim_clock: SimClock, tmp_path: Path,
    values: dict, demo: dict,
) -> None:  # fmt: skip
    devices = simulated_devices(tmp_path, card_stock=1)
    journey = make_journey(client, devices, payment_log, sim_clock)
    report = await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(), {"pay": "approve"},
         {"card_fault": "verify_mismatch"}, {"on": "keys", "tap": "1"},
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:card_stock_empty", payments=1, voided=1, cards=0, rejected_cards=1,
    )  # fmt: skip
    (reference,) = report.result.voided
    assert devices.terminal.status(reference).outcome is Outcome.VOIDED
    assert payment_log.state(reference) == Outcome.VOIDED.value
    order_id = demo["balance_due"]["order_id"]
    assert await kiosk_bills(client, order_id) == []  # a voided payment never reaches the folio
    assert await cards_on_record(client, order_id) == []
    # No card came out: the check-in is revoked, nobody is shown in a room nobody can open.
    assert await stay_states(client, order_id) == [AccomStatus.BOOKED]


async def test_a_card_left_in_the_slot_is_captured_and_the_payment_voided(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    report = await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(), {"pay": "approve"},
         {"take_card": False}, {"on": "keys", "tap": "2"}],
        outcome="card_not_taken", payments=1, voided=1, cards=0, rejected_cards=1,
    )  # fmt: skip
    assert len(report.result.cards_not_taken) == 1  # the second card was never made
    assert devices.dispenser.inner.issued == 0
    assert await kiosk_bills(client, demo["balance_due"]["order_id"]) == []
    assert await stay_states(client, demo["balance_due"]["order_id"]) == [AccomStatus.BOOKED]


# --- receipt -----------------------------------------------------------------------------------


async def test_printer_out_of_paper_shows_the_receipt_on_screen(
    client: PmsClient, payment_log: PaymentLog, sim_clock: SimClock, tmp_path: Path,
    values: dict,
) -> None:  # fmt: skip
    devices = simulated_devices(tmp_path, printer_paper_rows=0)
    journey = make_journey(client, devices, payment_log, sim_clock)
    report = await play(
        journey,
        values,
        [*start("prepaid"), {"tap": "continue"}, {"tap": "1"}],
        outcome="checked_in", cards=1, receipt="on_screen",
    )  # fmt: skip
    assert "receipt: receipt.title / receipt.on_screen" in report.transcript
    assert devices.printer.printed == []


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tomorrow", "wrong_day"),
        ("cancelled", "cancelled"),
        ("already_checked_in", "already_checked_in"),
    ],
)
async def test_bookings_that_cannot_check_in_today(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, case: str, reason: str
) -> None:
    before = await stay_states(client, demo[case]["order_id"])
    report = await play(
        journey,
        values,
        [*start(case), {"on": "refusal", "tap": "finish"}],
        outcome=f"refused:{reason}",
    )
    assert f"refusal: refusal.{reason}.title / refusal.{reason}.message" in report.transcript
    assert Step.SUMMARY not in report.result.steps
    assert await stay_states(client, demo[case]["order_id"]) == before


async def test_malformed_code_then_a_good_one(journey: CheckinJourney, values: dict) -> None:
    await play(
        journey,
        values,
        [*start("prepaid")[:2], {"on": "scan", "scan": "https://evil.example/?v=1&t=pms"},
         {"on": "refusal", "tap": "try_again"}, {"on": "scan", "scan": "@prepaid"},
         {"on": "summary", "tap": "continue"}, {"tap": "1"}],
        outcome="checked_in", cards=1,
    )  # fmt: skip


async def test_malformed_code_refused(journey: CheckinJourney, values: dict) -> None:
    await play(
        journey,
        values,
        [*start("prepaid")[:2], {"scan": "{not json"}, {"on": "refusal", "tap": "finish"}],
        outcome="refused:malformed_code",
    )  # fmt: skip


async def test_unknown_order_is_refused(journey: CheckinJourney, values: dict) -> None:
    unknown = encode_payload(PmsOrderRef(987654), signing_key=SIGNING_KEY)
    await play(
        journey,
        values,
        [*start("prepaid")[:2], {"scan": unknown}, {"on": "refusal", "tap": "finish"}],
        outcome="refused:unknown_code",
    )  # fmt: skip


async def test_unsigned_code_asks_the_second_factor(journey: CheckinJourney, values: dict) -> None:
    await play(
        journey,
        values,
        [*start("unsigned_qr"), {"on": "identity", "type": "0000"},
         {"on": "identity", "type": "@unsigned_qr.phone_last4"},
         {"on": "summary", "tap": "continue"}, *register(), {"tap": "1"}],
        outcome="checked_in", cards=1,
    )  # fmt: skip


async def test_second_factor_wrong_three_times_is_refused(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient
) -> None:
    wrong = "0000" if values["unsigned_qr.phone_last4"] != "0000" else "1111"
    report = await play(
        journey,
        values,
        [*start("unsigned_qr"), *[{"on": "identity", "type": wrong}] * 3,
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:second_factor_failed",
    )  # fmt: skip
    assert Step.SUMMARY not in report.result.steps  # nothing of the booking was shown
    assert await stay_states(client, demo["unsigned_qr"]["order_id"]) == [AccomStatus.BOOKED]


async def test_wrong_second_factors_add_up_over_runs_and_lock_the_booking(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, sim_clock: SimClock,
    payment_log: PaymentLog, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """3 wrong in one run, 2 in the next: the 5th locks the booking at this kiosk; then even
    the right answer is refused without being asked, until the lock ends."""
    caplog.set_level(logging.INFO)
    right = values["unsigned_qr.phone_last4"]
    wrong = "0000" if right != "0000" else "1111"
    attempts = FAST.second_factor_attempts
    assert (attempts, FAST.second_factor_lock_after) == (3, 5)
    await play(
        journey, values,
        [*start("unsigned_qr"), *[{"on": "identity", "type": wrong}] * 3,
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:second_factor_failed",
    )  # fmt: skip
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    answers = iter([Action(ActionKind.CHOOSE, "start"), Action(ActionKind.LANGUAGE, "en"),
                    Action(ActionKind.QR, values["unsigned_qr"])])  # fmt: skip
    view = await answer_until(channel, answers, Step.IDENTITY)
    assert view.params["attempts_left"] == 2  # what is left before the lock, not of this run
    await channel.actions.put(Action(ActionKind.TEXT, wrong))
    view = await answer_until(channel, answers, Step.IDENTITY)
    assert view.params["attempts_left"] == 1
    await channel.actions.put(Action(ActionKind.TEXT, wrong))
    view = await answer_until(channel, answers, Step.REFUSAL)
    assert view.title == "refusal.second_factor_locked.title"
    await channel.actions.put(Action(ActionKind.CHOOSE, "finish"))
    assert (await run).outcome == "refused:second_factor_locked"

    locked = [*start("unsigned_qr"), {"on": "refusal", "tap": "finish"}]
    report = await play(journey, values, locked, outcome="refused:second_factor_locked")
    assert Step.IDENTITY not in report.result.steps and Step.SUMMARY not in report.result.steps
    # Staff are told: the audit table and a log line, neither with guest data.
    order_id = demo["unsigned_qr"]["order_id"]
    (audit,) = payment_log.db.query("SELECT action, detail FROM audit")
    assert audit["action"] == "second_factor locked" and str(order_id) in audit["detail"]
    assert f"for booking {order_id}: locked at this kiosk until" in caplog.text
    for secret in (right, demo["unsigned_qr"]["second_factor"]["surname"]):
        assert secret not in caplog.text and secret not in audit["detail"]

    sim_clock.now += timedelta(seconds=FAST.second_factor_lock_s)  # the lock ends
    await play(
        journey, values,
        [*start("unsigned_qr"), {"on": "identity", "type": right},
         {"on": "summary", "cancel": True}],
        outcome="cancelled_by_guest",
    )  # fmt: skip
    assert await stay_states(client, order_id) == [AccomStatus.BOOKED]


async def test_typed_reference_is_treated_like_an_unsigned_code(
    journey: CheckinJourney, values: dict, demo: dict
) -> None:
    await play(
        journey,
        values,
        [*start("prepaid")[:2], {"on": "scan", "tap": "type_reference"},
         {"on": "type_reference", "type": str(demo["prepaid"]["order_id"])},
         {"on": "identity", "type": "@prepaid.phone_last4"}, {"on": "summary", "cancel": True}],
        outcome="cancelled_by_guest", steps_include=["type_reference", "identity"],
    )  # fmt: skip


# --- payments ----------------------------------------------------------------------------------


async def test_a_payment_whose_outcome_stays_unknown_is_left_open_and_resolved_later(
    client: PmsClient, devices: Any, payment_log: PaymentLog, sim_clock: SimClock,
    values: dict, demo: dict,
) -> None:  # fmt: skip
    """refused:payment_unresolved: the terminal approves, then its link drops for longer
    than the journey may ask for the status. No check-in, no card, nothing on the folio;
    the payment stays open in the log until start-up resolves it (void: no key was made)."""
    settings = FAST.model_copy(
        update={"payment_status_interval_s": 0.05, "payment_status_deadline_s": 0.3}
    )
    journey = make_journey(client, devices, payment_log, sim_clock, settings)
    devices.terminal.queue(Scenario.link_drop(offline_s=1.5))
    report = await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(), {"on": "payment", "tap": "pay"},
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:payment_unresolved", payments=0, cards=0,
    )  # fmt: skip
    (reference,) = report.result.unresolved
    assert payment_log.state(reference) == Outcome.IN_PROGRESS.value
    order_id = demo["balance_due"]["order_id"]
    assert await stay_states(client, order_id) == [AccomStatus.BOOKED]
    assert await kiosk_bills(client, order_id) == []
    assert devices.dispenser.inner.issued == 0

    await asyncio.sleep(1.5)  # the terminal's link is back
    resolved = await resolve_unsettled(payment_log, devices.terminal, journey.backend)
    assert len(resolved) == 1 and reference in resolved[0]
    assert devices.terminal.status(reference).outcome is Outcome.VOIDED
    assert payment_log.state(reference) == Outcome.VOIDED.value
    assert await kiosk_bills(client, order_id) == []


async def test_payment_timeout_then_status_approved_charges_once(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    report = await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(),
         {"pay": "timeout_then_approve"}, {"tap": "1"}],
        outcome="checked_in", cards=1, payments=1,
    )  # fmt: skip
    assert len(sales(devices.terminal)) == 1  # asked for the status, never charged again
    (bill,) = await kiosk_bills(client, demo["balance_due"]["order_id"])
    assert report.result.payments[0] in bill.remark


async def test_link_dropping_during_the_payment_is_resolved_by_status(
    journey: CheckinJourney, values: dict, devices: Any
) -> None:
    await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(), {"pay": "link_drop"},
         {"tap": "1"}],
        outcome="checked_in", cards=1, payments=1,
    )  # fmt: skip
    assert len(sales(devices.terminal)) == 1


async def test_declined_three_times_sends_the_guest_to_the_front_desk(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(),
         {"pay": "decline"}, {"pay": "decline"}, {"pay": "decline"},
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:payment_declined", payments=0,
    )  # fmt: skip
    assert len(sales(devices.terminal)) == 3  # a new reference for each attempt
    assert await stay_states(client, demo["balance_due"]["order_id"]) == [AccomStatus.BOOKED]


async def test_front_desk_after_a_decline(journey: CheckinJourney, values: dict) -> None:
    await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(), {"pay": "decline"},
         {"on": "payment", "tap": "front_desk"}],
        outcome="refused:payment_declined", payments=0,
    )  # fmt: skip


async def test_back_end_down_after_payment_the_guest_still_gets_a_key(
    client: PmsClient, devices: Any, payment_log: PaymentLog, sim_clock: SimClock,
    sim_server: SimServer, values: dict, demo: dict,
) -> None:  # fmt: skip
    journey = make_journey(client, devices, payment_log, sim_clock)
    real_charge = Payments.charge

    async def charge_then_outage(self: Payments, *args: Any) -> Any:
        result = await real_charge(self, *args)
        sim_server.faults.failure_rate = 1.0  # the property's server goes down right after
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Payments, "charge", charge_then_outage)
        # The registration and the check-in are queued in the outbox (the registration is
        # written with the check-in, after the payment); the PMS would refuse the key's
        # payload of a stay not in yet, so the kiosk composes it; the folio entry is queued too.
        report = await play(
            journey,
            values,
            [*start("balance_due"), {"tap": "continue"}, *register(), {"pay": "approve"},
             {"on": "keys", "tap": "1"}, {"on": "receipt", "tap": "continue"},
             {"on": "done", "tap": "finish"}],
            outcome="checked_in", payments=1, voided=0, cards=1,
        )  # fmt: skip
    (reference,) = report.result.payments
    assert devices.terminal.status(reference).outcome is Outcome.APPROVED
    order_id = demo["balance_due"]["order_id"]
    outbox = durable_outbox(payment_log.db.path.parent, pms=client, db=payment_log.db)
    queued = ["updateAccomTenant", "checkIn", "addAccomCard", "cashier"]
    assert [e.operation for e in outbox.entries()] == queued
    # The back-end comes back: the relay delivers them once each, in the journey's order.
    sim_server.faults.failure_rate = 0.0
    assert await outbox.drain(deadline_s=10)
    assert [e.operation for e in outbox.entries(("delivered",))] == queued
    assert await stay_states(client, order_id) == [AccomStatus.CHECKED_IN]
    assert [b.amount for b in await kiosk_bills(client, order_id)] == [Decimal("676.00")]
    assert payment_log.state(reference) == "recorded"


# --- leaving -----------------------------------------------------------------------------------


async def test_timeout_on_a_screen_ends_the_run_and_writes_nothing(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient
) -> None:
    report = await play(
        journey,
        values,
        [*start("balance_due"), {"on": "summary", "timeout": True}],
        outcome="timed_out",
    )
    assert report.result.steps[-1] is Step.SUMMARY
    assert await stay_states(client, demo["balance_due"]["order_id"]) == [AccomStatus.BOOKED]


async def test_the_journey_times_out_on_its_own_when_no_one_answers(
    client: PmsClient, devices: Any, payment_log: PaymentLog, sim_clock: SimClock,
    values: dict,
) -> None:  # fmt: skip
    settings = FAST.model_copy(update={"view_timeout_s": 0.05, "timeout_grace_s": 0.05})
    journey = make_journey(client, devices, payment_log, sim_clock, settings)
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    assert (await channel.views.get()).step is Step.ATTRACT
    await channel.actions.put(Action(ActionKind.QR, values["prepaid"]))  # scanned on attract
    result = await asyncio.wait_for(run, 5)  # the summary is left unanswered
    assert result.outcome == "timed_out"
    # A scan on the attract screen skips the language screen.
    assert result.steps == (Step.ATTRACT, Step.BUSY, Step.SUMMARY)


async def test_cancel_at_the_payment_takes_nothing(
    journey: CheckinJourney, values: dict, devices: Any
) -> None:
    await play(
        journey,
        values,
        [*start("balance_due"), {"tap": "continue"}, *register(),
         {"on": "payment", "tap": "cancel"}],
        outcome="cancelled_by_guest", payments=0,
    )  # fmt: skip
    assert sales(devices.terminal) == []


async def test_each_run_starts_fresh_and_keeps_no_guest_data(
    journey: CheckinJourney, values: dict
) -> None:
    await play(journey, values, [*start("prepaid"), {"on": "summary", "cancel": True}],
               outcome="cancelled_by_guest")  # fmt: skip
    gc.collect()
    # type(), not isinstance(): a dead weak proxy (Kivy leaves some) raises on isinstance.
    assert not [o for o in gc.get_objects() if type(o) is checkin._Run]
    # The same journey object serves the next guest from the attract screen.
    report = await play(journey, values, [*start("cancelled"), {"tap": "finish"}],
                        outcome="refused:cancelled")  # fmt: skip
    assert report.result.steps[0] is Step.ATTRACT


# --- the script runner's errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "error"),
    [
        ([{"tap": "begin"}], "no choice 'begin' on the attract screen"),
        ([{"on": "summary", "tap": "start"}], "expected the summary screen"),
        ([{"tap": "start"}, {"language": "en"}, {"scan": "@nobody"}], "no value '@nobody'"),
    ],
)
async def test_a_script_that_does_not_fit_the_screens_stops_with_an_error(
    journey: CheckinJourney, values: dict, actions: list[dict], error: str
) -> None:
    script = GuestScript.model_validate(
        {"name": "bad", "actions": actions, "expect": {"outcome": "checked_in"}}
    )
    with pytest.raises(ScriptError, match=re.escape(error)):
        await run_script(journey, script, values)


async def test_an_unmet_expectation_is_reported(journey: CheckinJourney, values: dict) -> None:
    script = GuestScript.model_validate(
        {"name": "x", "actions": [*start("cancelled")],
         "expect": {"outcome": "checked_in", "steps_include": ["done"]}}
    )  # fmt: skip
    report = await run_script(journey, script, values)
    assert report.result.outcome == "refused:cancelled"  # the script ran out: timeout on refusal
    assert report.failures == [
        "outcome: expected checked_in, got refused:cancelled",
        "steps not shown: ['done']",
    ]
    assert report.transcript[-1] == "(script ended: the guest walks away)"


async def test_a_run_stopped_after_payment_voids_it(
    journey: CheckinJourney, values: dict, devices: Any
) -> None:
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    await answer_until(channel, by_hand(values["balance_due"], ("pay",)), Step.KEYS)
    run.cancel()  # the kiosk is taken out of service while the guest chooses the cards
    with pytest.raises(asyncio.CancelledError):
        await run
    assert [e.event for e in devices.terminal.journal()] == ["requested", "approved", "voided"]


async def test_nothing_assignable_when_every_room_of_the_type_is_dirty(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, sim_server: SimServer
) -> None:
    with sim_server.db.transaction() as conn:
        suites = conn.execute(
            "SELECT room_id FROM pms_room WHERE name IN ('501', '502', '503')"
        ).fetchall()
        for row in suites:
            set_dirty(conn, row["room_id"], True)
    await play(
        journey,
        values,
        [*start("unassigned_room"), {"tap": "continue"}, *register(),
         {"on": "refusal", "tap": "finish"}],
        outcome="refused:nothing_assignable", payments=0,
    )  # fmt: skip
    order_id = demo["unassigned_room"]["order_id"]
    assert await stay_states(client, order_id) == [AccomStatus.BOOKED]


async def test_back_end_unreachable_at_lookup(
    journey: CheckinJourney, values: dict, sim_server: SimServer
) -> None:
    sim_server.faults.failure_rate = 1.0
    report = await play(
        journey,
        values,
        [*start("prepaid"), {"on": "refusal", "tap": "finish"}],
        outcome="refused:backend_unreachable",
    )
    sim_server.faults.failure_rate = 0.0
    assert "refusal: refusal.backend_unreachable.title / refusal.backend_unreachable.message" in (
        report.transcript
    )


async def test_no_guest_data_or_token_in_the_logs(
    journey: CheckinJourney, values: dict, demo: dict, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await play(
        journey,
        values,
        [*start("unsigned_qr"), {"type": "0000"}, {"type": "@unsigned_qr.phone_last4"},
         {"tap": "continue"}, *register("Zed Quux", "X98765432"), {"tap": "1"}],
        outcome="checked_in",
    )  # fmt: skip
    text = caplog.text
    assert "check-in ended: checked_in" in text  # the journey does log
    second = demo["unsigned_qr"]["second_factor"]
    for secret in ("Zed Quux", "X98765432", second["surname"], second["phone_last4"], SIM_TOKEN):
        assert secret not in text
    assert values["unsigned_qr"] not in text  # the scanned payload
