"""The test pcscd's harness: it finds pcscd outside a user's PATH, and a part missing under
CI fails the PC/SC tests instead of skipping them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardware import pcscd


def test_pcscd_is_found_in_sbin_without_it_on_the_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    fake = sbin / "pcscd"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr(pcscd, "SBIN_PATH", str(sbin))
    assert pcscd.pcscd_binary() == str(fake)
    monkeypatch.setattr(pcscd, "SBIN_PATH", str(tmp_path / "nowhere"))
    assert pcscd.pcscd_binary() is None
    assert "pcscd is not installed in PATH or" in str(pcscd.missing_parts())


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
def test_a_missing_part_skips_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(pcscd, "missing_parts", lambda: "vpcd is not installed (test)")
    with pytest.raises(outcome, match="vpcd is not installed"), pcscd.running_pcscd(tmp_path):
        pass
