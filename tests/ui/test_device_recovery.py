"""A kiosk started with its card dispenser missing: the out-of-order screen names what is
missing, and the kiosk returns to the attract screen by itself once the dispenser's
serial port appears (a real pty with the CRT-591 emulator behind it)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hardware.config import DevicesConfig
from hardware.dispenser.config import DispenserConfig
from kiosk.config import KioskConfig
from kiosk.journeys.messages import Step
from kiosk.runtime import start_runtime
from kiosk.service import GuestService
from tests.hardware.crt591_emulator import Crt591Emulator, Crt591State

pytestmark = pytest.mark.timeout(60)


def _config(tmp_path: Path, port: Path) -> KioskConfig:
    dispenser = DispenserConfig(driver="crt591", port=str(port), ack_timeout_s=0.2, retries=0)
    base = KioskConfig()
    return base.model_copy(
        update={
            "backend": base.backend.model_copy(update={"base_url": ""}),
            "state": base.state.model_copy(update={"dir": tmp_path / "state"}),
            "sim": base.sim.model_copy(update={"db": None, "port": 0}),
            "devices": DevicesConfig(dispenser=dispenser),
        }
    )


def _on_screen(ui: Any) -> Any:
    return ui.app.manager.current_screen


async def test_missing_dispenser_is_out_of_order_then_recovers(ui: Any, tmp_path: Path) -> None:
    port = tmp_path / "ttyDISPENSER"  # not there yet: the dispenser is unplugged
    runtime = await start_runtime(_config(tmp_path, port))
    assert set(runtime.opener.missing) == {"dispenser"}
    service = GuestService(
        runtime.journey, ui.channel, runtime.health_sources(), runtime.opener, device_retry_s=0.1
    )
    serving = asyncio.create_task(service.serve())
    try:
        await ui.until(lambda: _on_screen(ui).name == Step.OUT_OF_SERVICE.value, 10)
        frame = _on_screen(ui).frame
        assert frame.title.text == "Out of service"
        assert f"dispenser: cannot open {port}" in frame.message.text
        assert not frame.choices.children  # nothing for a guest to touch
        await asyncio.sleep(0.3)  # retried a few times: still out of order
        assert _on_screen(ui).name == Step.OUT_OF_SERVICE.value

        with Crt591Emulator(Crt591State(card="rf")) as emulator:
            port.symlink_to(emulator.port_name)  # plugged in
            await ui.until(lambda: _on_screen(ui).name == Step.ATTRACT.value, 10)
            assert runtime.opener.missing == {}
            # The card a stop left at the RF position is captured once the dispenser is back.
            await ui.until(lambda: emulator.state.card is None, 5)
            assert emulator.state.rejected == 1
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await runtime.aclose()
