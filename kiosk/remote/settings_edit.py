"""Setting one key of the kiosk's TOML config remotely: validated, written atomically,
kept. The file is edited line by line so that its comments (the annotated template) stay:
the key's line in its table is replaced (or its commented-out default from the template
uncommented), or the key added to its table, or the table added at the end.

The whole file is validated as ``kiosk run`` would load it before anything is written;
secrets are refused (they belong in credentials, not in a message). The new value takes
effect at the next start (``restart``).
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kiosk.config import KioskConfig, config_errors
from kiosk.config_schema import toml_value, walk


class SettingRefused(ValueError):
    """The key or value cannot be set; ``str`` says why (never the value)."""


def set_config_key(path: Path, key: str, value: Any) -> None:
    """Set ``key`` (dotted) to ``value`` in the TOML file at ``path``."""
    settings = {s.key: s for s in walk(KioskConfig)}
    setting = settings.get(key)
    if setting is None:
        raise SettingRefused(f"no setting {key}")
    if setting.secret:
        raise SettingRefused(f"{key} is a secret: set it as a credential, not remotely")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    new_text = edited(text, setting.path, toml_value(value))
    try:
        values = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingRefused(f"the edit does not parse ({exc})") from None
    if _lookup(values, setting.path) != _lookup(tomllib.loads(f"x = {toml_value(value)}"), ("x",)):
        raise SettingRefused(f"{key}: the file's layout (inline tables?) cannot be edited by line")
    try:
        KioskConfig(**values)
    except ValidationError as exc:
        raise SettingRefused("; ".join(config_errors(exc))) from None
    _write_atomically(path, new_text)


def edited(text: str, path: tuple[str, ...], literal: str) -> str:
    """``text`` with ``path[-1] = literal`` in table ``path[:-1]``."""
    table, name = ".".join(path[:-1]), path[-1]
    lines = text.splitlines()
    header = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    key_line = re.compile(rf"^\s*#?\s*{re.escape(name)}\s*=")
    start = next((i for i, line in enumerate(lines) if _table_of(header, line) == table), None)
    if start is None:
        return "\n".join([*lines, "", f"[{table}]", f"{name} = {literal}"]) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if header.match(lines[i])), len(lines))
    for i in range(start + 1, end):
        if key_line.match(lines[i]):
            lines[i] = f"{name} = {literal}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"{name} = {literal}")
    return "\n".join(lines) + "\n"


def _table_of(header: re.Pattern[str], line: str) -> str | None:
    match = header.match(line)
    return match.group(1).strip() if match else None


def _lookup(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(values, dict) or part not in values:
            return None
        values = values[part]
    return values


def _write_atomically(path: Path, text: str) -> None:
    """A reader sees the old file or the new one, never half; a power cut leaves one."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
