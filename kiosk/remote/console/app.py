"""The console's web app (Starlette): login, the fleet page, a kiosk page, their live
streams (server-sent events) and the command endpoint.

Every page and stream needs a session; commands need the operator role and the session's
CSRF token (``X-CSRF-Token``), and are written to the audit log by the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.config import ConsoleConfig
from kiosk.remote.console.accounts import Accounts
from kiosk.remote.console.alerts import ALERT_KINDS
from kiosk.remote.console.auth import LoginThrottle, Session, Sessions, new_token, same_token
from kiosk.remote.console.hub import FleetHub, Listener, NotConnected
from kiosk.remote.schemas import COMMAND_ARGS

log = logging.getLogger("kiosk.console")

HERE = Path(__file__).parent
SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"  # binds the login form's CSRF token before a session exists
FAILED_LOGIN_DELAY_S = 1.0  # every wrong password costs this long (on top of the lockout)
KEEPALIVE_S = 15.0
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Button:
    """A command button of the kiosk page; ``confirm``: it changes the kiosk's service or
    state, so the page asks first."""

    id: str
    label: str
    command: str
    args: dict[str, Any]
    confirm: bool = False


BUTTONS = (
    Button("out-of-service", "Out of service", "maintenance", {"on": True}, confirm=True),
    Button("in-service", "Back in service", "maintenance", {"on": False}),
    Button("restart", "Restart", "restart", {}, confirm=True),
    Button("reload-config", "Reload config", "reload_config", {}, confirm=True),
    Button("self-test", "Self-test", "self_test", {}),
    Button("print-test", "Print test", "print_test", {}),
    Button("outbox-list", "Outbox list", "outbox_list", {}),
    Button("outbox-retry", "Outbox retry", "outbox_retry", {}, confirm=True),
    Button("screenshot", "Screenshot", "screenshot", {}),
    Button("log-tail", "Log tail", "log_tail", {"lines": 100}),
)
# set_config has a form of its own (key, value), confirmed too.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every response (a plain ASGI wrapper: it leaves the
    event streams streaming)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


class Console:
    """The routes, with the state they share: accounts, sessions, throttle and the hub."""

    def __init__(self, config: ConsoleConfig, accounts: Accounts, hub: FleetHub) -> None:
        self.config = config
        self.accounts = accounts
        self.hub = hub
        self.sessions = Sessions(config.session_idle_min * 60)
        self.throttle = LoginThrottle(config.login_max_failures, config.login_lockout_s)
        self.templates = Jinja2Templates(directory=HERE / "templates")

    # --- helpers -------------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        return session if session is not None and self._entitled(session) else None

    def _entitled(self, session: Session) -> bool:
        """Whether the session's account still exists as it logged in: removing an account
        (``kiosk console deluser``), changing its role or its password ends its sessions at
        once (a leaked password is changed to lock its holder out)."""
        self.accounts = self.accounts.current()
        account = self.accounts.get(session.user)
        if (
            account is not None
            and account.role == session.role
            and account.password_hash == session.credential
        ):
            return True
        self.sessions.drop(session.token)
        self.hub.audit.write("session_ended", user=session.user, why="account changed or removed")
        return False

    def _cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=self.config.secure_cookies,
            httponly=True, samesite="strict",
        )  # fmt: skip

    def _page(self, request: Request, name: str, session: Session, **context: Any) -> Response:
        offline = f"offline > {self.config.offline_alert_min:g} min"
        kinds = {**ALERT_KINDS, "offline": offline}
        return self.templates.TemplateResponse(
            request,
            name,
            {"session": session, "alert_kinds": kinds, "connected": self.hub.connected, **context},
        )

    # --- login ---------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        return self._login_page(request, "", 200)

    def _login_page(
        self, request: Request, error: str, status: int, username: str = ""
    ) -> Response:
        token = new_token()
        next_path = _local_path(request.query_params.get("next", "/"))
        response = self.templates.TemplateResponse(
            request, "login.html",
            {"csrf": token, "error": error, "next": next_path, "username": username},
            status_code=status,
        )  # fmt: skip
        self._cookie(response, LOGIN_COOKIE, token, 600)
        return response

    async def login(self, request: Request) -> Response:
        form = await _form(request)
        if not same_token(request.cookies.get(LOGIN_COOKIE, ""), form.get("csrf")):
            return _refuse(403, "missing or wrong CSRF token: reload the login page")
        name, password = form.get("username", ""), form.get("password", "")
        client = request.client.host if request.client else "?"
        keys = [f"user:{name}", f"addr:{client}"]
        wait = self.throttle.retry_after(keys)
        if wait > 0:
            msg = f"too many failed logins: try again in {int(wait) + 1} s"
            return self._login_page(request, msg, 429, name)
        self.accounts = self.accounts.current()  # an account added since start-up
        account = await asyncio.to_thread(self.accounts.check, name, password)
        if account is None:
            self.throttle.failed(keys)
            # A name that is no account may be a password typed in the wrong field: not logged.
            who = name if name in self.accounts else "(not an account)"
            self.hub.audit.write("login_failed", user=who, address=client)
            await asyncio.sleep(FAILED_LOGIN_DELAY_S)
            return self._login_page(request, "wrong user name or password", 401, name)
        self.throttle.succeeded(keys)
        session = self.sessions.create(account.name, account.role, account.password_hash)
        self.hub.audit.write("login", user=account.name, role=account.role, address=client)
        response = RedirectResponse(_local_path(form.get("next", "/")), status_code=303)
        self._cookie(response, SESSION_COOKIE, session.token, None)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    async def logout(self, request: Request) -> Response:
        session = self.session(request)
        form = await _form(request)
        if session is None or not same_token(session.csrf, form.get("csrf")):
            return _refuse(403, "missing or wrong CSRF token")
        self.sessions.drop(session.token)
        self.hub.audit.write("logout", user=session.user)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- pages and data ------------------------------------------------------------------

    async def fleet_page(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return _to_login(request)
        rows = self.hub.rows()
        return self._page(request, "fleet.html", session, rows=rows)

    async def fleet_json(self, request: Request) -> Response:
        if self.session(request) is None:
            return _refuse(401, "not logged in")
        return JSONResponse({"rows": self.hub.rows(), "broker": {"connected": self.hub.connected}})

    async def kiosk_page(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return _to_login(request)
        kiosk = request.path_params["kiosk"]
        detail = self.hub.detail(kiosk)
        if detail is None:
            return _refuse(404, f"no kiosk {kiosk} has been heard of")
        return self._page(
            request, "kiosk.html", session, kiosk=kiosk, detail=detail, buttons=BUTTONS
        )

    async def kiosk_json(self, request: Request) -> Response:
        if self.session(request) is None:
            return _refuse(401, "not logged in")
        detail = self.hub.detail(request.path_params["kiosk"])
        return _refuse(404, "unknown kiosk") if detail is None else JSONResponse(detail)

    async def screenshot(self, request: Request) -> Response:
        if self.session(request) is None:
            return _refuse(401, "not logged in")
        state = self.hub.kiosks.get(request.path_params["kiosk"])
        if state is None or state.screenshot is None:
            return _refuse(404, "no screenshot yet")
        return Response(state.screenshot, media_type="image/png")

    async def command(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return _refuse(401, "not logged in")
        if not same_token(session.csrf, request.headers.get("x-csrf-token")):
            return _refuse(403, "missing or wrong CSRF token")
        if not session.may_command:
            return _refuse(403, f"{session.user} is a viewer: no commands")
        kiosk = request.path_params["kiosk"]
        if kiosk not in self.hub.kiosks:
            return _refuse(404, f"no kiosk {kiosk} has been heard of")
        try:
            body = json.loads(await request.body())
            name, args = body["command"], body.get("args", {})
            COMMAND_ARGS[name].model_validate(args)
        except (ValueError, KeyError, TypeError) as exc:
            why = exc.errors(include_url=False) if isinstance(exc, ValidationError) else str(exc)
            return JSONResponse({"error": f"not a command: {why}"}, status_code=400)
        try:
            rid = await self.hub.send(session.user, kiosk, name, args)
        except NotConnected:
            return _refuse(503, "no broker connection: try again shortly")
        return JSONResponse({"request_id": rid}, status_code=202)

    # --- live streams --------------------------------------------------------------------

    async def fleet_events(self, request: Request) -> Response:
        return self._stream(request, None)

    async def kiosk_events(self, request: Request) -> Response:
        return self._stream(request, request.path_params["kiosk"])

    def _stream(self, request: Request, kiosk: str | None) -> Response:
        session = self.session(request)
        if session is None:
            return _refuse(401, "not logged in")
        listener = self.hub.listen(kiosk)
        body = self._events(session, listener)
        headers = {"X-Accel-Buffering": "no"}  # nginx: pass each event on at once
        return StreamingResponse(body, media_type="text/event-stream", headers=headers)

    async def _events(self, session: Session, listener: Listener) -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            while self.sessions.alive(session) and self._entitled(session):
                try:
                    name, data = await asyncio.wait_for(listener.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
            yield "event: logout\ndata: {}\n\n"
        finally:
            self.hub.forget(listener)


def _local_path(path: str) -> str:
    """Only a path on this console (no open redirect to another site)."""
    return path if path.startswith("/") and not path.startswith("//") else "/"


async def _form(request: Request) -> dict[str, str]:
    """An url-encoded form body, each field's first value."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _refuse(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _to_login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def create_app(config: ConsoleConfig, accounts: Accounts, hub: FleetHub) -> ASGIApp:
    """The console's ASGI app; its lifespan runs ``hub`` (the broker connection)."""
    console = Console(config, accounts, hub)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(hub.run(), name="console-hub")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            hub.audit.close()

    routes = [
        Route("/", console.fleet_page),
        Route("/login", console.login_form, methods=["GET"]),
        Route("/login", console.login, methods=["POST"]),
        Route("/logout", console.logout, methods=["POST"]),
        Route("/api/fleet", console.fleet_json),
        Route("/events/fleet", console.fleet_events),
        Route("/kiosk/{kiosk}", console.kiosk_page),
        Route("/api/kiosk/{kiosk}", console.kiosk_json),
        Route("/events/kiosk/{kiosk}", console.kiosk_events),
        Route("/kiosk/{kiosk}/screenshot.png", console.screenshot),
        Route("/kiosk/{kiosk}/command", console.command, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, max_body_size=MAX_BODY)
    app.state.console = console
    return SecurityHeaders(app)
