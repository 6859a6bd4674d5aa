"""The demo runs the kiosk's sound on the simulated player: each journey's transcript lists
the cues and the spoken texts a guest would have heard (kiosk/demo, kiosk/runtime)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kiosk.demo import builtin_scripts, run_demo

pytestmark = pytest.mark.timeout(120)
SCRIPTS = {path.stem: path for path in builtin_scripts()}


async def test_the_demo_transcript_has_what_each_guest_heard(tmp_path: Path) -> None:
    records = await run_demo(tmp_path, [SCRIPTS["prepaid"], SCRIPTS["malformed_qr"]])
    prepaid, malformed = json.loads((tmp_path / "transcript.json").read_text())["journeys"]
    assert [r.passed for r in records] == [True, True]
    cues = [label for label in prepaid["sounds"] if label.startswith("cue:")]
    assert cues == ["cue:code_read", "cue:take_card", "cue:success"]
    assert [label for label in malformed["sounds"] if label.startswith("cue:")] == [
        "cue:code_read",
        "cue:error",
    ]
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: the demo plays its cues only")
    # The demo speaks (in English, the scripts' language): the done screen is the last.
    assert prepaid["sounds"][-2:] == ["speech:en:done.title", "speech:en:done.message"]
    assert any(
        label.startswith("speech:en:refusal.malformed_code.") for label in malformed["sounds"]
    )
