"""docs/configuration.md is rendered from the schema: stale when the schema changed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.config_schema import render_markdown, walk

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_page_is_up_to_date() -> None:
    assert DOCS.read_text() == render_markdown(KioskConfig), (
        "docs/configuration.md is stale: kiosk config docs --output docs/configuration.md"
    )


def test_the_page_has_every_setting_and_marks_the_secrets() -> None:
    page = DOCS.read_text()
    for setting in walk(KioskConfig):
        table = ".".join(setting.path[:-1])
        section = page.split(f"## `[{table}]`", 1)[1].split("\n## ", 1)[0]
        start = f"| `{setting.path[-1]}` |"
        row = next(line for line in section.splitlines() if line.startswith(start))
        assert ("**Secret**" in row) == setting.secret, setting.key


def test_the_docs_command_prints_the_page() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "config", "docs"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_markdown(KioskConfig)


def test_kiosk_run_points_to_a_page_that_exists() -> None:
    run_source = (Path(__file__).resolve().parents[2] / "kiosk" / "cli" / "run.py").read_text()
    assert "docs/configuration.md" in run_source and DOCS.is_file()
