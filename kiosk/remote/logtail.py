"""The newest log records kept in memory for the log-tail command, guest data redacted.

The kiosk logs no guest data by rule; the tail redacts anyway what could be some (long
digit runs: phones, ID and card numbers; e-mail addresses; hex of 16 bytes and more:
keys, card payloads), since a log line from a library is outside that rule.
"""

from __future__ import annotations

import logging
import re
from collections import deque

_REDACTIONS = (
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "<email>"),
    (re.compile(r"\b[0-9A-Fa-f]{32,}\b"), "<hex>"),
    (re.compile(r"\+?\d[\d -]{5,}\d"), "<digits>"),
)


def redact(text: str) -> str:
    for pattern, mark in _REDACTIONS:
        text = pattern.sub(mark, text)
    return text


class LogTail(logging.Handler):
    """A ring of the last ``capacity`` formatted records (redacted when read)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(logging.INFO)
        self._lines: deque[str] = deque(maxlen=capacity)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is not worth a crash
            self.handleError(record)

    def tail(self, lines: int) -> list[str]:
        return [redact(line) for line in list(self._lines)[-lines:]]

    def install(self) -> LogTail:
        logging.getLogger().addHandler(self)
        return self

    def remove(self) -> None:
        logging.getLogger().removeHandler(self)
