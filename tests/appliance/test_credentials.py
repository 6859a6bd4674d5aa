"""Secrets from ``$CREDENTIALS_DIRECTORY`` (systemd's LoadCredential=) in the config, and
``kiosk --version``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from kiosk.config import load_config

SITE_KEY_A, SITE_KEY_B = "a0a1a2a3a4a5", "b0b1b2b3b4b5"


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "credentials"
    directory.mkdir()
    for name in ("backend.token", "qr.signing_key", "operator.pin_hash"):
        (directory / name).write_text("")  # the installer creates every file, empty
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(directory))
    return directory


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text('[backend]\nbase_url = "https://pms.example"\ntoken = "from-the-file"\n')
    return path


def test_a_credential_overrides_the_file(credentials: Path, config_file: Path) -> None:
    (credentials / "backend.token").write_text("from-systemd\n")
    (credentials / "devices.encoder.site_key_a").write_text(SITE_KEY_A)
    (credentials / "devices.encoder.site_key_b").write_text(SITE_KEY_B)

    config = load_config(config_file)

    assert config.backend.token.get_secret_value() == "from-systemd"
    assert config.backend.base_url == "https://pms.example"  # the file's other keys stay
    encoder = config.devices.encoder
    assert encoder.site_key_a is not None and encoder.site_key_a.get_secret_value() == SITE_KEY_A
    assert "from-systemd" not in repr(config)


def test_an_empty_credential_is_not_set(credentials: Path, config_file: Path) -> None:
    config = load_config(config_file)
    assert config.backend.token.get_secret_value() == "from-the-file"
    assert config.qr.signing_key is None and config.operator.pin_hash is None


def test_the_environment_overrides_a_credential(
    credentials: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (credentials / "backend.token").write_text("from-systemd")
    monkeypatch.setenv("KIOSK_BACKEND__TOKEN", "from-the-environment")
    assert load_config(config_file).backend.token.get_secret_value() == "from-the-environment"


def test_a_bad_credential_is_refused_like_a_bad_file(credentials: Path, config_file: Path) -> None:
    (credentials / "devices.encoder.site_key_a").write_text(SITE_KEY_A)  # B missing
    with pytest.raises(ValueError, match="both site keys"):
        load_config(config_file)


def test_kiosk_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout == f"kiosk {version('lobby-kiosk')}\n"
