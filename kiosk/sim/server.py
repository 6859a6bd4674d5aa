"""The simulator's HTTP server: PMS paths and open-ability commands, Bearer auth, fault knobs.

Handlers are plain functions ``handler(conn, params, ctx) -> payload`` registered in
``kiosk.sim.pms.ROUTES`` (by path) and ``kiosk.sim.openability.USER_COMMANDS`` /
``HOTEL_COMMANDS`` (by command). The server wraps each call in one SQLite write
transaction and in the seed's envelope; a :class:`SimError` becomes a clean error
envelope, and nothing a client sends can make it answer 500.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kiosk.sim import openability, pms
from kiosk.sim.db import SimDb
from kiosk.sim.params import (
    BAD_PARAMS,
    NOT_FOUND,
    UNAUTHORIZED,
    UNKNOWN_OPERATION,
    Params,
    SimError,
)

log = logging.getLogger("kiosk.sim")

OA_PREFIX = "/api/v1.0/invoke/open-ability/method/"
OA_COMMANDS = {
    "user-commands": openability.USER_COMMANDS,
    "hotel-commands": openability.HOTEL_COMMANDS,
}
MAX_BODY = 1 << 20


@dataclass
class SimContext:
    """What a handler may know besides its parameters: the simulator's clock and RNG."""

    now: datetime
    rng: random.Random


@dataclass
class Faults:
    """Fault knobs for tests and demos (issue 2, item 6).

    ``failure_rate``: share of requests refused with HTTP 503 before any state change.
    ``lost_reply_rate``: share of requests applied but whose reply is lost (the
    connection closes): the ambiguous case a client must reconcile.
    """

    latency_ms: float = 0.0
    failure_rate: float = 0.0
    lost_reply_rate: float = 0.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def update(self, params: Params) -> None:
        self.latency_ms = _bounded(params, "latency_ms", self.latency_ms, 60_000)
        self.failure_rate = _bounded(params, "failure_rate", self.failure_rate, 1)
        self.lost_reply_rate = _bounded(params, "lost_reply_rate", self.lost_reply_rate, 1)


def _bounded(params: Params, name: str, current: float, upper: float) -> float:
    value = params.raw(name, current)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= upper:
        raise SimError(BAD_PARAMS, f"{name} must be a number from 0 to {upper}")
    return float(value)


class SimServer:
    """The property simulator on ``host:port`` (0 picks a free port), state in ``db_path``.

    ``stop()`` then ``start()`` takes it down and up again on the same port with its state;
    ``outage(seconds)`` does that by itself, for a demo of the offline path.
    """

    def __init__(
        self,
        db_path: str | Path,
        token: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        clock: Callable[[], datetime] | None = None,
        seed: int | None = None,
    ) -> None:
        self.db = SimDb(db_path)
        self.token = token
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rng = random.Random(seed)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> SimServer:
        with self._lock:
            if self._httpd is None:
                httpd = _HTTPServer((self.host, self.port), _Handler)
                httpd.sim = self
                self.port = httpd.server_address[1]
                self._httpd = httpd
                self._thread = threading.Thread(
                    target=httpd.serve_forever,
                    kwargs={"poll_interval": 0.05},  # stop() returns promptly
                    name="sim-http",
                    daemon=True,
                )
                self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            httpd, self._httpd = self._httpd, None
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
                httpd.drop_connections()
                if self._thread is not None:
                    self._thread.join(timeout=5)

    def outage(self, seconds: float) -> None:
        """Stop listening now and come back after ``seconds``, state intact."""

        def run() -> None:
            self.stop()
            time.sleep(seconds)
            self.start()

        threading.Thread(target=run, name="sim-outage", daemon=True).start()

    def serve_forever(self) -> None:
        """Block until interrupted (the ``kiosk sim`` command)."""
        self.start()
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.db.close()

    def call(self, handler: Callable[..., Any], params: Any, replay_key: str | None = None) -> Any:
        """Run one handler in a write transaction (the HTTP path, and seeding).

        With a ``replay_key`` (an open-ability command id) a command already applied is
        answered with its first reply and not applied again (DESIGN.md: a replay is
        recognised and never applied twice).
        """
        ctx = SimContext(now=self.clock(), rng=self.rng)
        with self.db.transaction() as conn:
            if replay_key is not None:
                row = conn.execute(
                    "SELECT reply FROM sim_replies WHERE key = ?", (replay_key,)
                ).fetchone()
                if row is not None:
                    return json.loads(row["reply"])
            payload = handler(conn, Params(params), ctx)
            if replay_key is not None:
                conn.execute(
                    "INSERT INTO sim_replies (key, reply) VALUES (?, ?)",
                    (replay_key, json.dumps(payload)),
                )
            return payload


class _HTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    sim: SimServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close keep-alive connections too: a stopped simulator is down for every client."""
        with self._open_lock:
            open_now, self._open = self._open, set()
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the client's delayed ACK
    # holds the second one back ~40 ms per round trip (measured: 48 ms -> 7 ms).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        if self.path == "/_sim/health":
            self._send(HTTPStatus.OK, {"ok": True, "now": int(self.server.sim.clock().timestamp())})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        sim = self.server.sim
        faults = sim.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return
        raw = self.rfile.read(length)
        if not secrets.compare_digest(self.headers.get("Authorization", ""), f"Bearer {sim.token}"):
            self._reply_error(
                HTTPStatus.UNAUTHORIZED, UNAUTHORIZED, "missing or wrong Bearer token"
            )
            return
        if self.path.startswith("/_sim/"):
            self._admin(raw)
            return
        if faults.failure_rate and faults.rng.random() < faults.failure_rate:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "simulated failure"})
            return
        try:
            body = json.loads(raw or b"{}")
            handler, params, replay_key = self._route(body)
            payload = sim.call(handler, params, replay_key)
        except SimError as exc:
            self._reply_error(HTTPStatus.OK, exc.code, exc.message)
            return
        except (ValueError, UnicodeDecodeError):
            self._reply_error(HTTPStatus.OK, BAD_PARAMS, "body is not valid JSON")
            return
        except Exception:  # a simulator bug: still a clean envelope, and a loud log
            log.exception("handler failed on %s", self.path)
            self._reply_error(HTTPStatus.OK, 500, "internal simulator error")
            return
        if faults.lost_reply_rate and faults.rng.random() < faults.lost_reply_rate:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self._send(HTTPStatus.OK, self._envelope(payload))

    def _is_oa(self) -> bool:
        return self.path.startswith(OA_PREFIX)

    def _route(self, body: Any) -> tuple[Callable[..., Any], Any, str | None]:
        """The handler, its parameters, and the replay key of a mutating command."""
        if self._is_oa():
            commands = OA_COMMANDS.get(self.path[len(OA_PREFIX) :])
            if commands is None:
                raise SimError(NOT_FOUND, f"unknown method {self.path}")
            envelope = Params(body, "body")
            command = envelope.text("command", max_len=100)
            command_id = envelope.text("id", max_len=200)
            if command not in commands:
                raise SimError(UNKNOWN_OPERATION, f"unknown command {command!r}")
            replay_key = None if command.startswith("get_") else f"{command}:{command_id}"
            return commands[command], envelope.raw("param", {}), replay_key
        handler = pms.ROUTES.get(self.path)
        if handler is None:
            raise SimError(NOT_FOUND, f"unknown path {self.path}")
        return handler, body, None

    def _envelope(self, payload: Any) -> dict[str, Any]:
        if self._is_oa():
            return {
                "success": True,
                "timestamp": _now_ms(),
                "result": {} if payload is None else payload,
            }
        return {
            "error_code": 0,
            "description": "success",
            "error_msg": "success",
            "data": {} if payload is None else payload,
        }

    def _reply_error(self, status: HTTPStatus, code: int, message: str) -> None:
        log.info("%s refused: %s %s", self.path, code, message)
        if self._is_oa():
            body: dict[str, Any] = {
                "success": False,
                "timestamp": _now_ms(),
                "code": code,
                "message": message,
                "result": None,
            }
        else:
            body = {"error_code": code, "description": message, "error_msg": message, "data": {}}
        self._send(status, body)

    def _admin(self, raw: bytes) -> None:
        sim = self.server.sim
        try:
            params = Params(json.loads(raw or b"{}"), "body")
            if self.path == "/_sim/faults":
                sim.faults.update(params)
                self._send(
                    HTTPStatus.OK,
                    {
                        "latency_ms": sim.faults.latency_ms,
                        "failure_rate": sim.faults.failure_rate,
                        "lost_reply_rate": sim.faults.lost_reply_rate,
                    },
                )
            elif self.path == "/_sim/outage":
                seconds = _bounded(params, "seconds", 0, 3600)
                self._send(HTTPStatus.OK, {"down_for": seconds})
                sim.outage(seconds)
            else:
                self._send(HTTPStatus.NOT_FOUND, {"error": "unknown admin path"})
        except SimError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": exc.message})
        except ValueError:
            self._send(HTTPStatus.BAD_REQUEST, {"error": "body is not valid JSON"})

    def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _now_ms() -> int:
    return int(time.time() * 1000)
