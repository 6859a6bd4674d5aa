"""Every dependency resolves for Raspberry Pi OS Bookworm (aarch64, CPython 3.11, glibc 2.36),
and what must be built there from source is covered by install.sh's build packages.

pip resolves the project's requirements for that platform with wheels only (a dry run:
metadata, no downloads); a requirement without an aarch64 wheel is noted as built from
source and the resolution runs again without it. Needs PyPI: skipped when it is unreachable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from tests.appliance.conftest import INSTALL, REPO

pytestmark = pytest.mark.timeout(300)

PI_PLATFORM = [
    "--platform", "manylinux_2_36_aarch64",  # Bookworm's glibc; pip adds the older manylinux
    "--platform", "manylinux2014_aarch64",
    "--python-version", "3.11",
    "--implementation", "cp",
    "--only-binary=:all:",
]  # fmt: skip
# What building each source-only package takes (Debian packages); a package not listed
# here, once it loses its aarch64 wheel, fails the test until someone says what it needs.
BUILD_NEEDS = {
    "pyscard": {"build-essential", "python3-dev", "swig", "libpcsclite-dev"},
    "zxing-cpp": {"build-essential", "python3-dev", "cmake"},
}


@pytest.fixture(scope="module")
def pypi() -> None:
    try:
        httpx.head("https://pypi.org/simple/pip/", timeout=5, follow_redirects=True)
    except httpx.HTTPError as exc:
        pytest.skip(f"PyPI is unreachable ({type(exc).__name__}): cannot resolve for aarch64")


def pip_env() -> dict[str, str]:
    """pip with PyPI alone: none of this machine's local indexes, wheel folders or pins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
    return env | {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def project_requirements() -> list[str]:
    """What install.sh installs: the dependencies and the ui and usb extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [*project["dependencies"], *extras["ui"], *extras["usb"]]


def install_sh_build_packages() -> set[str]:
    found = re.search(r"^BUILD_PACKAGES=\((.*?)\)", INSTALL.read_text(), re.M | re.S)
    assert found is not None
    return set(found.group(1).split())


def resolve_for_the_pi(requirements: list[str], work: Path) -> tuple[dict[str, str], set[str]]:
    """(name -> version of every wheel, names of the requirements with no aarch64 wheel)."""
    wanted = list(requirements)
    from_source: set[str] = set()
    while True:
        report = work / "report.json"
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
             "--quiet", "--report", str(report), "--target", str(work / "target"),
             *PI_PLATFORM, *wanted],
            capture_output=True, text=True, timeout=240, env=pip_env(),
        )  # fmt: skip
        if done.returncode == 0:
            installs = json.loads(report.read_text())["install"]
            wheels = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in installs}
            return wheels, from_source
        missing = re.search(r"No matching distribution found for ([A-Za-z0-9._-]+)", done.stderr)
        assert missing, done.stderr[-3000:]
        name = Requirement(missing.group(1)).name.lower()
        top = [r for r in wanted if Requirement(r).name.lower() == name]
        # a dependency of a dependency without a wheel would need its own look
        assert top, f"{name} (not a direct requirement) has no aarch64 wheel"
        from_source.add(name)
        wanted = [r for r in wanted if r not in top]


def test_every_dependency_has_an_aarch64_wheel_or_install_sh_builds_it(
    pypi: None, tmp_path: Path
) -> None:
    wheels, from_source = resolve_for_the_pi(project_requirements(), tmp_path)

    listed = ", ".join(f"{name} {version}" for name, version in sorted(wheels.items()))
    print(f"aarch64 wheels ({len(wheels)}): {listed}")
    print("built from source on the Pi:", ", ".join(sorted(from_source)) or "none")
    assert {"kivy", "numpy", "opencv-python-headless", "cryptography"} <= set(wheels)
    unknown = from_source - set(BUILD_NEEDS)
    assert not unknown, f"no aarch64 wheel, and no known build recipe: {unknown}"
    build_packages = install_sh_build_packages()
    for name in from_source:
        assert BUILD_NEEDS[name] <= build_packages, (name, BUILD_NEEDS[name] - build_packages)


def test_the_wheel_carries_what_the_kiosk_reads_at_run_time(pypi: None, tmp_path: Path) -> None:
    """install.sh installs a built wheel, not the checkout: the catalogues and kv files must
    be in it."""
    source = tmp_path / "src"  # a copy: a build in the checkout would leave build/ there
    for folder in ("kiosk", "hardware", "screens", "assets"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"),
         str(source)],
        capture_output=True, text=True, timeout=240, env=pip_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (REPO / "assets").rglob("*"):
        if path.is_file():
            assert str(path.relative_to(REPO)) in names
    for kv in (REPO / "screens").rglob("*.kv"):
        assert str(kv.relative_to(REPO)) in names

