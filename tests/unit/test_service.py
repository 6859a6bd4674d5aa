"""The kiosk in service: the camera's codes reach the journey, staff take it out of service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hardware.health import HealthLevel
from kiosk.demo import demo_config
from kiosk.journeys.messages import ActionKind, Channel, Step
from kiosk.runtime import Runtime, start_runtime
from kiosk.service import GuestService, Scanner

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await start_runtime(demo_config(tmp_path))
    await runtime.start_background()  # as ``kiosk run`` does before the first guest
    yield runtime
    await runtime.aclose()


async def next_view(channel: Channel, step: Step):
    while True:
        view = await asyncio.wait_for(channel.views.get(), 10)
        if view.step is step:
            return view


async def test_a_code_held_to_the_camera_reaches_the_journey_once(runtime: Runtime) -> None:
    channel = Channel()
    scanner = Scanner(runtime.config.devices.camera, channel)
    scanner.start()
    try:
        scanner.pipeline.source.show('{"v":1,"t":"pms","order":1}')  # type: ignore[attr-defined]
        action = await asyncio.wait_for(channel.actions.get(), 10)
        assert (action.kind, action.value) == (ActionKind.QR, '{"v":1,"t":"pms","order":1}')
        await asyncio.sleep(0.5)  # still in view: debounced, not posted again
        assert channel.actions.empty()
        assert scanner.preview() is not None
    finally:
        scanner.stop()


async def test_staff_take_the_kiosk_out_of_service_and_back(runtime: Runtime) -> None:
    channel = Channel()
    service = GuestService(runtime.journey, channel, runtime.health_sources())
    serving = asyncio.create_task(service.serve())
    try:
        await next_view(channel, Step.ATTRACT)
        service.set_out_of_service(True)
        await next_view(channel, Step.OUT_OF_SERVICE)
        assert not service.in_service
        service.set_out_of_service(False)
        await next_view(channel, Step.ATTRACT)
        assert service.results == ["cancelled_by_guest"]  # the idle run that staff ended
        # The back-end (and its outbox), then the terminal, dispenser, encoder, printer and
        # audio, the reject bin (no live card in it) and the lost keys (none reported): all
        # simulated, all well.
        health = service.health()
        assert len(health) == 8 and all(h.level is HealthLevel.OK for h in health), health
        assert [h.device for h in health[-2:]] == ["reject_bin", "lost_keys"]
        assert (health[0].device, health[0].detail) == ("backend", "online, 0 queued")
    finally:
        serving.cancel()
