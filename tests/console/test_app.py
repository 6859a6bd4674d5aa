"""The console's HTTP surface without a browser or a broker (httpx over ASGI; the hub is
not connected): cookies, CSRF, login throttle, roles, the command endpoint's
checks, security headers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from kiosk.cli import main
from kiosk.config import ConsoleConfig, RemoteConfig
from kiosk.remote.console import app as console_app
from kiosk.remote.console.accounts import Accounts, add_user, remove_user
from kiosk.remote.console.audit import AuditLog
from kiosk.remote.console.hub import FleetHub
from kiosk.remote.operator import Message
from kiosk.remote.schemas import COMMAND_ARGS, Status

PASSWORDS = {"olga": "operator-pass-1", "vic": "viewer-pass-22"}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(console_app, "FAILED_LOGIN_DELAY_S", 0.0)
    add_user(tmp_path / "accounts.json", "olga", "operator", PASSWORDS["olga"])
    add_user(tmp_path / "accounts.json", "vic", "viewer", PASSWORDS["vic"])
    return tmp_path


def make_client(folder: Path, **changes: object) -> httpx.AsyncClient:
    config = ConsoleConfig(
        accounts_file=folder / "accounts.json", audit_log=folder / "audit.jsonl",
        login_max_failures=3, **changes,  # type: ignore[arg-type]
    )  # fmt: skip
    hub = FleetHub(RemoteConfig(fleet_key="k"), config, AuditLog(config.audit_log))  # type: ignore[arg-type]
    hub.apply(Message("sim-0001", "status", Status(kiosk="sim-0001", state="online")))
    app = console_app.create_app(config, Accounts.load(config.accounts_file), hub)
    secure = config.secure_cookies
    base = "https://testserver" if secure else "http://testserver"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)


async def login_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


async def log_in(client: httpx.AsyncClient, user: str, password: str | None = None) -> str:
    """Log in; the session's CSRF token."""
    token = await login_token(client)
    form = {"csrf": token, "username": user, "password": password or PASSWORDS[user]}
    done = await client.post("/login", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    page = await client.get("/")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match
    return match.group(1)


async def test_cookies_are_secure_httponly_and_strict(folder: Path) -> None:
    client = make_client(folder)  # secure_cookies defaults to on
    page = await client.get("/login")
    assert re.search(r"console_login=\S+; HttpOnly; Max-Age=600; Path=/; SameSite=strict; Secure",
                     page.headers["set-cookie"])  # fmt: skip
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"csrf": token, "username": "olga", "password": PASSWORDS["olga"], "next": "/kiosk/x"}
    done = await client.post("/login", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/kiosk/x"
    cookie = [c for c in done.headers.get_list("set-cookie") if c.startswith("console_session=")]
    assert cookie and all(flag in cookie[0] for flag in ("HttpOnly", "SameSite=strict", "Secure"))
    for name, value in console_app.SECURITY_HEADERS:
        assert page.headers[name.decode()] == value.decode()


async def test_login_needs_its_csrf_token_and_the_right_password(folder: Path) -> None:
    client = make_client(folder, secure_cookies=False)
    assert (await client.get("/", follow_redirects=False)).headers["location"] == "/login?next=/"
    assert (await client.get("/api/fleet")).status_code == 401
    form = {"username": "olga", "password": PASSWORDS["olga"]}
    assert (await client.post("/login", data=form)).status_code == 403  # no token
    form["csrf"] = "guessed"
    await login_token(client)
    assert (await client.post("/login", data=form)).status_code == 403  # not the cookie's
    wrong = await client.post(
        "/login", data={**form, "csrf": await login_token(client), "password": "x"}
    )
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    await log_in(client, "olga")
    assert [r["kiosk"] for r in (await client.get("/api/fleet")).json()["rows"]] == ["sim-0001"]
    # An open redirect is not offered.
    token = await login_token(client)
    done = await client.post(
        "/login", data={**form, "csrf": token, "next": "//evil.example/"}, follow_redirects=False
    )
    assert done.headers["location"] == "/"


async def test_failed_logins_lock_the_name_out(folder: Path) -> None:
    client = make_client(folder, secure_cookies=False)
    for _ in range(3):
        form = {"csrf": await login_token(client), "username": "olga", "password": "guess"}
        assert (await client.post("/login", data=form)).status_code == 401
    form = {"csrf": await login_token(client), "username": "olga", "password": PASSWORDS["olga"]}
    locked = await client.post("/login", data=form)
    assert locked.status_code == 429 and "too many failed logins" in locked.text
    audit = [json.loads(line) for line in (folder / "audit.jsonl").read_text().splitlines()]
    assert [e["event"] for e in audit] == ["login_failed"] * 3
    # A mistyped name (perhaps a password) is not written down.
    form = {"csrf": await login_token(client), "username": "hunter2-oops", "password": "x"}
    await client.post("/login", data=form)
    assert "hunter2" not in (folder / "audit.jsonl").read_text()


async def test_the_command_endpoint_checks_before_sending(folder: Path) -> None:
    client = make_client(folder, secure_cookies=False)
    url = "/kiosk/sim-0001/command"
    body = {"command": "maintenance", "args": {"on": True}}
    assert (await client.post(url, json=body)).status_code == 401
    csrf = await log_in(client, "olga")
    assert (await client.post(url, json=body)).status_code == 403  # no CSRF token
    assert (
        await client.post(url, json=body, headers={"X-CSRF-Token": "x" + csrf})
    ).status_code == 403
    headers = {"X-CSRF-Token": csrf}
    assert (
        await client.post("/kiosk/sim-9999/command", json=body, headers=headers)
    ).status_code == 404
    for bad in ({"command": "format_disk"}, {"command": "maintenance", "args": {"on": "x"}}, {}):
        assert (await client.post(url, json=bad, headers=headers)).status_code == 400, bad
    # Checked and well-formed, but the hub has no broker: not sent, and said so.
    refused = await client.post(url, json=body, headers=headers)
    assert refused.status_code == 503 and "no broker" in refused.json()["error"]
    assert (await client.get("/kiosk/sim-0001")).status_code == 200
    assert (await client.get("/kiosk/sim-9999")).status_code == 404


async def test_a_viewer_sees_but_cannot_command(folder: Path) -> None:
    client = make_client(folder, secure_cookies=False)
    csrf = await log_in(client, "vic")
    page = await client.get("/kiosk/sim-0001")
    assert page.status_code == 200 and 'id="commands"' not in page.text
    assert 'class="command' not in page.text
    body = {"command": "screenshot", "args": {}}
    refused = await client.post(
        "/kiosk/sim-0001/command", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert refused.status_code == 403 and "viewer" in refused.json()["error"]


async def test_logout_needs_the_token_and_ends_the_session(folder: Path) -> None:
    client = make_client(folder, secure_cookies=False)
    csrf = await log_in(client, "olga")
    assert (await client.post("/logout", data={})).status_code == 403
    assert (await client.get("/api/fleet")).status_code == 200
    done = await client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert (await client.get("/api/fleet")).status_code == 401


def test_every_command_has_a_button() -> None:
    buttons = {b.command for b in console_app.BUTTONS} | {"set_config"}  # set_config: a form
    assert buttons == set(COMMAND_ARGS)


def test_the_console_refuses_unsafe_starts(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = folder / "console.toml"
    config.write_text(
        '[remote]\nbrokers = ["mqtt://127.0.0.1:1"]\n'
        f'[console]\naccounts_file = "{folder / "accounts.json"}"\nsecure_cookies = false\n'
    )
    argv = ["console", "--config", str(config)]
    assert main([*argv, "--host", "0.0.0.0"]) == 2
    assert "loopback only" in capsys.readouterr().err
    (folder / "accounts.json").chmod(0o644)
    assert main(argv) == 2
    assert "must be 0600" in capsys.readouterr().err


async def test_removing_an_account_or_changing_its_role_or_password_ends_its_sessions(
    folder: Path,
) -> None:
    client = make_client(folder, secure_cookies=False)
    await log_in(client, "vic")
    add_user(folder / "accounts.json", "vic", "viewer", "a-new-password")  # a leaked one
    assert (await client.get("/api/fleet")).status_code == 401
    await log_in(client, "olga")
    assert (await client.get("/api/fleet")).status_code == 200
    add_user(folder / "accounts.json", "olga", "viewer", PASSWORDS["olga"])  # a viewer now
    assert (await client.get("/api/fleet")).status_code == 401
    await log_in(client, "olga")  # back in, as a viewer
    assert 'id="commands"' not in (await client.get("/kiosk/sim-0001")).text
    assert remove_user(folder / "accounts.json", "olga")
    assert (await client.get("/api/fleet")).status_code == 401
    ended = [
        entry
        for line in (folder / "audit.jsonl").read_text().splitlines()
        if (entry := json.loads(line))["event"] == "session_ended"
    ]
    assert [e["user"] for e in ended] == ["vic", "olga", "olga"]
    token = await login_token(client)
    form = {"csrf": token, "username": "olga", "password": PASSWORDS["olga"]}
    assert (await client.post("/login", data=form)).status_code == 401
    add_user(folder / "accounts.json", "olga", "operator", PASSWORDS["olga"])  # added back
    await log_in(client, "olga")
    assert 'id="commands"' in (await client.get("/kiosk/sim-0001")).text
