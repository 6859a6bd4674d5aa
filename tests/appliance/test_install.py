"""systemd/install.sh with ``--root DIR --dry-run``: the files it writes, the system
commands it would run, a second run, an upgrade rolled back by a failing doctor, uninstall."""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path

from cryptography.fernet import Fernet

from kiosk.config import credential_names
from tests.appliance.conftest import SYSTEMD, Installer

VERSION = tomllib.loads((SYSTEMD.parent / "pyproject.toml").read_text())["project"]["version"]
SYSTEM_FILES = {
    "etc/systemd/system/kiosk.service": "kiosk.service",
    "etc/systemd/system/kiosk-out-of-order.service": "kiosk-out-of-order.service",
    "etc/systemd/system/kiosk-doctor.service": "kiosk-doctor.service",
    "etc/tmpfiles.d/kiosk.conf": "kiosk.tmpfiles",
    "etc/systemd/logind.conf.d/kiosk.conf": "logind-kiosk.conf",
    "etc/sysctl.d/90-kiosk.conf": "sysctl-kiosk.conf",
    "etc/udev/rules.d/70-kiosk.rules": "udev-kiosk.rules",
}
CREDENTIALS = {*credential_names(), "outbox-key"}


def tree(root: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every file and link under root: its mode and content (a link: its target)."""
    found: dict[str, tuple[int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        if path.is_symlink():
            found[str(path.relative_to(root))] = (mode, str(path.readlink()))
        elif path.is_file():
            found[str(path.relative_to(root))] = (stat.S_IMODE(mode), path.read_bytes())
    return found


def fake_doctor(tmp_path: Path, exit_code: int) -> dict[str, str]:
    """KIOSK_INSTALL_DOCTOR (install.sh's test seam): a doctor that records its argument."""
    doctor = tmp_path / f"doctor-{exit_code}"
    doctor.write_text(f'#!/bin/sh\necho "$1" >> "{tmp_path}/doctor.log"\nexit {exit_code}\n')
    doctor.chmod(0o755)
    return {"KIOSK_INSTALL_DOCTOR": str(doctor)}


def test_install_writes_the_appliance(install: Installer, target: Path) -> None:
    run = install()
    for dest, name in SYSTEM_FILES.items():
        assert (target / dest).read_bytes() == (SYSTEMD / name).read_bytes(), dest
        assert stat.S_IMODE((target / dest).stat().st_mode) == 0o644
    # the versioned venv, switched to through a relative link
    assert (target / "opt/kiosk/current").readlink() == Path(VERSION)
    assert (target / f"opt/kiosk/{VERSION}/share/kiosk/systemd/kiosk.service").is_file()
    assert (target / f"opt/kiosk/{VERSION}/share/doc/appliance.md").is_file()
    assert not (target / "opt/kiosk/current.new").exists()
    # config: no secret in it, world-readable; secrets: root-only, one file each
    toml = target / "etc/kiosk/kiosk.toml"
    tomllib.loads(toml.read_text())
    assert stat.S_IMODE(toml.stat().st_mode) == 0o644
    credentials = target / "etc/kiosk/credentials"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o700
    assert {p.name for p in credentials.iterdir()} == CREDENTIALS
    for path in credentials.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    Fernet((credentials / "outbox-key").read_bytes().strip())  # a usable key was generated
    assert (credentials / "backend.token").read_text() == ""  # the property's, filled by hand
    # the kernel command line: no blanking, no cursor, no serial console; the rest kept
    cmdline = (target / "boot/firmware/cmdline.txt").read_text().split()
    assert {"consoleblank=0", "vt.global_cursor_default=0"} <= set(cmdline)
    assert "console=serial0,115200" not in cmdline
    assert cmdline[:2] == ["console=tty1", "root=PARTUUID=4e639091-02"]

    commands = run.commands
    assert f"python3 -m venv /opt/kiosk/{VERSION}" in commands
    pip = next(c for c in commands if " install " in c and "[ui" in c)
    assert pip.startswith(f"/opt/kiosk/{VERSION}/bin/pip") and "--no-binary pyscard" in pip
    apt = next(c for c in commands if "apt-get install" in c).split()
    assert {"pcscd", "systemd-timesyncd", "swig", "libpcsclite-dev", "python3-dev"} <= set(apt)
    assert re.search(r"useradd .*--system.* kiosk$", "\n".join(commands), re.M)
    usermod = next(c for c in commands if c.startswith("usermod"))
    assert usermod.replace("\\", "").endswith("video,render,input,dialout,plugdev,lp,audio kiosk")
    assert "systemctl enable pcscd.socket kiosk.service" in commands
    assert "systemctl enable --now systemd-timesyncd.service" in commands
    masked = next(c for c in commands if c.startswith("systemctl mask"))
    assert all(f"getty@tty{n}.service" in masked for n in range(1, 7))
    # never a test-only part (vpcd listens on every interface)
    assert "vpcd" not in run.stdout and "vsmartcard" not in run.stdout


def test_a_second_run_changes_nothing_and_keeps_the_operators_files(
    install: Installer, target: Path
) -> None:
    install()
    toml = target / "etc/kiosk/kiosk.toml"
    toml.write_text('[backend]\nbase_url = "https://pms.example"\n')
    (target / "etc/kiosk/credentials/backend.token").write_text("the-property-token\n")
    before = tree(target)

    second = install()

    assert tree(target) == before
    assert "kiosk.toml exists: kept" in second.stdout
    assert not any("-m venv" in c for c in second.commands)  # the version is complete


def test_a_half_built_version_is_built_again(install: Installer, target: Path) -> None:
    install()
    (target / f"opt/kiosk/{VERSION}/.complete").unlink()  # pip died half way
    assert f"python3 -m venv /opt/kiosk/{VERSION}" in install().commands


def test_upgrade_rolls_back_when_the_doctor_fails(
    install: Installer, target: Path, tmp_path: Path
) -> None:
    install()
    unit = target / "etc/systemd/system/kiosk.service"
    before = tree(target)

    run = install("--upgrade", "--version", "9.9.9", env=fake_doctor(tmp_path, 1), check=False)

    assert run.returncode != 0 and "rolled back" in run.stderr
    assert (tmp_path / "doctor.log").read_text() == "9.9.9\n"  # it was asked about 9.9.9
    assert (target / "opt/kiosk/current").readlink() == Path(VERSION)
    assert not (target / "opt/kiosk/9.9.9").exists()
    assert tree(target) == before
    assert unit.read_bytes() == (SYSTEMD / "kiosk.service").read_bytes()
    commands = run.commands
    assert commands.index("systemctl stop kiosk.service") < len(commands) - 1
    assert commands[-1] == "systemctl start kiosk.service"  # the old version serves again


def test_upgrade_switches_when_the_doctor_passes(
    install: Installer, target: Path, tmp_path: Path
) -> None:
    install()
    install("--upgrade", "--version", "0.9.0", env=fake_doctor(tmp_path, 0))
    assert (target / "opt/kiosk/current").readlink() == Path("0.9.0")

    run = install("--upgrade", "--version", "1.0.0", env=fake_doctor(tmp_path, 0))

    assert (target / "opt/kiosk/current").readlink() == Path("1.0.0")
    # the version before stays as a way back; older ones go
    assert sorted(p.name for p in (target / "opt/kiosk").iterdir()) == [
        "0.9.0",
        "1.0.0",
        "current",
    ]
    assert run.commands[-1] == "systemctl start kiosk.service"
    assert "upgraded from 0.9.0 to 1.0.0" in run.stdout


def test_upgrade_needs_an_installed_kiosk(install: Installer) -> None:
    run = install("--upgrade", check=False)
    assert run.returncode != 0 and "no kiosk installed" in run.stderr


def test_uninstall_keeps_the_state_directory_and_its_key(install: Installer, target: Path) -> None:
    install()
    state = target / "var/lib/kiosk"
    state.mkdir(parents=True)
    (state / "kiosk.sqlite").write_bytes(b"queued writes")
    key = (target / "etc/kiosk/credentials/outbox-key").read_bytes()

    run = install("--uninstall")

    assert not (target / "opt/kiosk").exists() and not (target / "etc/kiosk").exists()
    for dest in SYSTEM_FILES:
        assert not (target / dest).exists(), dest
    assert (state / "kiosk.sqlite").read_bytes() == b"queued writes"
    assert (state / "secret.key").read_bytes() == key  # sealed guest data still opens
    cmdline = (target / "boot/firmware/cmdline.txt").read_text().split()
    assert "consoleblank=0" not in cmdline and "console=tty1" in cmdline
    assert any(c.startswith("systemctl unmask getty@tty1.service") for c in run.commands)
    assert not any(c.startswith("userdel") for c in run.commands)

    # installed again: the kept key becomes the credential again
    install()
    assert (target / "etc/kiosk/credentials/outbox-key").read_bytes() == key


def test_uninstall_purge_removes_the_state_and_the_user(install: Installer, target: Path) -> None:
    install()
    (target / "var/lib/kiosk").mkdir(parents=True)
    run = install("--uninstall", "--purge")
    assert not (target / "var/lib/kiosk").exists()
    assert "userdel kiosk" in run.commands


def test_root_without_dry_run_is_refused(target: Path) -> None:
    import subprocess

    from tests.appliance.conftest import INSTALL

    done = subprocess.run(
        ["bash", str(INSTALL), "--root", str(target)], capture_output=True, text=True
    )
    assert done.returncode != 0 and "only for --dry-run" in done.stderr
    assert not (target / "etc").exists()
