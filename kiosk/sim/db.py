"""The simulator's SQLite state: one file, WAL, one write transaction per request.

Every request runs inside ``BEGIN IMMEDIATE``: requests are serialised on writes,
so two guests racing for the last free room cannot both win (issue 2, rule tests).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

# Each part of the simulator owns its tables in its own schema file.
SCHEMAS = ("kiosk.sim", "kiosk.sim.pms", "kiosk.sim.openability")


class SimDb:
    """Thread-safe access to the simulator's SQLite database at ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        conn = self._connection()
        for package in SCHEMAS:  # CREATE ... IF NOT EXISTS: safe on every start
            conn.executescript(resources.files(package).joinpath("schema.sql").read_text())

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30, check_same_thread=True
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back on any exception."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
