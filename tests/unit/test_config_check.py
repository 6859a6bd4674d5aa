"""``kiosk config check FILE``: exit 0 when valid, 2 with each bad setting named by its
dotted path, never echoing a secret value; credentials and the environment as ``kiosk run``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import load_config

SECRET = "Zq9-not-a-hex-key-SECRET"


def check(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    clean.pop("CREDENTIALS_DIRECTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "config", "check", str(path)],
        capture_output=True, text=True, timeout=60, env=clean | env,
    )  # fmt: skip


def test_a_valid_file_passes(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[backend]\ncurrency = "EUR"\n[devices.camera]\nmax_payload_bytes = 300\n')
    done = check(path)
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout


def test_bad_settings_are_named_and_secrets_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f"""
[backend]
kind = "fax"
token = 12345
currency = "yuan"

[devices.encoder]
site_key_a = "{SECRET}"
site_key_b = "{SECRET}"

[qr]
max_length = 300
signing_key = ["{SECRET}"]

[devices.payment]
currency = "EUR"
"""
    )
    done = check(path)
    assert done.returncode == 2
    out = done.stdout + done.stderr
    for where in (
        "backend.kind",
        "backend.token",
        "backend.currency",
        "devices.encoder.site_key_a",
        "devices.encoder.site_key_b",
        "qr.max_length",  # removed: one QR limit, [devices.camera] max_payload_bytes
        "qr.signing_key",
        "devices.payment.currency",  # removed: one currency, [backend] currency
    ):
        assert f"{path}: {where}: " in out, where
    assert SECRET not in out and "12345" not in out


def test_a_file_that_is_not_toml_or_missing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[backend\ntoken = "{SECRET}"\n')
    done = check(path)
    assert done.returncode == 2 and "not TOML" in done.stderr
    assert SECRET not in done.stdout + done.stderr
    missing = check(tmp_path / "none.toml")
    assert missing.returncode == 2 and "none.toml" in missing.stderr


def test_the_environment_is_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text("")
    done = check(path, KIOSK_BACKEND__TIMEOUT_S="-1")
    assert done.returncode == 2 and "backend.timeout_s" in done.stderr


def test_credentials_take_the_place_of_secrets_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd's LoadCredential= files, named after the setting, override the file; the
    environment overrides both."""
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "backend.token").write_text("from-credential\n")
    (credentials / "devices.encoder.site_key_a").write_text("A0A1A2A3A4A5")
    (credentials / "devices.encoder.site_key_b").write_text("B0B1B2B3B4B5")
    path = tmp_path / "kiosk.toml"
    path.write_text('[backend]\ntoken = "from-file"\n')
    for name in list(os.environ):
        if name.startswith("KIOSK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    config = load_config(path)
    assert config.backend.token.get_secret_value() == "from-credential"
    assert config.devices.encoder.sector_keys().site_a == bytes.fromhex("A0A1A2A3A4A5")
    monkeypatch.setenv("KIOSK_BACKEND__TOKEN", "from-environment")
    assert load_config(path).backend.token.get_secret_value() == "from-environment"

    (credentials / "devices.encoder.site_key_b").write_text(SECRET)
    done = check(path, CREDENTIALS_DIRECTORY=str(credentials))
    assert done.returncode == 2 and "devices.encoder.site_key_b" in done.stderr
    assert SECRET not in done.stdout + done.stderr
