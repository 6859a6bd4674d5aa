"""``kiosk run`` with real drivers imports no simulator: an import hook in the kiosk's own
process records (and refuses) every simulator module, while ``kiosk run`` starts on a
real-driver config with its devices absent, shows the out-of-order screen and stops.

And the journeys package itself imports no simulator (the simulated card path and the
script player live in ``kiosk/demo/``)."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest

from tests.kiosk_process import kiosk_on_display

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
SIMULATORS = r"^(kiosk\.(sim|demo)(\..+)?|hardware\.\w+\.sim\w*)$"

# Runs in the kiosk's process before anything of the kiosk is imported.
HOOK = """
import atexit, importlib.abc, json, re, sys
SIMULATORS = re.compile({pattern!r})
attempts = []

class RefuseSimulators(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if SIMULATORS.match(name):
            attempts.append(name)
            raise ImportError(f"production imported a simulator: {{name}}")
        return None

sys.meta_path.insert(0, RefuseSimulators())
atexit.register(lambda: print("IMPORTS " + json.dumps({{
    "refused": attempts,
    "loaded": sorted(m for m in sys.modules if SIMULATORS.match(m)),
    "kivy": "kivy.core.window" in sys.modules,
}}), flush=True))
sys.argv = ["kiosk", "run", "--config", {config!r}]
from kiosk.cli import main
sys.exit(main(sys.argv[1:]))
"""

REAL_DRIVERS = """
[backend]
base_url = "http://127.0.0.1:9"
[state]
dir = "{state}"
[ui]
fullscreen = false
width = 540
height = 960
[devices.camera]
source = "opencv"
device = "{missing}/video0"
[devices.dispenser]
driver = "crt591"
port = "{missing}/ttyUSB0"
[devices.encoder]
driver = "pcsc"
reader = "no such reader"
[devices.printer]
driver = "escpos"
[devices.payment]
driver = "zvt"
zvt_host = "127.0.0.1"
zvt_port = 9
[devices.audio]
driver = "aplay"
"""


def test_kiosk_run_with_real_drivers_imports_no_simulator(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(REAL_DRIVERS.format(state=tmp_path / "state", missing=tmp_path / "dev"))
    hook = HOOK.format(pattern=SIMULATORS, config=str(config))
    with kiosk_on_display([sys.executable, "-c", hook], tmp_path) as kiosk:
        missing = kiosk.read_until("out of order, devices missing")
        assert missing, "".join(kiosk.lines)
        # The devices are opened, found absent, and the kiosk says which and why.
        assert f"dispenser: cannot open {tmp_path / 'dev'}/ttyUSB0" in missing
        assert "encoder: " in missing
        assert "payment: cannot connect to 127.0.0.1:9" in missing
        output = kiosk.stop(30)
    assert kiosk.proc.returncode == 0, output
    assert "Traceback" not in output, output
    report = json.loads(next(ln for ln in output.splitlines() if ln.startswith("IMPORTS "))[8:])
    assert report["refused"] == [], output
    assert report["loaded"] == []  # not one simulator, the payment terminal's included
    assert report["kivy"]  # the hook watched the whole start-up, UI included


def test_the_hook_sees_a_simulator_import() -> None:
    """The pattern catches what it must (a hook that matches nothing proves nothing)."""
    for name in (
        "kiosk.sim",
        "kiosk.sim.server",
        "kiosk.demo.devices",
        "hardware.dispenser.simulator",
        "hardware.camera.sim",
        "hardware.payment.sim_journal",
        "hardware.audio.simulator",
    ):
        assert re.match(SIMULATORS, name), name
    for name in ("kiosk.service", "kiosk.journeys.keys", "hardware.dispenser.crt591"):
        assert not re.match(SIMULATORS, name), name


def test_journeys_import_no_simulator() -> None:
    for path in sorted((ROOT / "kiosk" / "journeys").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not re.match(SIMULATORS, node.module), f"{path.name}: {node.module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not re.match(SIMULATORS, alias.name), f"{path.name}: {alias.name}"
