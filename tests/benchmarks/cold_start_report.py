"""Where a cold start's time goes: ``python -m tests.benchmarks.cold_start_report [RUNS]``.

Runs ``tests/benchmarks/cold_start.py --ui`` (``kiosk run``'s start-up over the demo
config, on an Xvfb display started beforehand as a Pi's screen is) RUNS times in fresh
interpreters, and prints per run: the bare interpreter (``python -c pass``), the time to
each phase the child reports (imports done, runtime started, attract screen drawn), then
one run under ``-X importtime`` summed by top-level package (self time), which is what a
slower CPU and SD card stretch. tests/benchmarks/README.md has the numbers and the Pi
estimate made from them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from screens.virtual_display import virtual_display

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def spawn(*args: str) -> tuple[float, str, str]:
    """(the monotonic time of the spawn, stdout, stderr) of a fresh interpreter."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True,
        timeout=120,
    )  # fmt: skip
    return started, done.stdout, done.stderr


def phases(folder: Path) -> dict[str, float]:
    """Seconds from spawn to each phase of one ``--ui`` cold start."""
    started, out, err = spawn("-m", "tests.benchmarks.cold_start", str(folder), "--ui")
    marks = {m[1]: float(m[2]) - started for m in re.finditer(r"^phase (\w+) ([\d.]+)$", err, re.M)}
    step, at = out.split()
    marks[step] = float(at) - started
    return marks


def bare_interpreter() -> float:
    started, _, _ = spawn("-c", "pass")
    return time.monotonic() - started


def import_profile(folder: Path) -> Counter[str]:
    """Self time (s) of every module imported by one ``--ui`` cold start, by package."""
    _, _, err = spawn("-X", "importtime", "-m", "tests.benchmarks.cold_start", str(folder), "--ui")
    by_package: Counter[str] = Counter()
    for line in err.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            by_package[match[2].split(".")[0]] += int(match[1]) / 1e6
    return by_package


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, virtual_display(1080, 1920):
        bare = min(bare_interpreter() for _ in range(3))
        print(f"bare interpreter (python -c pass), best of 3: {bare:.3f} s")
        for n in range(runs):
            marks = phases(Path(tmp) / f"run-{n}")
            print("run", n + 1, " ".join(f"{k} {v:.2f} s" for k, v in marks.items()))
        profile = import_profile(Path(tmp) / "profile")
    total = sum(profile.values())
    print(f"imports (-X importtime, self time): {total:.2f} s")
    for package, seconds in profile.most_common(15):
        print(f"  {package:<24}{seconds:>6.3f} s {seconds / total:>6.1%}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
