"""``kiosk run`` (the production start-up, under a virtual display) with ``[remote]``:
the agent follows the real screen, the screenshot command returns the window as a PNG,
maintenance takes the kiosk out of service, and ``restart`` stops it cleanly (systemd
starts it again) with its status "offline"."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PIL import Image

from kiosk.remote.operator import FleetOperator
from kiosk.remote.signing import kiosk_secret
from screens.virtual_display import NoVirtualDisplay, virtual_display
from tests.remote.conftest import FLEET_KEY, Mosquitto

pytestmark = pytest.mark.timeout(120)
KIOSK = "lobby-run"


async def until(check: Callable[[], Awaitable[bool]], within_s: float = 30) -> None:
    async with asyncio.timeout(within_s):
        while not await check():
            await asyncio.sleep(0.2)


async def test_kiosk_run_with_the_agent(
    tmp_path: Path, broker: Mosquitto, operator: FleetOperator
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f"""
[state]
dir = "{tmp_path / "state"}"
[ui]
fullscreen = false
width = 540
height = 960
[remote]
brokers = ["{broker.url}"]
kiosk_id = "{KIOSK}"
command_secret = "{kiosk_secret(FLEET_KEY, KIOSK).decode()}"
telemetry_interval_s = 1
"""
    )
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(virtual_display(540, 960))
        except NoVirtualDisplay as exc:
            pytest.skip(str(exc))
        log = open(tmp_path / "kiosk.log", "w")  # noqa: SIM115 (closed by the stack)
        stack.callback(log.close)
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "KIVY_HOME": str(tmp_path / "kivy")},
        )  # fmt: skip
        stack.callback(lambda: kiosk.poll() is None and kiosk.kill())

        async def on_attract() -> bool:
            statuses = await operator.statuses(quiet_s=0.2)
            status = statuses.get(KIOSK)
            return status is not None and status.state == "online" and status.in_service is True

        await until(on_attract, 60)
        [shot] = await operator.send([KIOSK], "screenshot", {}, timeout_s=20)
        assert shot.reply is not None and shot.reply.status == "ok", shot
        assert shot.reply.result["screen"] == "attract"
        image = Image.open(io.BytesIO(base64.b64decode(shot.reply.result["png_base64"])))
        assert image.format == "PNG" and image.size == (540, 960)

        [off] = await operator.send([KIOSK], "maintenance", {"on": True}, timeout_s=20)
        assert off.reply is not None and off.reply.result == {"in_service": False}

        async def out_of_service() -> bool:
            status = (await operator.statuses(quiet_s=0.2)).get(KIOSK)
            return status is not None and status.in_service is False

        await until(out_of_service)
        [restart] = await operator.send([KIOSK], "restart", {}, timeout_s=20)
        assert restart.reply is not None and restart.reply.status == "ok"
        assert await asyncio.to_thread(kiosk.wait, 30) == 0

        async def offline() -> bool:
            status = (await operator.statuses(quiet_s=0.2)).get(KIOSK)
            return status is not None and status.state == "offline"

        await until(offline, 5)
    output = (tmp_path / "kiosk.log").read_text()
    assert "Traceback" not in output, output
