"""The accounts file and its password hashes, and ``kiosk console adduser``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.remote.console.accounts import (
    Accounts,
    AccountsError,
    add_user,
    hash_password,
    verify_password,
)


def test_a_hash_verifies_its_password_only() -> None:
    encoded = hash_password("correct horse")
    assert encoded.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", encoded)
    assert not verify_password("correct horsf", encoded)
    assert hash_password("correct horse") != encoded  # salted
    assert not verify_password("x", "scrypt$bad")
    assert not verify_password("x", "md5$1$2$3$4$5")


def test_the_file_is_private_and_updated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "accounts.json"
    assert add_user(path, "olga", "operator", "first-password")
    assert path.stat().st_mode & 0o777 == 0o600
    assert not add_user(path, "olga", "viewer", "second-password")  # changed, not added
    assert add_user(path, "vic", "viewer", "viewer-password")
    accounts = Accounts.load(path)
    assert len(accounts) == 2
    assert accounts.check("olga", "first-password") is None
    olga = accounts.check("olga", "second-password")
    assert olga is not None and olga.role == "viewer"
    assert accounts.check("nobody", "second-password") is None
    assert "second-password" not in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["accounts.json"]  # no temporary left


def test_unsafe_or_broken_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    with pytest.raises(AccountsError, match="No such file"):
        Accounts.load(path)
    add_user(path, "olga", "operator", "first-password")
    path.chmod(0o644)
    with pytest.raises(AccountsError, match="must be 0600"):
        Accounts.load(path)
    path.chmod(0o600)
    path.write_text(json.dumps({"accounts": {"eve": {"role": "root", "hash": "x"}}}))
    with pytest.raises(AccountsError, match="unknown role"):
        Accounts.load(path)
    with pytest.raises(AccountsError, match="shorter than 10"):
        add_user(tmp_path / "new.json", "olga", "operator", "short")


def test_adduser_reads_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "console.toml"
    config.write_text(f'[console]\naccounts_file = "{tmp_path / "accounts.json"}"\n')

    def adduser(name: str, password: str) -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
        return main(["console", "adduser", name, "--role", "operator", "--config", str(config)])

    assert adduser("olga", "a-long-password") == 0
    assert "added olga (operator)" in capsys.readouterr().out
    assert Accounts.load(tmp_path / "accounts.json").check("olga", "a-long-password")
    assert adduser("olga smith", "a-long-password") == 2
    assert "not a user name" in capsys.readouterr().err
    assert adduser("vic", "short") == 2
    assert "shorter than 10" in capsys.readouterr().err


def test_deluser_removes_one_account_and_says_when_there_is_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "accounts.json"
    config = tmp_path / "console.toml"
    config.write_text(f'[console]\naccounts_file = "{path}"\n')
    add_user(path, "olga", "operator", "first-password")
    add_user(path, "vic", "viewer", "viewer-password")

    def deluser(name: str) -> int:
        return main(["console", "deluser", name, "--config", str(config)])

    assert deluser("olga") == 0
    assert "removed olga" in capsys.readouterr().out
    accounts = Accounts.load(path)  # still private: load refuses a file others may read
    assert [a.name for a in accounts] == ["vic"]
    assert accounts.check("vic", "viewer-password") is not None
    assert deluser("olga") == 1
    assert "no account 'olga'" in capsys.readouterr().err
    assert sorted(p.name for p in path.parent.iterdir()) == ["accounts.json", "console.toml"]


def test_accounts_follow_their_file_and_fail_closed(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    add_user(path, "olga", "operator", "first-password")
    accounts = Accounts.load(path)
    assert accounts.current() is accounts  # unchanged: not read again
    add_user(path, "vic", "viewer", "viewer-password")
    assert sorted(a.name for a in accounts.current()) == ["olga", "vic"]
    path.chmod(0o644)  # unusable now: nobody may log in until it is fixed
    assert len(accounts.current()) == 0
