"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.sim.server import SimServer

SIM_TOKEN = "test-token-not-a-secret"


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The normal run uses two workers (pyproject's ``-n 2``); benchmarks compare timings
    and must have the machine to themselves, so ``-m benchmark`` runs in one process."""
    marks = config.option.markexpr
    if "benchmark" in marks and "not benchmark" not in marks:
        config.option.numprocesses = 0
        config.option.dist = "no"

# A fixed "now" for the simulator in tests: 2026-03-04 06:00 UTC (14:00 in Shanghai).
SIM_NOW = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)


class SimClock:
    """The simulator's clock in tests: fixed, and moved on by hand."""

    def __init__(self, now: datetime = SIM_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sim_clock() -> SimClock:
    return SimClock()


@pytest.fixture
def sim_db_path(tmp_path: Path) -> Path:
    return tmp_path / "sim.sqlite"


@pytest.fixture
def sim_server(sim_db_path: Path, sim_clock: SimClock) -> Iterator[SimServer]:
    """An empty property simulator over real HTTP on loopback, SQLite in tmp_path."""
    with SimServer(sim_db_path, SIM_TOKEN, clock=sim_clock, seed=7) as server:
        yield server
