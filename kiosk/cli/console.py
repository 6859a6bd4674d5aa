"""``kiosk console``: the operators' browser console (docs/fleet.md).

- ``kiosk console [--host H] [--port P] [--broker URL]``: serve it (default
  127.0.0.1:8080; ``[console]`` of ``--config``, the fleet from its ``[remote]``).
- ``kiosk console adduser NAME --role viewer|operator``: add an account (or change its
  role and password) in ``[console] accounts_file``; the password from standard input
  (first line) or, on a terminal, a prompt.
- ``kiosk console deluser NAME``: remove an account; a running console ends its sessions
  at their next request.

Exit codes: 0 done; 1 deluser found no such account; 2 a usage or config error (no
accounts, plain-HTTP cookies on a public address, a bad broker URL).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, KioskConfig

log = logging.getLogger("kiosk.console")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "console",
        help="the operators' browser console (and adduser/deluser for its accounts)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML config")
    p.add_argument("--host", help="listen address (default [console] host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default [console] port, 8080)")
    p.add_argument(
        "--broker", action="append", metavar="URL",
        help="broker URL (mqtt://127.0.0.1:1883), instead of [remote] brokers; repeatable",
    )  # fmt: skip
    p.add_argument("--ssl-certfile", type=Path, help="serve HTTPS: certificate (PEM)")
    p.add_argument("--ssl-keyfile", type=Path, help="serve HTTPS: its private key (PEM)")
    p.set_defaults(func=run_console)
    commands = p.add_subparsers(dest="console_command", metavar="COMMAND")
    add = commands.add_parser("adduser", help="add or change an operator account")
    add.add_argument("name", help="the user name")
    add.add_argument("--role", choices=("viewer", "operator"), required=True)
    add.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config")
    add.set_defaults(func=run_adduser)
    remove = commands.add_parser("deluser", help="remove an operator account")
    remove.add_argument("name", help="the user name")
    remove.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config")
    remove.set_defaults(func=run_deluser)


def _config(args: argparse.Namespace) -> KioskConfig:
    from kiosk.config import load_config

    return load_config(args.config if args.config.is_file() else None)


def _fail(message: str) -> int:
    print(f"kiosk console: {message}", file=sys.stderr)
    return 2


def run_adduser(args: argparse.Namespace) -> int:
    import re

    from kiosk.remote.console.accounts import NAME_PATTERN, AccountsError, add_user

    if not re.match(NAME_PATTERN, args.name):
        return _fail(f"not a user name: {args.name!r} (letters, digits, _.@-)")
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            return _fail("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    path = _config(args).console.accounts_file
    try:
        new = add_user(path, args.name, args.role, password)
    except AccountsError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror}")
    print(f"{path}: {'added' if new else 'changed'} {args.name} ({args.role})")
    return 0


def run_deluser(args: argparse.Namespace) -> int:
    from kiosk.remote.console.accounts import AccountsError, remove_user

    path = _config(args).console.accounts_file
    try:
        removed = remove_user(path, args.name)
    except AccountsError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror}")
    if not removed:
        print(f"kiosk console: {path} has no account {args.name!r}", file=sys.stderr)
        return 1
    print(f"{path}: removed {args.name}")
    return 0


def run_console(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from kiosk.remote.connection import Broker
        from kiosk.remote.console.accounts import Accounts, AccountsError
        from kiosk.remote.console.app import create_app, is_loopback
        from kiosk.remote.console.audit import AuditLog
        from kiosk.remote.console.hub import FleetHub
    except ImportError as exc:
        return _fail(f"{exc.name} is missing: install the console extra (pip install '.[console]')")

    config = _config(args)
    console = config.console
    host = args.host or console.host
    port = args.port or console.port
    cert = args.ssl_certfile or console.tls_cert_file
    key = args.ssl_keyfile or console.tls_key_file
    if not console.secure_cookies and not is_loopback(host):
        return _fail("[console] secure_cookies = false is for plain HTTP on loopback only")
    if cert is None and not is_loopback(host):
        log.warning("serving plain HTTP on %s: use TLS (--ssl-certfile) or a reverse proxy", host)
    brokers = args.broker or config.remote.brokers
    try:
        for url in brokers:
            Broker.parse(url)
        accounts = Accounts.load(console.accounts_file)
    except (ValueError, AccountsError) as exc:
        return _fail(str(exc))
    if not brokers:
        return _fail("no broker: give --broker URL or [remote] brokers")
    if not len(accounts):
        log.warning("%s has no account: add one with kiosk console adduser", console.accounts_file)
    hub = FleetHub(config.remote, console, AuditLog(console.audit_log), brokers)
    app = create_app(console, accounts, hub)
    uvicorn.run(
        app, host=host, port=port, log_level="info",
        ssl_certfile=str(cert) if cert else None, ssl_keyfile=str(key) if key else None,
        timeout_graceful_shutdown=3,  # open event streams end there
    )  # fmt: skip
    return 0
