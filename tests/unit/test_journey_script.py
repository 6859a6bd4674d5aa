"""The guest script format: validation, and the documented example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.demo.script import (
    DEVICE_MOVES,
    GUEST_MOVES,
    GuestScript,
    ScriptAction,
    ScriptError,
    values_from_manifest,
)
from kiosk.journeys.messages import Step

DOC = Path(__file__).resolve().parents[2] / "docs" / "journey-script.md"


def test_the_documented_example_is_a_valid_script() -> None:
    (example,) = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    script = GuestScript.model_validate(json.loads(example))
    assert script.expect.outcome == "checked_in"
    assert script.actions[0].on is Step.ATTRACT and script.actions[0].is_guest_move
    assert not next(a for a in script.actions if a.card_fault).is_guest_move


@pytest.mark.parametrize(
    "bad",
    [
        {},  # no move
        {"tap": "start", "type": "x"},  # two moves
        {"choice": "other_card", "tap": "pay"},  # choice belongs to pay
        {"pay": "bribe"},
        {"card_fault": "melted"},
        {"on": "lobby", "tap": "start"},
        {"wait": -1},
        {"tap": "start", "shout": True},
        {"backend_down": -1},
        {"backend_down": True},
        {"backend_down": 1.5},
        {"lose_replies": "2"},
        {"lose_replies": 10_001},
        {"backend_outage": 0},
        {"backend_outage": 3601},
        {"paper": "half"},
        {"card_stock": -1},
        {"clock": "24:00"},
        {"clock": "7:30"},
        {"clock": "23:30", "tap": "start"},
    ],
)
def test_malformed_actions_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        ScriptAction.model_validate(bad)


@pytest.mark.parametrize(
    "move",
    [
        {"backend_down": 2},
        {"backend_down": 0},
        {"backend_outage": 1.5},
        {"lose_replies": 1},
        {"paper": "low"},
        {"card_stock": 0},
        {"clock": "23:30"},
    ],
)
def test_device_moves_are_not_guest_moves(move: dict) -> None:
    assert not ScriptAction.model_validate(move).is_guest_move


def test_every_move_is_documented_with_an_example() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for kind, moves in (("guest", GUEST_MOVES), ("device", DEVICE_MOVES)):
        for move in moves:
            assert re.search(rf'^\| `"{move}": [^`]+` \| {kind} \|', doc, re.M), move


def test_load_reports_the_file(tmp_path: Path) -> None:
    path = tmp_path / "guest.json"
    path.write_text('{"name": "x", "actions": [], "expect": {}}', encoding="utf-8")
    with pytest.raises(ScriptError, match=r"guest\.json"):
        GuestScript.load(path)
    with pytest.raises(ScriptError):
        GuestScript.load(tmp_path / "missing.json")


def test_values_from_the_demo_manifest() -> None:
    manifest = {
        "arrivals": [
            {"case": "prepaid", "qr_payload": '{"v":1}', "second_factor": {"surname": "Kim"}},
            {"case": "unsigned_qr", "qr_payload": "https://x/?v=1",
             "second_factor": {"phone_last4": "0042"}},
        ],
        "booking_codes": [{"case": "amenity", "qr_payload": '{"v":1,"t":"oa"}'}],
    }  # fmt: skip
    assert values_from_manifest(manifest) == {
        "prepaid": '{"v":1}',
        "prepaid.surname": "Kim",
        "unsigned_qr": "https://x/?v=1",
        "unsigned_qr.phone_last4": "0042",
        "amenity": '{"v":1,"t":"oa"}',
    }


def test_optional_needs_a_named_screen_and_a_guest_move() -> None:
    ScriptAction.model_validate({"on": "register", "type": "x", "optional": True})
    for bad in ({"type": "x", "optional": True}, {"on": "keys", "wait": 1, "optional": True}):
        with pytest.raises(ValueError, match="optional"):
            ScriptAction.model_validate(bad)
