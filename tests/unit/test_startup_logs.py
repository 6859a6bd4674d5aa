"""The kiosk's logs carry no guest data: every built-in demo script is played (``kiosk
demo``'s own runner) with every logger at DEBUG written to a file, and the file is
searched for the demo guests' names, phones, e-mails and ID numbers, as the simulator's
database holds them after the run (seeded bookings and what the guests registered)."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.demo import builtin_scripts, run_demo
from tests.unit.test_startup_housekeeping import instant_dispenser

pytestmark = pytest.mark.timeout(120)

GUEST_COLUMNS = {  # the simulator's tables that hold guest data -> their columns
    "pms_order": ("name", "phone"),
    "pms_tenant": ("name", "phone", "id_number", "email"),
    "oa_guest": ("guest_name", "phone", "email"),
    "oa_residence": ("family_name",),
}


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "kiosk.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore")}
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def guest_data(sim_db: Path) -> set[str]:
    """Every name, phone, e-mail and ID number of a guest in the simulator's database."""
    values: set[str] = set()
    with sqlite3.connect(sim_db) as conn:
        for table, columns in GUEST_COLUMNS.items():
            for row in conn.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                values.update(str(v) for v in row if v)
    return values


def typed_by_guests(scripts: list[Path]) -> set[str]:
    """What the scripted guests type (names, ID numbers), "@name" references aside."""
    typed = set()
    for path in scripts:
        for action in json.loads(path.read_text(encoding="utf-8"))["actions"]:
            text = action.get("type")
            if text and not text.startswith("@"):
                typed.add(text)
    return typed


async def test_a_full_demo_logs_no_guest_data(tmp_path: Path, debug_log: Path) -> None:
    scripts = builtin_scripts()
    records = await run_demo(tmp_path / "out", scripts, config=instant_dispenser())
    assert all(r.passed for r in records), [r.failures for r in records]
    assert sum(r.outcome == "checked_in" for r in records) >= 5

    log = debug_log.read_text(encoding="utf-8")
    assert log.count(" DEBUG ") > 100, "the log was not captured at DEBUG"
    assert "getAccomDetail" in log and "check-in ended: checked_in" in log

    secrets = guest_data(tmp_path / "out" / "state" / "sim.sqlite") | typed_by_guests(scripts)
    assert {"Wei Wang", "E12345678", "Anna Smith"} <= secrets  # registered by the scripts
    assert sum(bool(re.fullmatch(r"139\d{8}", s)) for s in secrets) >= 10  # seeded phones
    leaked = sorted(s for s in secrets if s in log)
    assert leaked == []
    # Surnames alone, and every phone's last four digits after a non-digit (a masked
    # number such as "****1234" is guest data too).
    surnames = {s.split()[-1] for s in secrets if re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", s)}
    assert [s for s in surnames if re.search(rf"\b{s}\b", log)] == []
    last4 = {s[-4:] for s in secrets if re.fullmatch(r"139\d{8}", s)}
    assert [d for d in last4 if re.search(rf"\*{d}\b", log)] == []
