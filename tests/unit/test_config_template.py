"""``kiosk config template``: every setting, its default, its meaning and whether it is a
secret; the printed file loads and leaves every default as it is."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import KioskConfig, load_config
from kiosk.config_schema import render_template, walk

SETTINGS = list(walk(KioskConfig))
# A commented-out setting: "#key = value" (prose comments start with "# ").
SETTING_LINE = re.compile(r"^#(?P<key>[A-Za-z_][A-Za-z0-9_]*) =(?P<value>.*)$")


@pytest.fixture(autouse=True)
def no_kiosk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults only: no KIOSK_* variable or systemd credential of the test runner's."""
    for name in list(os.environ):
        if name.startswith("KIOSK_") or name == "CREDENTIALS_DIRECTORY":
            monkeypatch.delenv(name)


def template_from_the_command() -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "config", "template"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def tables(text: str) -> Iterator[tuple[str, str]]:
    """(dotted table, line) for each line of ``text``."""
    table = ""
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            table = line[1:-1]
        yield table, line


def test_the_printed_template_loads_as_the_defaults(tmp_path: Path) -> None:
    text = template_from_the_command()
    assert text == render_template(KioskConfig)  # to stdout, nothing else
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    assert load_config(path) == KioskConfig()


def test_every_printed_default_is_the_schemas_own(tmp_path: Path) -> None:
    """Uncomment every setting that has a default: the file still equals the defaults, so
    each printed value is valid TOML of the right type and is the default itself."""
    text = render_template(KioskConfig)
    uncommented = [
        line[1:] if SETTING_LINE.match(line) and line.split("=", 1)[1].strip() else line
        for line in text.splitlines()
    ]
    assert uncommented != text.splitlines()
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(uncommented) + "\n")
    assert load_config(path) == KioskConfig()


def test_every_setting_is_listed_once_with_its_meaning() -> None:
    text = render_template(KioskConfig)
    listed = [
        f"{table}.{m['key']}" for table, line in tables(text) if (m := SETTING_LINE.match(line))
    ]
    assert sorted(listed) == sorted(s.key for s in SETTINGS)  # each once (tables leaves first)
    lines = text.splitlines()
    for setting in SETTINGS:
        assert setting.description, f"{setting.key} has no description"
        at = _line_of(lines, setting.key)
        above = " ".join(line[2:] for line in _comment_block(lines, at))
        assert setting.description in above, setting.key


def test_secrets_are_marked_and_only_secrets() -> None:
    lines = render_template(KioskConfig).splitlines()
    secrets = {s.key for s in SETTINGS if s.secret}
    assert secrets >= {
        "backend.token",
        "qr.signing_key",
        "operator.pin_hash",
        "devices.encoder.site_key_a",
        "devices.encoder.site_key_b",
    }
    for setting in SETTINGS:
        block = " ".join(_comment_block(lines, _line_of(lines, setting.key)))
        marked = "SECRET" in block
        assert marked == setting.secret, setting.key
        if marked:  # where else to give it
            assert setting.env in block and f"credential named {setting.key}" in block


def test_removed_settings_are_gone_from_the_template() -> None:
    keys = {s.key for s in SETTINGS}
    assert "qr.max_length" not in keys  # [devices.camera] max_payload_bytes is the one limit
    assert "devices.payment.currency" not in keys  # [backend] currency is the one currency
    assert {"backend.currency", "devices.camera.max_payload_bytes", "ui.warning_s"} <= keys


def _line_of(lines: list[str], key: str) -> int:
    table, _, name = key.rpartition(".")
    current = ""
    for i, line in enumerate(lines):
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        m = SETTING_LINE.match(line)
        if m and current == table and m["key"] == name:
            return i
    raise AssertionError(f"{key} is not in the template")


def _comment_block(lines: list[str], at: int) -> list[str]:
    """The prose comment lines right above line ``at``."""
    block: list[str] = []
    i = at - 1
    while i >= 0 and lines[i].startswith("# "):
        block.insert(0, lines[i])
        i -= 1
    return block
