"""Operator accounts: user names, roles and scrypt password hashes in one JSON file (mode
0600), written by ``kiosk console adduser`` / ``deluser`` and read by the console at
start-up and again whenever the file changes (so that a removed account, or a lowered
role, takes effect on a running console at once).

A hash is ``scrypt$<n>$<r>$<p>$<salt b64>$<key b64>``: the parameters travel with it, so
they can be raised later without invalidating older hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Role = Literal["viewer", "operator"]
ROLES: tuple[Role, ...] = ("viewer", "operator")
NAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
MIN_PASSWORD = 10

# scrypt at n=2**14, r=8: 16 MiB and ~50 ms a try; the console runs it in a worker thread.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_KEY_BYTES = 32


class AccountsError(Exception):
    """The accounts file cannot be used; ``str`` says why (never a hash)."""


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, n, r, p)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(key)])


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded`` (constant time); False for a malformed hash."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(expected, actual)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=_KEY_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    password_hash: str


# Checked against when the user name is unknown, so that a wrong name costs the same
# time as a wrong password (no user-name probing by timing).
_DUMMY_HASH = hash_password(secrets.token_hex(8), n=SCRYPT_N)


class Accounts:
    """The accounts of one file, as it was when read."""

    def __init__(
        self, accounts: dict[str, Account], path: Path | None = None, stamp: object = None
    ) -> None:
        self._accounts = accounts
        self._path = path
        self._stamp = stamp

    def __contains__(self, name: str) -> bool:
        return name in self._accounts

    def __len__(self) -> int:
        return len(self._accounts)

    def __iter__(self) -> Iterator[Account]:
        return iter(self._accounts.values())

    def get(self, name: str) -> Account | None:
        return self._accounts.get(name)

    def current(self) -> Accounts:
        """These accounts, or the file's again when it changed since it was read; none at
        all when it can no longer be used (a console fails closed)."""
        if self._path is None or _stamp(self._path) == self._stamp:
            return self
        try:
            return Accounts.load(self._path)
        except AccountsError:
            return Accounts({}, self._path, _stamp(self._path))

    def check(self, name: str, password: str) -> Account | None:
        """The account when ``password`` is its password, else None (slow on purpose:
        call it in a worker thread)."""
        account = self._accounts.get(name)
        ok = verify_password(password, account.password_hash if account else _DUMMY_HASH)
        return account if ok and account is not None else None

    @classmethod
    def load(cls, path: Path) -> Accounts:
        """Read ``path``; refused when others may read it (the hashes are secrets)."""
        try:
            stamp = _stamp(path)
            mode = path.stat().st_mode
            text = path.read_text()
        except OSError as exc:
            why = f"{path}: {exc.strerror} (create it: kiosk console adduser)"
            raise AccountsError(why) from None
        if mode & 0o077:
            raise AccountsError(f"{path}: mode {mode & 0o777:o}, must be 0600 (chmod 600 {path})")
        try:
            entries = json.loads(text)["accounts"]
            accounts = {
                name: Account(name, _role(entry["role"]), str(entry["hash"]))
                for name, entry in entries.items()
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise AccountsError(f"{path}: not an accounts file ({exc})") from None
        return cls(accounts, path, stamp)


def _stamp(path: Path) -> object:
    """What changes when the file is replaced or written (None: it is gone)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _role(value: object) -> Role:
    if value not in ROLES:
        raise ValueError(f"unknown role {value!r}")
    return value  # type: ignore[return-value]


def add_user(path: Path, name: str, role: Role, password: str) -> bool:
    """Add ``name`` (or change its role and password) in ``path``, written atomically with
    mode 0600; True when the account is new."""
    if len(password) < MIN_PASSWORD:
        raise AccountsError(f"the password is shorter than {MIN_PASSWORD} characters")
    entries: dict[str, dict[str, str]] = {}
    if path.exists():
        entries = {a.name: {"role": a.role, "hash": a.password_hash} for a in Accounts.load(path)}
    new = name not in entries
    entries[name] = {"role": role, "hash": hash_password(password)}
    _write(path, entries)
    return new


def remove_user(path: Path, name: str) -> bool:
    """Remove ``name`` from ``path``; False when it has no such account."""
    accounts = Accounts.load(path)
    if name not in accounts:
        return False
    _write(
        path,
        {a.name: {"role": a.role, "hash": a.password_hash} for a in accounts if a.name != name},
    )
    return True


def _write(path: Path, entries: dict[str, dict[str, str]]) -> None:
    """The accounts file, replaced atomically, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"version": 1, "accounts": entries}, indent=2, sort_keys=True) + "\n"
    # mkstemp creates the file 0600: the hashes are never readable by others, not even briefly.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
