"""Guest personal data at rest: sealed (encrypted and authenticated) with one kiosk key.

The outbox's requests and the arrivals cache hold names, phones and ID numbers, so
they are stored sealed with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).
The key comes from a systemd credential (``$CREDENTIALS_DIRECTORY/outbox-key``) when
the service has one, else from ``<state dir>/secret.key``, created 0600 on first use.
A lost key makes queued guest data unreadable, never readable by someone else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "secret.key"
CREDENTIAL = "outbox-key"


class SealError(Exception):
    """Sealed data that this kiosk's key cannot open (another key, or tampered with)."""


class Sealer:
    """Seals JSON values to bytes and opens them again."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> Sealer:
        """The kiosk's key: the systemd credential if present, else the state dir's key file."""
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        if credentials and (Path(credentials) / CREDENTIAL).is_file():
            return cls((Path(credentials) / CREDENTIAL).read_bytes().strip())
        path = state_dir / KEY_FILE
        if not path.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: two processes starting at once agree on one key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(Fernet.generate_key())
                    fh.flush()
                    os.fsync(fh.fileno())
        return cls(path.read_bytes().strip())

    def seal(self, value: Any) -> bytes:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode())

    def open(self, token: bytes) -> Any:
        try:
            return json.loads(self._fernet.decrypt(token))
        except InvalidToken:
            raise SealError("sealed data does not open with this kiosk's key") from None
