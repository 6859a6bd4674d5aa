"""Stopping the kiosk (SIGTERM's path in ``kiosk run``) while a guest is mid-journey: the
journey settles its money first — the approved payment is voided at the terminal and the
check-in revoked — and only then do the devices and the state database close."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hardware.payment.protocol import Outcome
from kiosk.api.pms_types import AccomDetailRequest, AccomStatus
from kiosk.demo import DEMO_QR_KEY, demo_config
from kiosk.journeys.messages import Action, ActionKind, Channel, Step
from kiosk.runtime import start_runtime
from kiosk.service import GuestService
from kiosk.sim.demo import write_manifest

pytestmark = pytest.mark.timeout(60)

ANSWERS = {
    Step.ATTRACT: Action(ActionKind.CHOOSE, "start"),
    Step.LANGUAGE: Action(ActionKind.CHOOSE, "en"),
    Step.SUMMARY: Action(ActionKind.CHOOSE, "continue"),
    Step.PAYMENT: Action(ActionKind.CHOOSE, "pay"),
}
REGISTRATION = [
    Action(ActionKind.TEXT, "Wei Wang"),
    Action(ActionKind.CHOOSE, "passport"),
    Action(ActionKind.TEXT, "E12345678"),
]


async def test_sigterm_mid_journey_voids_the_payment_before_the_devices_close(
    tmp_path: Path,
) -> None:
    config = demo_config(tmp_path)
    runtime = await start_runtime(config)
    await runtime.start_background()
    manifest = write_manifest(tmp_path / "m.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode())
    arrival = next(a for a in manifest["arrivals"] if a["case"] == "balance_due")
    channel = Channel()
    service = GuestService(runtime.journey, channel, runtime.health_sources())
    serving = asyncio.create_task(service.serve())
    registration = list(REGISTRATION)
    try:
        async with asyncio.timeout(30):
            while True:
                view = await channel.views.get()
                if view.step is Step.KEYS:  # paid and checked in: the kiosk is told to stop
                    break
                if view.step is Step.SCAN:
                    await channel.actions.put(Action(ActionKind.QR, arrival["qr_payload"]))
                elif view.step is Step.REGISTER:
                    await channel.actions.put(registration.pop(0))
                elif view.step in ANSWERS and (view.choices or view.input):
                    await channel.actions.put(ANSWERS[view.step])
        approved = runtime.payment_log.records((Outcome.APPROVED.value,))
        assert len(approved) == 1
        reference = approved[0].reference
        await service.shutdown(grace_s=10)
        assert serving.done()
        # Settled by the journey itself, with the devices still open:
        assert runtime.payment_log.state(reference) == Outcome.VOIDED.value
        assert runtime.devices.terminal.status(reference).outcome is Outcome.VOIDED
        detail = await runtime.client.get_accom_detail(
            AccomDetailRequest(order_id=arrival["order_id"])
        )
        assert {a.accom_status for a in detail.accom_list} == {AccomStatus.BOOKED}
    finally:
        await runtime.aclose()  # as in kiosk run: the devices close after the journey
