"""The relay task (``DurableOutbox.run_relay``) on a backlog: the next pass goes at once
while entries are due, instead of after the relay's shortest wait (50 ms)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from kiosk.api import TransportError
from kiosk.outbox import DELIVERED, Backoff, DurableOutbox, Queued
from kiosk.sealing import Sealer
from kiosk.state import StateDb
from tests.unit.test_outbox import RecordingSender, _mutation

BACKLOG = 40


async def test_the_relay_sends_a_backlog_pass_after_pass_without_pausing(tmp_path: Path) -> None:
    now = [time.time()]
    sender = RecordingSender(TransportError("cashier", "unreachable", ambiguous=False))
    outbox = DurableOutbox(
        StateDb.in_dir(tmp_path),
        Sealer.for_state_dir(tmp_path),
        {"pms": sender},
        backoff=Backoff(base_s=0.01, cap_s=0.05),
        quiet_s=60,
        clock=lambda: now[0],
    )
    # The back-end is away: the first write fails, the others are only stored. They all
    # belong to one journey (none is set), so a pass may send only its head: one a pass.
    for n in range(BACKLOG):
        with contextlib.suppress(Queued):
            await outbox.send(_mutation(f"ref-{n:02d}"))
    now[0] += 120  # the quiet time is over: every entry is due
    relay = asyncio.create_task(outbox.run_relay(idle_s=5))
    started = time.monotonic()
    try:
        while outbox.counts().get(DELIVERED, 0) < BACKLOG:
            assert time.monotonic() - started < 10, outbox.counts()
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        outbox.db.close()
    assert [m.reference for m in sender.sent[1:]] == [f"ref-{n:02d}" for n in range(BACKLOG)]
    # A pause of 50 ms after each of the 40 passes would take 1.95 s at least.
    assert elapsed < 1.5, f"{BACKLOG} passes took {elapsed:.2f} s"
