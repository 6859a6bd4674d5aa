"""The relay on a backlog: the next pass goes at once while entries are due, instead of
after the relay's shortest wait (50 ms); a full pass's delivered marks are written with
the next pass's claim, and before the relay idles; a wider width that is clearly slower
is left after one pass."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from pathlib import Path

from kiosk.api import TransportError
from kiosk.outbox import DELIVERED, IN_FLIGHT, PENDING, Backoff, DurableOutbox, Queued
from kiosk.sealing import Sealer
from kiosk.state import JourneyMark, StateDb, current_journey
from tests.unit.test_outbox import RecordingSender, _mutation
from tests.unit.test_outbox_throughput import _widths

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


def _away_outbox(folder: Path, sender: RecordingSender, now: list[float]) -> DurableOutbox:
    """An outbox whose back-end was away (quiet for 60 s), batch 2, on the clock ``now``."""
    return DurableOutbox(
        StateDb.in_dir(folder),
        Sealer.for_state_dir(folder),
        {"pms": sender},
        backoff=Backoff(base_s=0.01, cap_s=0.05),
        batch=2,
        quiet_s=60,
        clock=lambda: now[0],
    )


async def _queue(outbox: DurableOutbox, journey: str, reference: str) -> None:
    token = current_journey.set(JourneyMark(journey))
    try:
        with contextlib.suppress(Queued):
            await outbox.send(_mutation(reference))
    finally:
        current_journey.reset(token)


async def test_a_full_pass_marks_its_entries_with_the_next_claim(tmp_path: Path) -> None:
    now = [time.time()]
    sender = RecordingSender(TransportError("cashier", "unreachable", ambiguous=False))
    outbox = _away_outbox(tmp_path, sender, now)
    for journey, reference in (("j", "j-1"), ("k", "k-1"), ("j", "j-2")):
        await _queue(outbox, journey, reference)
    now[0] += 120
    # A full pass (2 of 2): sent, their marks left for the next claim; j-2 waits behind j-1.
    assert await outbox.deliver_due() == 2
    assert outbox.counts() == {IN_FLIGHT: 2, PENDING: 1}
    # A journey's new write queues behind its entry until the mark is written.
    await _queue(outbox, "k", "k-2")
    assert [m.reference for m in sender.sent] == ["j-1", "j-1", "k-1"]
    # The next claim writes the marks first, so j-2 and k-2 head their journeys in it.
    assert await outbox.deliver_due() == 2
    assert await outbox.drain(deadline_s=5)
    assert outbox.counts() == {DELIVERED: 4}
    assert [m.reference for m in sender.sent[1:]] == ["j-1", "k-1", "j-2", "k-2"]
    assert [e.attempts for e in outbox.entries((DELIVERED,))] == [2, 1, 1, 1]
    outbox.db.close()


async def test_the_relay_writes_a_full_pass_marks_before_it_idles(tmp_path: Path) -> None:
    now = [time.time()]
    sender = RecordingSender(TransportError("cashier", "unreachable", ambiguous=False))
    outbox = _away_outbox(tmp_path, sender, now)
    await _queue(outbox, "j", "j-1")
    await _queue(outbox, "k", "k-1")
    now[0] += 120
    relay = asyncio.create_task(outbox.run_relay(idle_s=60))
    try:
        started = time.monotonic()
        while outbox.counts() != {DELIVERED: 2}:
            assert time.monotonic() - started < 10, outbox.counts()
            await asyncio.sleep(0.01)
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        outbox.db.close()


def test_a_step_wider_that_is_clearly_slower_is_left_after_one_pass() -> None:
    serialising = _widths(4, lambda width: 300 / width, passes=400)
    runs = [(width, len(list(run))) for width, run in itertools.groupby(serialising)]
    probes = [length for width, length in runs if width == 2]
    assert len(probes) >= 3 and set(probes) == {1}, runs
    side_by_side = _widths(4, lambda width: 300 * width, passes=400)  # faster at once
    assert side_by_side.count(4) / len(side_by_side) >= 0.6
