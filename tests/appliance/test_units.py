"""The systemd units and scripts: ``systemd-analyze verify``, ``shellcheck``, and the promises
the units make that the rest of the kiosk relies on."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.config import credential_names
from kiosk.sealing import CREDENTIAL as OUTBOX_KEY
from tests.appliance.conftest import INSTALL, REPO, SYSTEMD, Installer

UNITS = sorted(p.name for p in SYSTEMD.glob("*.service"))
SYSTEM_UNITS = Path("/usr/lib/systemd/system")


def directives(unit: str) -> dict[str, list[str]]:
    """``Key`` -> every value it is given in ``unit`` (keys repeat: DeviceAllow=)."""
    found: dict[str, list[str]] = {}
    for line in (SYSTEMD / unit).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.fixture
def installed_root(install: Installer, target: Path) -> Path:
    """The dry-run's tree plus what verify needs from a real system: the distribution's
    units (sysinit.target ...) and an executable where the venv's kiosk would be."""
    if shutil.which("systemd-analyze") is None or not SYSTEM_UNITS.is_dir():
        pytest.skip("systemd is not installed (.ci/bootstrap installs it)")
    install()
    shutil.copytree(SYSTEM_UNITS, target / "usr/lib/systemd/system", symlinks=True)
    kiosk = target / "opt/kiosk/current/bin/kiosk"
    kiosk.parent.mkdir(parents=True)
    kiosk.write_text("#!/bin/sh\n")
    kiosk.chmod(0o755)
    return target


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify(installed_root: Path, unit: str) -> None:
    # --root: verify the unit as installed, without a running systemd (a container has none).
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={installed_root}", unit],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
    )
    # Unknown keys and bad values are only warnings: any output is a failure.
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "", done.stderr


def test_verify_reports_a_bad_unit(installed_root: Path) -> None:
    """The check above can fail: a misspelt key in the same setting is reported."""
    unit = installed_root / "etc/systemd/system/kiosk.service"
    unit.write_text(unit.read_text().replace("WatchdogSec=", "WatchDogSec="))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={installed_root}", "kiosk.service"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Unknown key 'WatchDogSec'" in done.stderr


def test_tmpfiles_creates_the_directories(installed_root: Path) -> None:
    etc = installed_root / "etc"
    # the user install.sh creates (useradd is only printed under --dry-run)
    (etc / "passwd").write_text("kiosk:x:990:990::/var/lib/kiosk:/usr/sbin/nologin\n")
    (etc / "group").write_text("kiosk:x:990:\n")
    done = subprocess.run(
        ["systemd-tmpfiles", f"--root={installed_root}", "--create", "kiosk.conf"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    state = (installed_root / "var/lib/kiosk").stat()
    assert (state.st_uid, state.st_mode & 0o777) == (990, 0o700)
    assert (installed_root / "etc/kiosk/credentials").stat().st_mode & 0o777 == 0o700


def test_every_script_passes_shellcheck() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (.ci/bootstrap installs it)")
    scripts = [INSTALL, REPO / ".ci/bootstrap", *sorted(REPO.glob(".ci/*")), *REPO.rglob("*.sh")]
    scripts = sorted({s for s in scripts if s.is_file() and ".venv" not in s.parts})
    done = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_units_load_the_credentials_the_kiosk_reads() -> None:
    expected = {*credential_names(), OUTBOX_KEY}
    installer = re.search(r"^CREDENTIALS=\(([^)]*)\)", INSTALL.read_text(), re.M)
    assert installer is not None and set(installer.group(1).split()) == expected
    for unit in ("kiosk.service", "kiosk-doctor.service"):
        loaded = dict(v.split(":", 1) for v in directives(unit)["LoadCredential"])
        assert loaded == {name: f"/etc/kiosk/credentials/{name}" for name in expected}, unit


def test_the_kiosk_unit_is_an_appliance() -> None:
    unit = directives("kiosk.service")
    one = {key: values[-1] for key, values in unit.items()}
    assert one["Type"] == "notify" and int(one["WatchdogSec"]) > 0
    assert one["Restart"] == "always" and one["OnFailure"] == "kiosk-out-of-order.service"
    assert int(one["StartLimitBurst"]) > 1 and int(one["StartLimitIntervalSec"]) > 0
    assert one["StateDirectory"] == one["ConfigurationDirectory"] == "kiosk"
    assert "KIOSK_STATE__DIR=%S/kiosk" in unit["Environment"]
    assert {"KIVY_WINDOW=sdl2", "SDL_VIDEODRIVER=kmsdrm"} <= set(unit["Environment"])
    # SDL mutes the console keyboard (no keys reach tty1) unless told to keep it
    assert not any("SDL_INPUT_LINUX_KEEP_KBD" in v for v in unit["Environment"])
    assert one["TTYPath"] == "/dev/tty1" and one["StandardOutput"] == "journal"
    assert one["DevicePolicy"] == "closed" and "PrivateDevices" not in unit
    allowed = {v.split()[0] for v in unit["DeviceAllow"]}
    assert {"char-drm", "char-input", "char-video4linux", "char-ttyUSB", "char-ttyACM",
            "char-ttyAMA", "char-usb_device", "char-alsa"} <= allowed  # fmt: skip
    assert set(one["SupplementaryGroups"].split()) == {
        "video", "render", "input", "dialout", "plugdev", "lp", "audio"
    }  # fmt: skip
    assert one["NoNewPrivileges"] == "yes" and one["ProtectSystem"] == "strict"
    assert one["ProtectHome"] == "yes"
    assert "pcscd.socket" in one["Wants"] and "pcscd.socket" in one["After"]
    # the out-of-order screen and the doctor never run beside the kiosk
    assert {"kiosk-out-of-order.service", "kiosk-doctor.service"} <= set(one["Conflicts"].split())


def test_no_login_on_a_virtual_console() -> None:
    logind = configparser.ConfigParser()
    logind.read(SYSTEMD / "logind-kiosk.conf")
    assert logind["Login"]["NAutoVTs"] == "0" and logind["Login"]["ReserveVT"] == "0"
