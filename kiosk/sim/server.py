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
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kiosk.sim import openability, pms
from kiosk.sim.db import SimDb
from kiosk.sim.params import (
    BAD_PARAMS,
    MAX_UNIX_S,
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
MAX_DEPTH = 32  # JSON nesting: the seeds' deepest request (create's tenant areas) nests 6 levels
READ_TIMEOUT_S = 10.0  # a client silent this long mid-request (or idle) is disconnected
LINGER_S = 1.0  # after refusing a body unread: how long its bytes are drained
_CONTENT_LENGTH = re.compile(r"[0-9]{1,10}")  # ASCII digits: int() also takes "+1", "1_0", "１"
RETRY_AFTER = {"Retry-After": "1"}  # on a simulated 503: the client may come back in a second
# Upper bounds of the fault knobs: rates and latency are numbers, the counts integers.
RATE_KNOBS = {"latency_ms": 60_000, "failure_rate": 1, "lost_reply_rate": 1}
COUNT_KNOBS = {"fail_next": 10_000, "lose_next": 10_000}
# Read-only PMS operations, by name; the simulator keeps its own reading of the seed.
PMS_READ_PREFIXES = ("get", "list", "batchGet", "calculate")


@dataclass
class SimContext:
    """What a handler may know besides its parameters: the simulator's clock and RNG."""

    now: datetime
    rng: random.Random


@dataclass
class Faults:
    """Fault knobs for tests and demos (issue 2, item 6).

    ``failure_rate``: share of requests refused with HTTP 503 before any state change.
    ``lost_reply_rate``: share of mutating requests applied but whose reply is lost (the
    connection closes): the ambiguous case a client must reconcile.
    ``fail_next`` / ``lose_next``: the same for the next so many requests (for
    ``lose_next``, applied mutating ones), counted down; a count applies before its rate.
    """

    latency_ms: float = 0.0
    failure_rate: float = 0.0
    lost_reply_rate: float = 0.0
    fail_next: int = 0
    lose_next: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    # Handler threads count down concurrently.
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def update(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Set the knobs ``values`` names and return them all; one bad name or value raises
        ``SimError`` and changes none."""
        checked = {name: _knob(name, value) for name, value in values.items()}
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)
            return self.knobs()

    def knobs(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in (*RATE_KNOBS, *COUNT_KNOBS)}

    def fail_now(self) -> bool:
        """Whether to refuse this request with a 503 (a counted failure, or by the rate)."""
        with self._lock:
            if self.fail_next:
                self.fail_next -= 1
                return True
            return bool(self.failure_rate) and self.rng.random() < self.failure_rate

    def lose_now(self) -> bool:
        """Whether to drop the reply of this applied mutating request."""
        with self._lock:
            if self.lose_next:
                self.lose_next -= 1
                return True
            return bool(self.lost_reply_rate) and self.rng.random() < self.lost_reply_rate


def _knob(name: str, value: Any) -> float:
    """``value`` checked for the knob ``name`` (JSON's true is not a number here)."""
    if name in COUNT_KNOBS:
        upper = COUNT_KNOBS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
            raise SimError(BAD_PARAMS, f"{name} must be an integer from 0 to {upper}")
        return value
    if name not in RATE_KNOBS:
        raise SimError(BAD_PARAMS, f"unknown fault knob {name[:40]!r}")
    upper = RATE_KNOBS[name]
    number = not isinstance(value, bool) and isinstance(value, int | float)
    if not number or not 0 <= value <= upper:  # NaN fails the comparison too
        raise SimError(BAD_PARAMS, f"{name} must be a number from 0 to {upper}")
    return float(value)


def _bounded(params: Params, name: str, current: float, upper: float) -> float:
    value = params.raw(name, current)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= upper:
        raise SimError(BAD_PARAMS, f"{name} must be a number from 0 to {upper}")
    return float(value)


@dataclass(frozen=True)
class _ShiftedClock:
    """``base`` moved by ``offset``: it runs on at ``base``'s pace (a fixed clock stays fixed)."""

    base: Callable[[], datetime]
    offset: timedelta

    def __call__(self) -> datetime:
        return self.base() + self.offset


class SimServer:
    """The property simulator on ``host:port`` (0 picks a free port), state in ``db_path``.

    ``stop()`` then ``start()`` takes it down and up again on the same port with its state;
    ``outage(seconds)`` does that by itself, for a demo of the offline path; ``set_clock``
    moves its clock. A connection silent for ``read_timeout`` seconds is closed.
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
        read_timeout: float = READ_TIMEOUT_S,
    ) -> None:
        self.db = SimDb(db_path)
        self.read_timeout = read_timeout
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
        """Stop listening now and come back after ``seconds``, state intact.

        Returns once down, so that a test's next request meets the outage.
        """
        self.stop()
        comeback = threading.Timer(seconds, self.start)
        comeback.name, comeback.daemon = "sim-outage", True
        comeback.start()

    def set_clock(self, now: datetime | None) -> None:
        """Read ``now`` (aware) from here on, running on from there; None: the clock the
        simulator had before any ``set_clock``."""
        base = self.clock.base if isinstance(self.clock, _ShiftedClock) else self.clock
        if now is None:
            self.clock = base
        elif now.tzinfo is None:
            raise ValueError("the simulator's clock needs an aware datetime")
        else:
            self.clock = _ShiftedClock(base, now - base())

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
        # Open connections, each with the moment its request must have arrived whole (None
        # while it is being answered): the socket's timeout bounds one read only, and a
        # client trickling a byte at a time would otherwise hold a thread for ever.
        self._open: dict[socket.socket, float | None] = {}
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open[request] = None
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.pop(request, None)
        super().shutdown_request(request)

    def await_request(self, conn: socket.socket, read: bool) -> None:
        """Start (``read`` False) or end the time ``conn`` has to send its next request."""
        with self._open_lock:
            if conn in self._open:
                self._open[conn] = None if read else time.monotonic() + self.sim.read_timeout

    def service_actions(self) -> None:
        """Close connections whose request is overdue (``serve_forever`` calls this every
        poll interval): the handler's blocked read then ends, and so does the connection."""
        now = time.monotonic()
        with self._open_lock:
            overdue = [c for c, due in self._open.items() if due is not None and due < now]
            for conn in overdue:
                self._open[conn] = None
        for conn in overdue:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-reply is routine; anything else is a simulator bug."""
        if isinstance(sys.exception(), OSError):
            log.debug("connection from %s lost", client_address[0])
        else:
            log.exception("connection from %s failed", client_address[0])

    def drop_connections(self) -> None:
        """Close keep-alive connections too: a stopped simulator is down for every client."""
        with self._open_lock:
            open_now, self._open = list(self._open), {}
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the client's delayed ACK
    # holds the second one back ~40 ms per round trip (measured: 48 ms -> 7 ms).
    disable_nagle_algorithm = True

    def setup(self) -> None:
        # StreamRequestHandler puts ``timeout`` on the socket: a stalled client is dropped.
        self.timeout = self.server.sim.read_timeout
        super().setup()

    def handle_one_request(self) -> None:
        self.server.await_request(self.connection, read=False)
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self.server.await_request(self.connection, read=True)
        if self._framing_headers():  # a body on a GET is never read: the stream is lost
            self.close_connection = True
        if self.path == "/_sim/health":
            self._send(HTTPStatus.OK, {"ok": True, "now": int(self.server.sim.clock().timestamp())})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        sim = self.server.sim
        faults = sim.faults
        raw = self._read_body()
        if raw is None:
            return
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if not self._authorized():
            self._reply_error(
                HTTPStatus.UNAUTHORIZED, UNAUTHORIZED, "missing or wrong Bearer token"
            )
            return
        if self.path.startswith("/_sim/"):
            self._admin(raw)
            return
        if faults.fail_now():
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "simulated failure"}, RETRY_AFTER)
            return
        try:
            handler, params, replay_key, mutating = self._route(_parse_json(raw))
            payload = sim.call(handler, params, replay_key)
        except SimError as exc:
            self._reply_error(HTTPStatus.OK, exc.code, exc.message)
            return
        except Exception:  # a simulator bug: still a clean envelope, and a loud log
            log.exception("handler failed on %s", self.path)
            self._reply_error(HTTPStatus.OK, 500, "internal simulator error")
            return
        # A lost read changes nothing a client must reconcile: only writes lose replies.
        if mutating and faults.lose_now():
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(HTTPStatus.OK, self._envelope(payload))

    def _framing_headers(self) -> bool:
        return "Content-Length" in self.headers or "Transfer-Encoding" in self.headers

    def _read_body(self) -> bytes | None:
        """The whole body as ``Content-Length`` announces it, or None once refused.

        A refusal closes the connection: whatever the client sends after it can no
        longer be told apart from the next request. A body cut short is never applied.
        """
        lengths = self.headers.get_all("Content-Length", [])
        problem = None
        if "Transfer-Encoding" in self.headers:
            problem = HTTPStatus.BAD_REQUEST, "send the body with Content-Length, not chunked"
        elif len(set(lengths)) > 1 or not all(_CONTENT_LENGTH.fullmatch(n) for n in lengths):
            problem = HTTPStatus.BAD_REQUEST, "Content-Length must be one decimal byte count"
        elif lengths and int(lengths[0]) > MAX_BODY:
            problem = HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body larger than {MAX_BODY} bytes"
        if problem is None:
            length = int(lengths[0]) if lengths else 0
            raw = self.rfile.read(length)  # a stall past read_timeout raises TimeoutError
            self.server.await_request(self.connection, read=True)
            if len(raw) == length:
                return raw
            problem = HTTPStatus.BAD_REQUEST, "body shorter than its Content-Length"
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may be gone already
            self._reply_error(problem[0], BAD_PARAMS, problem[1])
            self._linger()
        return None

    def _linger(self) -> None:
        """Half-close and drop what the client still sends, for a moment: closing on unread
        bytes would make the kernel reset the connection, and the refusal with it."""
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(LINGER_S)
        deadline, drained = time.monotonic() + LINGER_S, 0
        while drained < MAX_BODY * 4 and time.monotonic() < deadline:
            chunk = self.connection.recv(1 << 16)
            if not chunk:
                return
            drained += len(chunk)

    def _authorized(self) -> bool:
        """Exactly one ``Bearer TOKEN`` header. Compared as bytes: ``compare_digest`` raises
        on non-ASCII text, and a header may carry any byte."""
        sent = self.headers.get_all("Authorization", [])
        expected = f"Bearer {self.server.sim.token}".encode()
        # http.client decodes header bytes as Latin-1: encoding back gives the bytes sent.
        return len(sent) == 1 and secrets.compare_digest(sent[0].encode("latin-1"), expected)

    def _is_oa(self) -> bool:
        return self.path.startswith(OA_PREFIX)

    def _route(self, body: Any) -> tuple[Callable[..., Any], Any, str | None, bool]:
        """The handler, its parameters, the replay key of a mutating command, and whether
        the request may change state."""
        if self._is_oa():
            commands = OA_COMMANDS.get(self.path[len(OA_PREFIX) :])
            if commands is None:
                raise SimError(NOT_FOUND, f"unknown method {self.path}")
            envelope = Params(body, "body")
            command = envelope.text("command", max_len=100)
            command_id = envelope.text("id", max_len=200)
            if not command_id.strip():  # the id is the replay key: an empty one is no key
                raise envelope.fail("id", "a non-empty string")
            if command not in commands:
                raise SimError(UNKNOWN_OPERATION, f"unknown command {command!r}")
            mutating = not command.startswith("get_")
            replay_key = f"{command}:{command_id}" if mutating else None
            return commands[command], envelope.raw("param", {}), replay_key, mutating
        handler = pms.ROUTES.get(self.path)
        if handler is None:
            raise SimError(NOT_FOUND, f"unknown path {self.path}")
        return handler, body, None, not _is_pms_read(self.path.rsplit("/", 1)[-1])

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
            body = _parse_json(raw)
            params = Params(body, "body")
            if self.path == "/_sim/faults":
                self._send(HTTPStatus.OK, sim.faults.update(body))
            elif self.path == "/_sim/outage":
                seconds = _bounded(params, "seconds", 0, 3600)
                self._send(HTTPStatus.OK, {"down_for": seconds})
                sim.outage(seconds)
            elif self.path == "/_sim/clock":
                sim.set_clock(_clock_time(body))
                self._send(HTTPStatus.OK, {"now": int(sim.clock().timestamp())})
            else:
                self._send(HTTPStatus.NOT_FOUND, {"error": "unknown admin path"})
        except SimError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": exc.message})

    def _send(
        self, status: HTTPStatus, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _parse_json(raw: bytes) -> Any:
    """The request body as JSON (empty: ``{}``); strict JSON only, nested at most MAX_DEPTH."""
    too_deep = SimError(BAD_PARAMS, f"body nests deeper than {MAX_DEPTH} levels")
    try:
        body = json.loads(raw or b"{}", parse_constant=_refuse_constant)
    except RecursionError:
        raise too_deep from None
    except ValueError:  # also UnicodeDecodeError, and integers past 4300 digits
        raise SimError(BAD_PARAMS, "body is not valid JSON") from None
    if _too_deep(body):
        raise too_deep
    return body


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json takes NaN and Infinity


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > MAX_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False


def _now_ms() -> int:
    return int(time.time() * 1000)


def _is_pms_read(name: str) -> bool:
    """get*, list*, batchGet*, calculate*, check*Availability and ``generateRoomCard``
    (it reads a stay's key payload) change nothing."""
    return (
        name.startswith(PMS_READ_PREFIXES)
        or (name.startswith("check") and name.endswith("Availability"))
        or name == "generateRoomCard"
    )


def _clock_time(body: dict[str, Any]) -> datetime | None:
    """``{"now": unix seconds}`` -> that instant; ``{"now": null}`` -> None (real time)."""
    if "now" not in body:
        raise SimError(BAD_PARAMS, "body.now is required: unix seconds, or null")
    now = body["now"]
    if now is None:
        return None
    if isinstance(now, bool) or not isinstance(now, int | float) or not 0 <= now <= MAX_UNIX_S:
        raise SimError(BAD_PARAMS, f"body.now must be unix seconds from 0 to {MAX_UNIX_S}")
    return datetime.fromtimestamp(now, UTC)
