"""The console's audit log: one JSON object a line, appended and flushed at once: every
command sent (who, which kiosk, what), its reply (or none), and logins."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# A reply's result values longer than this are recorded by their size only (a screenshot's
# PNG, a long log tail): the log says what happened, it is not an archive.
MAX_VALUE_CHARS = 500


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: each line goes at the end, whatever else writes the file.
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, event: str, **fields: Any) -> None:
        entry = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event}
        entry.update(fields)
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        os.write(self._fd, line.encode())

    def close(self) -> None:
        os.close(self._fd)


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with long values replaced by their size."""
    out: dict[str, Any] = {}
    for key, value in result.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        out[key] = value if len(text) <= MAX_VALUE_CHARS else f"<{len(text)} chars>"
    return out
