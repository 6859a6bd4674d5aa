"""What a scanned code earns in the journey (issue 10): the real journey over the PMS
simulator on loopback, driven view by view so any text can be scanned.

Only a code signed with this property's key skips the second factor; one signed with
another key is refused as altered, and a malformed code of any kind ends in the
"code not recognised" refusal with a retry, never in a failed run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kiosk.api.pms import PmsClient
from kiosk.demo.devices import simulated_devices
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.result import JourneyResult
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests import journey_kit as kit
from tests.conftest import SIM_TOKEN, SimClock

pytestmark = pytest.mark.timeout(60)

PROPERTY_KEY = b"qr-trust-test-property-key"
OTHER_KEY = b"qr-trust-test-another-property"


@pytest.fixture
def booking(sim_server: SimServer) -> PmsOrderRef:
    """A booking that would check in at once: prepaid, room ready, arriving today."""
    prepaid = next(a for a in seed_demo(sim_server, seed=1)["arrivals"] if a["case"] == "prepaid")
    return PmsOrderRef(prepaid["order_id"], prepaid["order_no"])


@pytest.fixture
async def journey(
    sim_server: SimServer, sim_clock: SimClock, tmp_path: Path
) -> AsyncIterator[CheckinJourney]:
    devices = simulated_devices(tmp_path, terminal_response_timeout_s=0.05)
    log = PaymentLog(kit.state_db(tmp_path / "state"))
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01) as client:
        yield kit.pms_journey(
            client, devices, kit.FAST, log, signing_key=PROPERTY_KEY, now=sim_clock
        )
    devices.terminal.close()
    log.db.close()


async def scan(journey: CheckinJourney, payload: str) -> tuple[list[View], JourneyResult]:
    """A guest who scans ``payload`` and leaves at the first screen that decides anything:
    the refusal (start over), the second factor or the booking's summary (cancel)."""
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    answers = {
        Step.ATTRACT: Action(ActionKind.CHOOSE, "start"),
        Step.LANGUAGE: Action(ActionKind.LANGUAGE, "en"),
        Step.SCAN: Action(ActionKind.QR, payload),
        Step.REFUSAL: Action(ActionKind.CHOOSE, "finish"),
        Step.IDENTITY: Action(ActionKind.CANCEL),
        Step.SUMMARY: Action(ActionKind.CANCEL),
    }
    views: list[View] = []
    while not views or views[-1].step not in (Step.REFUSAL, Step.IDENTITY, Step.SUMMARY):
        views.append(await asyncio.wait_for(channel.views.get(), 10))
        if views[-1].step in answers:
            await channel.actions.put(answers[views[-1].step])
    return views, await asyncio.wait_for(run, 10)


@pytest.mark.parametrize("carrier", ["json", "url"])
async def test_only_the_property_key_skips_the_second_factor(
    journey: CheckinJourney, booking: PmsOrderRef, carrier: str
) -> None:
    base = "https://hotel.example/checkin" if carrier == "url" else None

    def code(key: bytes | None) -> str:
        return encode_payload(booking, signing_key=key, url_base=base)

    views, result = await scan(journey, code(PROPERTY_KEY))
    assert views[-1].step is Step.SUMMARY and Step.IDENTITY not in result.steps

    views, result = await scan(journey, code(None))
    assert views[-1].step is Step.IDENTITY and Step.SUMMARY not in result.steps

    # Another property's key, or a key that the signature ignored, must not open it.
    views, result = await scan(journey, code(OTHER_KEY))
    assert views[-1].title == "refusal.malformed_code.title"
    assert result.outcome == "refused:malformed_code"
    assert Step.SUMMARY not in result.steps


HOSTILE_CODES = [
    pytest.param("https://hotel.example/c?v=1&t=pms&order=\u00b2", id="superscript-digit"),
    pytest.param("https://hotel.example/c?v=1&t=pms&order=\uff14\uff12", id="fullwidth-digits"),
    pytest.param('{"v":1,"t":["pms"],"order":1}', id="t-list"),
    pytest.param('{"v":1,"t":{"pms":1},"order":1}', id="t-object"),
    pytest.param("https://hotel.example\uff0fc?v=1&t=pms&order=1", id="fullwidth-slash-host"),
    pytest.param('{"v":1,"t":"pms","order":1,"no":"\ud800"}', id="lone-surrogate"),
    pytest.param('{"v":1,"t":"pms","order":1,"order":2}', id="repeated-key"),
    pytest.param('{"v":1,"t":"pms","order":' + "[" * 50_000 + "]" * 50_000 + "}",
                 id="deep-nesting"),
]  # fmt: skip


@pytest.mark.parametrize("payload", HOSTILE_CODES)
async def test_a_malformed_code_gets_the_code_not_recognised_refusal(
    journey: CheckinJourney, payload: str
) -> None:
    journey.qr_max_length = 200_000  # raised by an operator: deep nesting fits
    views, result = await scan(journey, payload)
    refusal = views[-1]
    assert refusal.title == "refusal.malformed_code.title"
    assert [choice.id for choice in refusal.choices] == ["try_again", "finish"]
    assert result.outcome == "refused:malformed_code"
    assert Step.SUMMARY not in result.steps


@pytest.mark.parametrize("spelling", ["superscript", "fullwidth", "past_int_limit"])
async def test_a_typed_reference_in_other_digits_is_not_found_rather_than_failing(
    journey: CheckinJourney, booking: PmsOrderRef, spelling: str
) -> None:
    # The booking's own id in fullwidth digits would name it: it must not.
    typed = {
        "superscript": "\u00b2",
        "fullwidth": str(booking.order_id).translate(
            {ord(d): 0xFF10 + int(d) for d in "0123456789"}
        ),
        "past_int_limit": "9" * 5000,
    }[spelling]
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    answers = iter(
        [
            Action(ActionKind.CHOOSE, "start"),
            Action(ActionKind.LANGUAGE, "en"),
            Action(ActionKind.CHOOSE, "type_reference"),
            Action(ActionKind.TEXT, typed),
            Action(ActionKind.CHOOSE, "finish"),
        ]
    )
    while (view := await asyncio.wait_for(channel.views.get(), 10)).step is not Step.REFUSAL:
        if view.choices or view.input:
            await channel.actions.put(next(answers))
    assert view.title == "refusal.unknown_code.title"
    await channel.actions.put(next(answers))
    assert (await asyncio.wait_for(run, 10)).outcome == "refused:unknown_code"
