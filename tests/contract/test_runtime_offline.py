"""The assembled kiosk (``start_runtime``, as ``kiosk run`` and ``kiosk play`` use it) with
its embedded simulator taken down: the prefetch at start-up fills the arrivals cache, a
guest checks in while the back-end is away, the operator sees "offline, N queued", and
the relay delivers everything once the back-end is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hardware.health import HealthLevel
from kiosk.api.pms_types import AccomDetailRequest, AccomStatus
from kiosk.config import KioskConfig
from kiosk.demo import DEMO_QR_KEY, builtin_scripts, demo_config
from kiosk.demo.script import GuestScript, run_script, values_from_manifest
from kiosk.runtime import Runtime, start_runtime
from kiosk.sim.demo import write_manifest

pytestmark = pytest.mark.timeout(90)


def offline_config(folder: Path) -> KioskConfig:
    config = demo_config(folder)
    return config.model_copy(
        update={
            "backend": config.backend.model_copy(update={"timeout_s": 1.0, "read_retries": 0}),
            "state": config.state.model_copy(
                update={"retry_base_s": 0.1, "retry_cap_s": 0.5, "relay_idle_s": 0.2}
            ),
            "offline": config.offline.model_copy(update={"retry_online_after_s": 3.0}),
        }
    )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await start_runtime(offline_config(tmp_path))
    await runtime.start_background()
    yield runtime
    await runtime.aclose()


async def until(condition, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.05)


async def test_a_guest_checks_in_while_the_backend_is_down(
    runtime: Runtime, tmp_path: Path
) -> None:
    assert runtime.cache is not None
    await until(lambda: runtime.cache.count() > 0)  # type: ignore[union-attr]  # the start-up prefetch
    assert runtime.backend_health().level is HealthLevel.OK
    manifest = write_manifest(
        tmp_path / "manifest.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode()
    )
    script = GuestScript.load(next(p for p in builtin_scripts() if p.stem == "balance_due"))
    order_id = next(a["order_id"] for a in manifest["arrivals"] if a["case"] == "balance_due")

    runtime.sim.stop()
    report = await run_script(runtime.journey, script, values_from_manifest(manifest))
    assert report.passed, report.failures
    health = runtime.backend_health()
    assert health.level is HealthLevel.WARNING
    assert health.detail.startswith("offline, 4 queued"), health.detail

    runtime.sim.start()
    await until(lambda: runtime.outbox.depth() == 0)
    await until(lambda: runtime.backend_health().level is HealthLevel.OK)
    assert runtime.backend_health().detail == "online, 0 queued"
    detail = await runtime.client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    assert {a.accom_status for a in detail.accom_list} == {AccomStatus.CHECKED_IN}
    assert detail.bill_summary is None or detail.bill_summary.need_pay_amount == 0
    records = runtime.payment_log.records()
    assert [r.state for r in records if r.booking == str(order_id)] == ["declined", "recorded"]
