"""``kiosk demo``: the simulator, simulated devices and the kiosk's UI in one command.

- Without a display (or ``--headless``): scripted guests go through every demo case
  (or ``--script FILE``) in the real UI on a virtual display; a screenshot of every screen,
  the transcript (printed, and JSON), the manifest and the receipts go to ``--out``. Exits
  non-zero if a journey ends other than expected.
- With a display: the kiosk's window, for a person. Keys 1-9 and 0 hold a demo booking's
  QR code in front of the simulated camera (the list is printed); the manifest's PNGs are
  in ``--out`` too.

The ``[ui]`` settings come from ``--config FILE`` and the environment, as for ``kiosk run``
(``KIOSK_UI__WIDTH=1920 KIOSK_UI__HEIGHT=1080`` shows the landscape panel); everything
else is the demo's own (simulator, simulated devices, state under ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.config import KioskConfig

DEMO_WINDOW_SCALE = 0.5  # the configured panel (1080x1920) at half size on a desktop
DEMO_PIN = "2580"  # operator menu PIN of the demo only (a real kiosk configures a hash)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the kiosk on the property simulator and simulated devices",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--headless", action="store_true", help="scripted guests, virtual display")
    p.add_argument("--config", type=Path, help="TOML config file (its [ui] settings are used)")
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    p.add_argument(
        "--script",
        type=Path,
        action="append",
        help="a guest script (JSON) instead of the built-in ones",
    )
    p.add_argument("--no-ui", action="store_true", help="scripted guests without any UI (fastest)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.demo import builtin_scripts, print_transcript, run_demo

    config = _demo_base(args.config)
    if not args.headless and not args.no_ui and not args.script and os.environ.get("DISPLAY"):
        return asyncio.run(_interactive(args.out, config))
    scripts = args.script or builtin_scripts()
    screen = None
    display = contextlib.nullcontext()
    if not args.no_ui:
        from screens.launch import KivyDemoScreen, prepare_kivy
        from screens.virtual_display import virtual_display

        ui = config.ui.model_copy(update={"fullscreen": False})
        display = virtual_display(ui.width, ui.height)
    with display:
        if not args.no_ui:
            prepare_kivy(ui, touch_devices=False)
            screen = KivyDemoScreen(ui)
        records = asyncio.run(run_demo(args.out, scripts, config=config, screen=screen))
    print_transcript(records)
    print(f"transcript, screenshots, manifest and receipts in {args.out}")
    return 0 if all(r.passed for r in records) else 1


def _demo_base(path: Path | None) -> KioskConfig:
    """The environment's settings with the ``[ui]`` of ``path``: a production file's devices
    and back-end stay out of the demo."""
    from kiosk.config import KioskConfig, load_config

    return KioskConfig().model_copy(update={"ui": load_config(path).ui})


async def _interactive(out: Path, config: KioskConfig) -> int:
    from kiosk.cli.run import serve_kiosk
    from kiosk.config import OperatorConfig
    from kiosk.demo import DEMO_QR_KEY, demo_config
    from kiosk.operator_access import hash_pin
    from kiosk.runtime import start_runtime
    from kiosk.service import Scanner
    from kiosk.sim.demo import write_manifest
    from screens.launch import on_digit_key, prepare_kivy

    # The panel's orientation at a desktop's size: the app lays it out at full size, scaled.
    ui = config.ui.model_copy(
        update={
            "width": round(config.ui.width * DEMO_WINDOW_SCALE),
            "height": round(config.ui.height * DEMO_WINDOW_SCALE),
            "fullscreen": False,
        }
    )
    prepare_kivy(ui)
    runtime = await start_runtime(demo_config(out, config))
    assert runtime.sim is not None and runtime.demo is not None
    manifest = write_manifest(
        out / "manifest.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode()
    )
    # The demo kiosk speaks the PMS: its bookings' codes (booking codes need kind "openability").
    codes = manifest["arrivals"][:10]
    print("Hold a booking's QR code to the camera with a key:")
    for number, code in enumerate(codes, start=1):
        print(f"  {number % 10}: {code['case']}")
    print(f"Operator menu: hold the top-left corner 3 s, PIN {DEMO_PIN}. Manifest: {out}")

    def hold_codes_to(scanner: Scanner) -> None:
        camera = scanner.pipeline.source  # the simulated camera: show() holds a code in view

        def present(digit: int) -> bool:
            index = (digit - 1) % 10  # "1" is the first code ... "0" the tenth
            if index >= len(codes):
                return False
            camera.show(codes[index]["qr_payload"])  # type: ignore[attr-defined]
            asyncio.get_running_loop().call_later(3, camera.show, None)  # type: ignore[attr-defined]
            return True

        on_digit_key(present)

    operator = OperatorConfig(pin_hash=hash_pin(DEMO_PIN, iterations=10_000))
    service = await serve_kiosk(runtime, ui, operator, on_start=hold_codes_to)
    (out / "outcomes.json").write_text(json.dumps(service.results) + "\n")
    return 0
