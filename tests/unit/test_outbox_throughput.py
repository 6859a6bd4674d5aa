"""The outbox's throughput parts: the state database's worker thread (``StateDb.run``) and
how many entries a relay pass sends at once (``_Width``), found by trying."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.outbox import PROBE_PASSES, WIDTH_PASSES, _Width
from kiosk.state import StateDb

pytestmark = pytest.mark.timeout(30)

BATCH = 16


def _widths(most: int, rate_at: Callable[[int], float], passes: int = 200) -> list[int]:
    """The width of each full pass against a back-end whose rate (entries/s) at a width is
    ``rate_at``, give or take 20% (a busy machine)."""
    noise = random.Random(7)
    width, seen = _Width(most), []
    for _ in range(passes):
        seen.append(width.now)
        width.after(BATCH, BATCH / (rate_at(width.now) * noise.uniform(0.8, 1.2)))
    return seen


def test_a_back_end_that_serialises_its_writes_is_sent_one_entry_at_a_time() -> None:
    seen = _widths(4, lambda width: 300 / width)  # the simulator: wider is only slower
    assert max(seen) == 2  # only tried, now and then
    assert seen.count(1) / len(seen) > 0.8, seen


def test_a_back_end_that_serves_requests_side_by_side_gets_the_widest() -> None:
    seen = _widths(4, lambda width: 300 * width, passes=400)  # round trips overlap
    start = PROBE_PASSES * WIDTH_PASSES  # a short backlog goes one at a time
    assert seen[:start] == [1] * start
    climb = [width for width in (2, 3, 4, 4) for _ in range(WIDTH_PASSES)]
    assert seen[start : start + len(climb)] == climb
    assert seen[start:].count(4) / len(seen[start:]) >= 0.75, seen


def test_at_a_bound_the_width_tries_a_step_away_now_and_then() -> None:
    seen = _widths(4, lambda width: 300 / width, passes=WIDTH_PASSES * (PROBE_PASSES + 4) * 3)
    tried = sum(a == 1 < b for a, b in itertools.pairwise(seen))
    assert tried >= 3, seen  # a back-end that got faster would be found again


def test_one_at_most_never_widens() -> None:
    assert set(_widths(1, lambda width: 300 * width)) == {1}


async def test_the_database_runs_work_in_its_own_thread_and_hands_back_results(
    tmp_path: Path,
) -> None:
    db = StateDb(tmp_path / "state.sqlite")
    try:
        names = {await db.run(lambda: threading.current_thread().name) for _ in range(3)}
        assert names == {"state-db"}  # one long-lived thread, not the loop's
        assert await db.run(lambda a, b: a + b, 2, 3) == 5

        def fails() -> None:
            raise LookupError("in the worker")

        with pytest.raises(LookupError, match="in the worker"):
            await db.run(fails)
        assert await db.run(lambda: "still serving") == "still serving"
    finally:
        db.close()
