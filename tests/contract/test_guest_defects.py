"""Defects guests met that the other journey tests did not cover (issue 12, Deliver 6), each
played by a scripted guest against the property simulator over loopback and the simulated
devices; the simulator's own state is checked afterwards."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest

from hardware.card_encoder.layout import CardLayout, data_units
from hardware.health import HealthLevel
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import AccomDetailRequest, AccomStatus
from kiosk.journeys.checkin import UNERASED_CARD, CheckinJourney
from kiosk.journeys.messages import Action, ActionKind, Channel, Step
from tests.conftest import SimClock
from tests.contract import test_journey_checkin as base
from tests.contract.test_journey_checkin import FAST, play, register, start, stay_states

# The check-in tests' fixtures: the demo property, its QR codes, the journey (the client,
# the devices and the payment log are every contract test's, in conftest.py).
demo, values, journey = base.demo, base.values, base.journey

pytestmark = pytest.mark.timeout(60)

PINS = FAST.model_copy(update={"door_pins": True, "max_cards_per_room": 1})


# --- the day of arrival --------------------------------------------------------------------


async def test_an_arrival_after_midnight_checks_in_until_the_departure_time(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, sim_clock: SimClock
) -> None:
    # The demo's stays run 14:00 -> 12:00 the next day (Shanghai); 01:30 the next morning
    # the property's own check-in still takes the guest.
    sim_clock.now += timedelta(hours=11, minutes=30)
    await play(
        journey,
        values,
        [*start("prepaid"), {"on": "summary", "tap": "continue"},
         {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1,
    )  # fmt: skip
    assert await stay_states(client, demo["prepaid"]["order_id"]) == [AccomStatus.CHECKED_IN]


async def test_after_the_departure_time_the_stay_is_over(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, sim_clock: SimClock
) -> None:
    sim_clock.now += timedelta(hours=22, minutes=1)  # 12:01 the next day
    await play(
        journey,
        values,
        [*start("prepaid"), {"on": "refusal", "tap": "finish"}],
        outcome="refused:wrong_day",
    )
    assert await stay_states(client, demo["prepaid"]["order_id"]) == [AccomStatus.BOOKED]


# --- language ------------------------------------------------------------------------------


async def test_a_language_move_on_any_screen_plays_on(
    journey: CheckinJourney, values: dict
) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    report = await play(
        journey,
        values,
        [*start("prepaid"), {"on": "summary", "language": "zh_Hant"},
         {"on": "summary", "tap": "continue"}, {"on": "keys", "language": "zh_Hans"},
         {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1,
    )  # fmt: skip
    assert report.result.language == "zh_Hans"
    # Not a timeout in disguise: the summary screen waited for no inactivity timer.
    assert loop.time() - began < FAST.view_timeout_s


async def test_every_view_carries_the_guest_s_language(
    journey: CheckinJourney, values: dict
) -> None:
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    attract = await asyncio.wait_for(channel.views.get(), 10)
    assert attract.language == "en"
    await channel.actions.put(Action(ActionKind.CHOOSE, "start"))
    assert (await asyncio.wait_for(channel.views.get(), 10)).step is Step.LANGUAGE
    await channel.actions.put(Action(ActionKind.LANGUAGE, "zh_Hant"))
    scan = await asyncio.wait_for(channel.views.get(), 10)
    assert (scan.step, scan.language) == (Step.SCAN, "zh_Hant")
    await channel.actions.put(Action(ActionKind.LANGUAGE, "zh_Hans"))  # switched on the scan
    await channel.actions.put(Action(ActionKind.QR, values["prepaid"]))
    while not (later := await asyncio.wait_for(channel.views.get(), 10)).choices:
        assert later.language == "zh_Hans"  # busy
    assert (later.step, later.language) == (Step.SUMMARY, "zh_Hans")
    await channel.actions.put(Action(ActionKind.CANCEL))
    assert (await run).outcome == "cancelled_by_guest"


# --- payment -------------------------------------------------------------------------------


async def test_a_payment_cancelled_at_the_terminal_offers_retry_and_cancel(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    report = await play(
        journey,
        values,
        [*start("balance_due"), {"on": "summary", "tap": "continue"}, *register(),
         {"on": "payment", "pay": "guest_cancel"}, {"on": "payment", "pay": "approve"},
         {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1, payments=1,
    )  # fmt: skip
    assert "payment: payment.cancelled.title / payment.cancelled.message" in report.transcript
    assert not any("payment_declined" in line for line in report.transcript)
    events = [e.event for e in devices.terminal.journal()]
    assert events == ["requested", "cancelled", "requested", "approved"]


async def test_cancel_after_a_payment_cancelled_at_the_terminal_ends_the_check_in(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, devices: Any
) -> None:
    await play(
        journey,
        values,
        [*start("balance_due"), {"on": "summary", "tap": "continue"}, *register(),
         {"on": "payment", "pay": "guest_cancel"}, {"on": "payment", "tap": "cancel"}],
        outcome="cancelled_by_guest", payments=0,
    )  # fmt: skip
    assert await stay_states(client, demo["balance_due"]["order_id"]) == [AccomStatus.BOOKED]


async def test_cancels_at_the_terminal_are_not_declines(
    journey: CheckinJourney, values: dict, devices: Any
) -> None:
    cancels = [{"on": "payment", "pay": "guest_cancel"}] * (FAST.payment_attempts + 1)
    await play(
        journey,
        values,
        [*start("balance_due"), {"on": "summary", "tap": "continue"}, *register(), *cancels,
         {"on": "payment", "pay": "approve"}, {"on": "keys", "tap": "1"}],
        outcome="checked_in", payments=1,
    )  # fmt: skip


# --- rooms the kiosk assigns ---------------------------------------------------------------


@pytest.mark.parametrize(("case", "floor"), [("unassigned_room", 5), ("dirty_room", 2)])
async def test_a_room_the_kiosk_assigns_has_its_floor_directions_and_door_pin(
    client: PmsClient, devices: Any, payment_log: Any, sim_clock: SimClock, values: dict,
    case: str, floor: int,
) -> None:  # fmt: skip
    settings = PINS.model_copy(update={"directions": {floor: {"en": f"Lift to floor {floor}"}}})
    journey = base.make_journey(client, devices, payment_log, sim_clock, settings)
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    answers = base.by_hand(values[case], ("continue",))
    room = await base.answer_until(channel, answers, Step.ROOM)
    await channel.actions.put(Action(ActionKind.CHOOSE, room.choices[0].id))
    answers = iter([Action(ActionKind.CHOOSE, "continue")])  # the receipt
    done = await base.answer_until(channel, answers, Step.DONE)
    assert done.params["floor"] == str(floor)
    assert done.params["directions"] == f"Lift to floor {floor}"
    assert re.fullmatch(r"\d{4,12}", done.params["door_pin"])  # the room's lock takes PINs
    await channel.actions.put(Action(ActionKind.CHOOSE, "finish"))
    assert (await run).outcome == "checked_in"


# --- registration --------------------------------------------------------------------------


async def tenants(client: PmsClient, order_id: int) -> list[tuple[str, str]]:
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    return [(t.name, t.id_number) for a in detail.accom_list for t in a.tenant_list]


@pytest.mark.parametrize(
    ("leaves", "outcome"),
    [
        ([{"on": "payment", "tap": "cancel"}], "cancelled_by_guest"),
        ([{"on": "payment", "pay": "decline"}, {"on": "payment", "tap": "front_desk"}],
         "refused:payment_declined"),
        ([{"on": "payment", "timeout": True}], "timed_out"),
    ],
    ids=["cancel", "declined", "walks_away"],
)  # fmt: skip
async def test_a_guest_who_leaves_before_checking_in_leaves_the_booking_s_record_as_it_was(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient, payment_log: Any,
    leaves: list[dict], outcome: str,
) -> None:  # fmt: skip
    order_id = demo["balance_due"]["order_id"]
    before = await tenants(client, order_id)
    await play(
        journey,
        values,
        [*start("balance_due"), {"on": "summary", "tap": "continue"},
         *register("Someone Else", "X99999999"), *leaves],
        outcome=outcome,
    )  # fmt: skip
    assert await tenants(client, order_id) == before
    assert ("Someone Else", "X99999999") not in before
    # Nor is it waiting in the outbox to be written later.
    assert payment_log.db.query("SELECT * FROM outbox WHERE operation = 'updateAccomTenant'") == []


async def test_the_registration_is_written_with_the_check_in(
    journey: CheckinJourney, values: dict, demo: dict, client: PmsClient
) -> None:
    await play(
        journey,
        values,
        [*start("balance_due"), {"on": "summary", "tap": "continue"},
         *register("Someone Else", "X99999999"), {"on": "payment", "pay": "approve"},
         {"on": "keys", "tap": "1"}],
        outcome="checked_in",
    )  # fmt: skip
    assert await tenants(client, demo["balance_due"]["order_id"]) == [("Someone Else", "X99999999")]


# --- cards in the reject bin ---------------------------------------------------------------


def blank(chip: Any) -> bool:
    """Whether a captured card's data area holds nothing (no key for any door)."""
    return all(not any(chip.units[u]) for u in data_units(CardLayout(), chip.card_type))


def unerased_notices(payment_log: Any) -> list[str]:
    rows = payment_log.db.query("SELECT detail FROM audit WHERE action = ?", (UNERASED_CARD,))
    return [row["detail"] for row in rows]


async def test_a_card_left_in_the_slot_is_erased_before_it_drops_into_the_bin(
    journey: CheckinJourney, values: dict, devices: Any, payment_log: Any
) -> None:
    report = await play(
        journey,
        values,
        [*start("prepaid"), {"on": "summary", "tap": "continue"},
         {"take_card": False}, {"on": "keys", "tap": "1"}],
        outcome="card_not_taken", cards=0, rejected_cards=1,
    )  # fmt: skip
    (chip,) = devices.dispenser.reject_bin
    assert chip.uid.hex().upper() == report.result.cards_not_taken[0]
    assert blank(chip)
    assert report.result.unerased_cards == () and unerased_notices(payment_log) == []
    assert journey.reject_bin_health().level is HealthLevel.OK


async def test_a_card_that_failed_its_read_back_is_erased_too(
    journey: CheckinJourney, values: dict, devices: Any, payment_log: Any
) -> None:
    await play(
        journey,
        values,
        [*start("prepaid"), {"on": "summary", "tap": "continue"},
         {"card_fault": "reverts"}, {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1, rejected_cards=1,
    )  # fmt: skip
    (chip,) = devices.dispenser.reject_bin
    assert blank(chip) and unerased_notices(payment_log) == []


@pytest.mark.parametrize("fault", ["verify_mismatch", "removed"])
async def test_a_card_that_cannot_be_erased_is_reported_for_staff(
    journey: CheckinJourney, values: dict, devices: Any, payment_log: Any, fault: str,
    sim_clock: SimClock, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    report = await play(
        journey,
        values,
        [*start("prepaid"), {"on": "summary", "tap": "continue"},
         {"card_fault": fault}, {"on": "keys", "tap": "1"}],
        outcome="checked_in", cards=1, rejected_cards=1,
    )  # fmt: skip
    (notice,) = unerased_notices(payment_log)
    (uid,) = report.result.unerased_cards
    assert "reject bin" in notice and (uid in notice if uid else "UID unknown" in notice)
    assert any("unerased" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    # The operator's health shows it until the key has expired (the stay's departure).
    health = journey.reject_bin_health()
    assert (health.level, health.metrics) == (HealthLevel.WARNING, {"live_cards": 1})
    sim_clock.now += timedelta(days=1)
    assert journey.reject_bin_health().level is HealthLevel.OK
