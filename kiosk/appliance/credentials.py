"""Secrets from systemd credentials: ``LoadCredential=`` puts each in a file of
``$CREDENTIALS_DIRECTORY``, readable by the service alone and never on disk in the config.

A credential overrides the config file's value (the file should hold no secret) and the
``KIOSK_*`` environment overrides both. An empty file is a secret not set: the installer
creates every credential file, so that the unit starts, and the operator fills in those
the property provides. The outbox key is read by ``kiosk.sealing`` itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic_settings import PydanticBaseSettingsSource

# credential name (a file in /etc/kiosk/credentials) -> the config field it sets
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "backend-token": ("backend", "token"),
    "qr-signing-key": ("qr", "signing_key"),
    "card-site-key-a": ("devices", "encoder", "site_key_a"),
    "card-site-key-b": ("devices", "encoder", "site_key_b"),
    "operator-pin-hash": ("operator", "pin_hash"),
}


def credential_values(directory: Path) -> dict[str, Any]:
    """The config values (nested tables) of the non-empty credential files in ``directory``."""
    values: dict[str, Any] = {}
    for name, (*tables, field) in CREDENTIAL_FIELDS.items():
        path = directory / name
        if not path.is_file():
            continue
        secret = path.read_text().strip()
        if not secret:
            continue
        table = values
        for key in tables:
            table = table.setdefault(key, {})
        table[field] = secret
    return values


class CredentialsSource(PydanticBaseSettingsSource):
    """The settings source of ``$CREDENTIALS_DIRECTORY`` (nothing outside systemd)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads whole tables at once

    def __call__(self) -> dict[str, Any]:
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        return credential_values(Path(directory)) if directory else {}
