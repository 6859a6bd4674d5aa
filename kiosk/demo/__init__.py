"""``kiosk demo``: the property simulator, simulated devices and scripted guests.

Each built-in guest script (``scripts/*.json``, named after the demo case it plays)
runs one guest through the real check-in journey against the embedded simulator; the
demo writes the simulator's manifest, a transcript (each journey: its case, the screens
it passed, its outcome, the guest's taps and key presses, in all and up to the card in
their hand; and their totals) and, when a UI renders the journey, a screenshot of every screen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from hardware.audio.simulator import SimPlayer
from kiosk.config import KioskConfig, WalkInConfig
from kiosk.demo.devices import replay_kiosk_sales
from kiosk.demo.script import (
    GuestScript,
    ScriptError,
    run_script,
    values_from_manifest,
)
from kiosk.journeys.messages import Channel, Step, View, watched_channel
from kiosk.runtime import Runtime, start_runtime
from kiosk.sim.demo import write_manifest

log = logging.getLogger("kiosk.demo")

DEMO_QR_KEY = "demo-qr-key"  # signs the demo's QR codes; a real property sets its own
DEMO_TIMEZONE = "Asia/Shanghai"
ROOM_PHOTOS = Path(__file__).resolve().parents[2] / "assets" / "rooms"
# Walk-in: the demo property's room types (kiosk/sim/demo.py) at their nightly rates.
DEMO_WALK_IN = {
    "enabled": True,
    "rates": {"1": "388.00", "2": "428.00", "3": "888.00"},
    "photos": {"1": ROOM_PHOTOS / "king.jpg", "2": ROOM_PHOTOS / "twin.jpg",
               "3": ROOM_PHOTOS / "suite.jpg"},
}  # fmt: skip
DEMO_DIRECTIONS = {  # the demo property's floors (kiosk/sim/demo.py)
    floor: {
        "en": f"Take the lift on your left to floor {floor}; rooms are signposted.",
        "zh_Hans": f"请乘左侧电梯至{floor}楼，按指示牌前往房间。",
        "zh_Hant": f"請乘左側電梯至{floor}樓，按指示牌前往房間。",
    }
    for floor in (2, 3, 5)
}


def builtin_scripts() -> list[Path]:
    folder = resources.files("kiosk.demo").joinpath("scripts")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".json"))


@dataclass
class JourneyRecord:
    """One scripted guest's journey, as the transcript keeps it (no guest data)."""

    case: str
    name: str
    expected: str
    outcome: str
    passed: bool
    screens: list[str]
    failures: list[str] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)
    taps: int = 0
    keys: int = 0
    taps_to_card: int | None = None  # None: no card came out
    keys_to_card: int | None = None
    sounds: list[str] = field(default_factory=list)  # clips played: "cue:error", "speech:en:…"


def demo_config(out: Path, base: KioskConfig | None = None) -> KioskConfig:
    """The kiosk's config for a demo run: everything simulated, state under ``out``."""
    base = base or KioskConfig()
    devices = base.devices.model_copy(
        update={
            "payment": base.devices.payment.model_copy(
                update={"sim_journal": None, "sim_delay_factor": 0.05}
            ),
            "printer": base.devices.printer.model_copy(update={"sim_folder": out / "receipts"}),
            "audio": base.devices.audio.model_copy(update={"driver": "sim"}),
        }
    )
    return base.model_copy(
        update={
            "backend": base.backend.model_copy(update={"base_url": ""}),
            "state": base.state.model_copy(update={"dir": out / "state"}),
            "sim": base.sim.model_copy(update={"db": None, "port": 0}),
            "qr": base.qr.model_copy(update={"signing_key": SecretStr(DEMO_QR_KEY)}),
            "devices": devices,
            "amenities": base.amenities.model_copy(update={"enabled": True}),
            "walk_in": WalkInConfig(**DEMO_WALK_IN),
            # The demo speaks, at any hour: its transcript shows what a guest would hear.
            "sound": base.sound.model_copy(
                update={"speech": True, "night_start": "00:00", "night_end": "00:00"}
            ),
            "journey": base.journey.model_copy(
                update={
                    "timezone": DEMO_TIMEZONE,
                    "wifi_ssid": "Lobby-Guest",
                    "wifi_password": "welcome-2026",
                    "door_pins": True,
                    "directions": DEMO_DIRECTIONS,
                }
            ),
        }
    )


class DemoScreen(Protocol):
    """A UI that shows the scripted journeys (screens/launch.py has the Kivy one)."""

    async def start(self, runtime: Runtime) -> None: ...

    async def show(self, view: View, name: str, holding: str | None = None) -> Path | None:
        """Show ``view``, the guest ``holding`` that QR code to the camera (None: nothing);
        the screenshot saved as ``name``, if any."""
        ...

    async def stop(self) -> None: ...


async def run_demo(
    out: Path,
    scripts: list[Path],
    *,
    config: KioskConfig | None = None,
    screen: DemoScreen | None = None,
) -> list[JourneyRecord]:
    """Run every script on a fresh demo property; the records, also in ``out/transcript.json``."""
    out.mkdir(parents=True, exist_ok=True)
    # A fresh property each run: yesterday's demo checked the guests in.
    shutil.rmtree(out / "state", ignore_errors=True)
    runtime: Runtime = await start_runtime(demo_config(out, config))
    try:
        await runtime.start_background()
        assert runtime.sim is not None and runtime.demo is not None
        manifest = write_manifest(
            out / "manifest.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode()
        )
        values = values_from_manifest(manifest)
        currency = runtime.config.backend.currency
        await asyncio.to_thread(replay_kiosk_sales, runtime.devices.terminal, manifest, currency)
        if screen is not None:
            await screen.start(runtime)
        records = []
        for path in scripts:
            script = GuestScript.load(path)
            shots: list[str] = []
            on_view = None
            if screen is not None:
                held = _held_codes(script, values)
                on_view = _capture(screen, path.stem, out / "screens", shots, held)
            channel = watched_channel()
            heard = _follow_sound(runtime, channel)
            try:
                report = await run_script(
                    runtime.journey,
                    script,
                    values,
                    on_view=on_view,
                    lobby=runtime.lobby,
                    channel=channel,
                )
            except ScriptError as exc:  # the guest met a screen the script did not expect
                records.append(
                    JourneyRecord(
                        path.stem,
                        script.name,
                        script.expect.outcome,
                        "script_error",
                        passed=False,
                        screens=[],
                        failures=[str(exc)],
                    )
                )
                continue
            records.append(
                JourneyRecord(
                    case=path.stem,
                    name=script.name,
                    expected=script.expect.outcome,
                    outcome=report.result.outcome,
                    passed=report.passed,
                    screens=[str(step) for step in report.result.steps],
                    failures=list(report.failures),
                    screenshots=shots,
                    **asdict(report.effort),
                    sounds=await heard(),
                )
            )
            log.info(
                "%s: %s (%s)",
                path.stem,
                report.result.outcome,
                "as expected" if report.passed else "NOT as expected",
            )
    finally:
        if screen is not None:
            await screen.stop()
        await runtime.aclose()
    transcript = {"journeys": [asdict(r) for r in records], "totals": effort_totals(records)}
    (out / "transcript.json").write_text(json.dumps(transcript, indent=2) + "\n")
    return records


def _follow_sound(runtime: Runtime, channel: Channel) -> Callable[[], Awaitable[list[str]]]:
    """Let the kiosk's sound follow ``channel``; the returned call waits for the sound to
    finish and gives the clips played since (the demo's player is the simulated one)."""
    sound = runtime.sound
    if sound is None or not isinstance(sound.player, SimPlayer):
        return _nothing_heard
    sound.follow(channel)
    played, start = sound.player.played, len(sound.player.played)

    async def heard() -> list[str]:
        await sound.idle()
        return [clip.label for clip in played[start:]]

    return heard


async def _nothing_heard() -> list[str]:
    return []


def _held_codes(script: GuestScript, values: dict[str, str]) -> dict[Step, str]:
    """The QR code the scripted guest scans on each screen, so the camera shows it held up."""
    codes: dict[Step, str] = {}
    for action in script.actions:
        if action.on is not None and action.scan is not None:
            scan = action.scan
            code = values.get(scan[1:], scan) if scan.startswith("@") else scan
            codes.setdefault(action.on, code)
    return codes


def _capture(
    screen: DemoScreen, case: str, folder: Path, shots: list[str], held: dict[Step, str]
) -> Callable[[View], Awaitable[None]]:
    folder.mkdir(parents=True, exist_ok=True)

    async def on_view(view: View) -> None:
        name = f"{case}-{len(shots) + 1:02d}-{view.step.value}.png"
        saved = await screen.show(view, str(folder / name), held.get(view.step))
        if saved is not None:
            shots.append(str(saved.relative_to(folder.parent)))

    return on_view


def effort_totals(records: list[JourneyRecord]) -> dict[str, int]:
    """The guests' taps and key presses over every journey (``*_to_card``: those with a card)."""
    return {
        name: sum(getattr(r, name) or 0 for r in records)
        for name in ("taps", "keys", "taps_to_card", "keys_to_card")
    }


def print_transcript(records: list[JourneyRecord]) -> None:
    for r in records:
        mark = "ok  " if r.passed else "FAIL"
        print(f"{mark} {r.case:20} {r.outcome:32} {' > '.join(r.screens)}")
        print(f"       {_effort(r.taps, r.keys)}; to the card: {_to_card(r)}")
        for failure in r.failures:
            print(f"       {failure}")
    passed = sum(r.passed for r in records)
    totals = effort_totals(records)
    print(f"{passed} of {len(records)} journeys ended as expected")
    print(
        f"in all {_effort(totals['taps'], totals['keys'])}; to the card "
        f"{_effort(totals['taps_to_card'], totals['keys_to_card'])}"
    )


def _effort(taps: int, keys: int) -> str:
    return f"{taps} taps, {keys} keys"


def _to_card(record: JourneyRecord) -> str:
    if record.taps_to_card is None or record.keys_to_card is None:
        return "no card"
    return _effort(record.taps_to_card, record.keys_to_card)
