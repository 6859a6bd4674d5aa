"""Fewer taps and keystrokes (issue 12, deliver 3): the demo's scripted guests count every
tap and key press, and the goals hold for a signed-QR booking whose guest is on file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.demo import JourneyRecord, builtin_scripts, print_transcript, run_demo
from tests.unit.test_startup_housekeeping import instant_dispenser

pytestmark = pytest.mark.timeout(120)
SCRIPTS = {path.stem: path for path in builtin_scripts()}
GOALS = {"prepaid": 4, "balance_due": 6}  # most taps from the scan to the card


def by_case(records: list[JourneyRecord]) -> dict[str, JourneyRecord]:
    assert all(r.passed for r in records), [r.failures for r in records]
    return {r.case: r for r in records}


async def test_the_goals_hold_and_the_transcript_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = [SCRIPTS[case] for case in (*GOALS, "unsigned_qr")]
    records = by_case(await run_demo(tmp_path, scripts, config=instant_dispenser()))
    for case, most in GOALS.items():
        record = records[case]
        assert record.outcome == "checked_in"
        assert record.taps_to_card is not None and record.taps_to_card <= most, case
        assert "language" not in record.screens, case  # scanned on the attract screen
        assert record.taps == record.taps_to_card + 2  # receipt and done, after the card
    # The prepaid guest is on file: not asked to register, not a key pressed.
    assert "register" not in records["prepaid"].screens
    assert records["prepaid"].keys_to_card == 0
    # Summary, ID type, pay, another card (after the decline), card count: each a tap.
    assert records["balance_due"].taps_to_card == 5
    # The guest who taps start picks a language; an unsigned code's guest types a second
    # factor and registers: each character and its Enter is a key press.
    unsigned = records["unsigned_qr"]
    assert "language" in unsigned.screens and "register" in unsigned.screens
    assert unsigned.keys_to_card == len("1234") + 1 + len("Wei Wang") + 1 + len("E12345678") + 1

    transcript = json.loads((tmp_path / "transcript.json").read_text())
    journeys = {j["case"]: j for j in transcript["journeys"]}
    assert journeys["prepaid"]["taps_to_card"] == records["prepaid"].taps_to_card
    assert journeys["prepaid"]["keys_to_card"] == 0
    assert transcript["totals"] == {
        name: sum(j[name] for j in journeys.values())
        for name in ("taps", "keys", "taps_to_card", "keys_to_card")
    }
    print_transcript(list(records.values()))
    printed = capsys.readouterr().out
    assert f"to the card: {records['prepaid'].taps_to_card} taps, 0 keys" in printed
    assert f"in all {transcript['totals']['taps']} taps" in printed


async def test_a_property_that_re_registers_asks_guests_on_file_again(tmp_path: Path) -> None:
    base = instant_dispenser()
    config = base.model_copy(
        update={"journey": base.journey.model_copy(update={"reregister_known_guests": True})}
    )
    script = json.loads(SCRIPTS["prepaid"].read_text())
    summary = next(i for i, a in enumerate(script["actions"]) if a.get("on") == "summary")
    script["actions"][summary + 1 : summary + 1] = [
        {"on": "register", "type": "Wei Wang"},
        {"on": "register", "tap": "passport"},
        {"on": "register", "type": "E12345678"},
    ]
    path = tmp_path / "prepaid.json"
    path.write_text(json.dumps(script))
    (record,) = await run_demo(tmp_path / "out", [path], config=config)
    assert record.passed, record.failures
    assert "register" in record.screens
    assert record.keys_to_card == len("Wei Wang") + 1 + len("E12345678") + 1
