"""``kiosk outbox``: the back-end writes the kiosk has queued, for staff.

- ``list``: entries pending, in flight and dead, with counts per state. Never a request
  (they hold guest data): the operation, the kiosk's reference, the state, the attempts,
  the next attempt and the error class or the reason an entry is dead.
- ``retry ID`` / ``retry --all``: dead or waiting entries become due now; the kiosk's
  relay sends them on its next pass (``[state] relay_idle_s``), or ``drain`` does.
- ``drop ID``: remove an entry for good, once staff have applied the change by hand at
  the front desk. Asks for the entry id on the terminal (``--yes`` for scripts); the
  audit table keeps who dropped what.
- ``drain``: relay now, from this process, until nothing is pending or in flight. Meant
  for a kiosk whose service is stopped (it resets what a crash left in flight); needs
  the back-end's URL.

``list``, ``retry`` and ``drop`` read and write the state database only (no network)
and never open a request, so they need no access to the kiosk's data key.

Exit codes: 0 done; 1 not done (no such entry, not confirmed; ``drain``: dead entries
remain); 2 a usage or config error (no config, ``drop`` without a terminal or ``--yes``,
``drain`` on the embedded simulator); 3 ``drain``: the deadline passed with entries
still pending.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import DEFAULT_CONFIG_PATH

if TYPE_CHECKING:
    from hardware.health import DeviceHealth
    from kiosk.config import KioskConfig
    from kiosk.outbox import DurableOutbox, OutboxEntry

LISTED_STATES = ("pending", "in_flight", "dead")
DEFAULT_DEADLINE_S = 300.0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "outbox",
        help="the queued back-end writes: list, retry, drop, drain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = p.add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="entries pending, in flight and dead")
    _common(listing)
    listing.set_defaults(func=run_list)

    retry = commands.add_parser("retry", help="make dead or waiting entries due now")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="the entry's id (kiosk outbox list)")
    which.add_argument("--all", action="store_true", help="every dead or waiting entry")
    _common(retry)
    retry.set_defaults(func=run_retry)

    drop = commands.add_parser("drop", help="remove an entry for good (settled by hand)")
    drop.add_argument("id", type=int, help="the entry's id (kiosk outbox list)")
    drop.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    _common(drop)
    drop.set_defaults(func=run_drop)

    drain = commands.add_parser("drain", help="relay now until nothing is pending")
    drain.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE_S,
        metavar="SECONDS",
        help="give up after so many seconds (default %(default)g)",
    )
    _common(drain)
    drain.set_defaults(func=run_drain)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="the kiosk's TOML config"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


# --- shared with ``kiosk payments`` and ``kiosk doctor`` -----------------------------------


def load_state_config(path: Path) -> KioskConfig | None:
    """The config at ``path``, or None (said on stderr) when there is no such file."""
    from kiosk.config import load_config

    if not path.is_file():
        print(f"no config file at {path}", file=sys.stderr)
        return None
    return load_config(path)


def open_operator_outbox(config: KioskConfig) -> DurableOutbox | None:
    """The outbox of the state database, for reading and operator changes only: no
    senders, and a key of its own (it never opens a request). None, said on stderr, when
    the kiosk has no state database yet: nothing is created."""
    from cryptography.fernet import Fernet

    from kiosk.outbox import DurableOutbox
    from kiosk.sealing import Sealer
    from kiosk.state import StateDb

    if not config.state.db.is_file():
        print(f"no state database at {config.state.db} (the kiosk has not run yet)",
              file=sys.stderr)  # fmt: skip
        return None
    return DurableOutbox(StateDb(config.state.db), Sealer(Fernet.generate_key()), senders={})


def outbox_health(config: KioskConfig) -> DeviceHealth:
    """``kiosk doctor``'s outbox line: "N queued, M dead"; a warning when not empty."""
    import sqlite3

    from hardware.health import DeviceHealth, HealthLevel

    if not config.state.db.is_file():
        return DeviceHealth("outbox", HealthLevel.OK, "no state database yet")
    try:
        outbox = open_operator_outbox(config)
        assert outbox is not None
        try:
            counts = outbox.counts()
        finally:
            outbox.db.close()
    except (sqlite3.Error, OSError) as exc:  # the kiosk may still serve: not a fault
        detail = f"cannot read the state database ({type(exc).__name__})"
        return DeviceHealth("outbox", HealthLevel.WARNING, detail)
    queued = counts.get("pending", 0) + counts.get("in_flight", 0)
    dead = counts.get("dead", 0)
    level = HealthLevel.WARNING if queued or dead else HealthLevel.OK
    detail = f"{queued} queued, {dead} dead"
    return DeviceHealth("outbox", level, detail, {"queued": queued, "dead": dead})


# --- list ---------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    config = load_state_config(args.config)
    if config is None:
        return 2
    outbox = open_operator_outbox(config)
    entries, counts = ([], dict.fromkeys(LISTED_STATES, 0)) if outbox is None else _read(outbox)
    if args.json:
        body = {"counts": counts, "entries": [asdict(e) for e in entries]}
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    print(_counts_line(counts))
    if entries:
        print(format_entries(entries))
    return 0


def _read(outbox: DurableOutbox) -> tuple[list[OutboxEntry], dict[str, int]]:
    try:
        entries = outbox.entries()
        counts = dict.fromkeys(LISTED_STATES, 0) | outbox.counts()
    finally:
        outbox.db.close()
    return entries, counts


def _counts_line(counts: dict[str, int]) -> str:
    shown = (f"{state.replace('_', ' ')} {counts.get(state, 0)}" for state in LISTED_STATES)
    return "outbox: " + ", ".join(shown)


def format_entries(entries: list[OutboxEntry], now: float | None = None) -> str:
    from kiosk.cli.payments import format_rows

    now = time.time() if now is None else now
    header = ("id", "state", "attempts", "next", "operation", "reference", "journey", "error")
    rows = [
        [
            str(e.id),
            e.state + (" (ambiguous)" if e.ambiguous else ""),
            str(e.attempts),
            _next_attempt(e, now),
            f"{e.api}:{e.operation}",
            e.reference,
            e.journey,
            e.error or "-",
        ]
        for e in entries
    ]
    return format_rows(header, rows)


def _next_attempt(entry: OutboxEntry, now: float) -> str:
    if entry.state != "pending":
        return "-"
    wait = entry.next_at - now
    return "due" if wait <= 0 else f"in {wait:.0f} s"


# --- retry --------------------------------------------------------------------------------


def run_retry(args: argparse.Namespace) -> int:
    config = load_state_config(args.config)
    if config is None:
        return 2
    outbox = open_operator_outbox(config)
    if outbox is None:
        return 0 if args.all else 1
    try:
        if args.all:
            changed = outbox.retry(None)
        else:
            entry = _find(outbox, args.id)
            if entry is None or entry.state not in ("pending", "dead"):
                state = "no such entry" if entry is None else f"it is {entry.state}"
                print(f"entry {args.id} cannot be retried: {state}", file=sys.stderr)
                return 1
            changed = outbox.retry(args.id)
    finally:
        outbox.db.close()
    if args.json:
        print(json.dumps({"retried": changed}))
    else:
        print(f"{changed} entr{'y' if changed == 1 else 'ies'} due now; the kiosk's relay "
              "sends them on its next pass (or: kiosk outbox drain)")  # fmt: skip
    return 0


def _find(outbox: DurableOutbox, entry_id: int) -> OutboxEntry | None:
    rows = outbox.db.query("SELECT * FROM outbox WHERE id = ?", (entry_id,))
    if not rows:
        return None
    from kiosk.outbox import OutboxEntry

    return OutboxEntry.of_row(rows[0])


# --- drop ---------------------------------------------------------------------------------


def run_drop(args: argparse.Namespace) -> int:
    config = load_state_config(args.config)
    if config is None:
        return 2
    if not args.yes and not sys.stdin.isatty():
        print("drop asks for confirmation on a terminal; without one, pass --yes",
              file=sys.stderr)  # fmt: skip
        return 2
    outbox = open_operator_outbox(config)
    if outbox is None:
        return 1
    try:
        entry = _find(outbox, args.id)
        if entry is None:
            print(f"no outbox entry {args.id}", file=sys.stderr)
            return 1
        if entry.state == "in_flight":
            print(f"entry {args.id} is in flight: let it finish (or stop the kiosk, whose "
                  "next start makes it pending) before dropping it", file=sys.stderr)  # fmt: skip
            return 1
        if not args.yes and not _confirmed(entry):
            print("not dropped", file=sys.stderr)
            return 1
        actor = operator_name()
        dropped = outbox.drop(entry.id, actor)
    finally:
        outbox.db.close()
    if not dropped:  # gone meanwhile (the relay delivered it, another operator dropped it)
        print(f"no outbox entry {args.id}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"dropped": asdict(entry), "actor": actor}, ensure_ascii=False))
    else:
        print(f"dropped entry {entry.id} ({entry.operation} {entry.reference}, was "
              f"{entry.state}); audited as {actor}")  # fmt: skip
    return 0


def _confirmed(entry: OutboxEntry) -> bool:
    """The operator types the entry's id on the terminal to confirm."""
    print(
        f"entry {entry.id}: {entry.api} {entry.operation} {entry.reference}, {entry.state}"
        f"{', ' + entry.error if entry.error else ''}\n"
        "Dropping it means the back-end never gets this write from the kiosk: apply it by "
        "hand at the front desk first.",
        file=sys.stderr,
    )
    print("type the entry id to confirm: ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip() == str(entry.id)


def operator_name() -> str:
    """Who runs the command, for the audit line: the effective user, and the person
    behind ``sudo`` when there is one."""
    import getpass

    try:
        import pwd

        user = pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        user = getpass.getuser()
    via = os.environ.get("SUDO_USER")
    return f"{via} (sudo as {user})" if via and via != user else user


# --- drain --------------------------------------------------------------------------------


def run_drain(args: argparse.Namespace) -> int:
    import asyncio

    config = load_state_config(args.config)
    if config is None:
        return 2
    if not config.backend.base_url:
        print("drain needs a back-end URL ([backend] base_url): the embedded simulator only "
              "lives inside the kiosk process, whose relay delivers its entries",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.deadline <= 0:
        print("--deadline must be more than 0 seconds", file=sys.stderr)
        return 2
    if not config.state.db.is_file():
        print(f"no state database at {config.state.db}: nothing to drain", file=sys.stderr)
        return 0
    return asyncio.run(_drain(config, args.deadline, args.json))


async def _drain(config: KioskConfig, deadline_s: float, as_json: bool) -> int:
    from kiosk.backends.factory import open_client
    from kiosk.outbox import DEAD, DELIVERED, PENDING, Backoff, DurableOutbox
    from kiosk.runtime import open_state

    db, sealer = open_state(config)
    client = open_client(config.backend)
    try:
        backoff = Backoff(config.state.retry_base_s, config.state.retry_cap_s)
        outbox = DurableOutbox.for_clients(
            db, sealer, **{config.backend.kind: client}, backoff=backoff
        )
        outbox.recover()  # what a crash left in flight: pending, reconciled before a replay
        # Staff asked for now: what waits for its backoff is due at once (dead stays dead).
        for entry in outbox.entries((PENDING,)):
            outbox.retry(entry.id)
        before = outbox.counts().get(DELIVERED, 0)
        drained = await outbox.drain(deadline_s)
        delivered = outbox.counts().get(DELIVERED, 0) - before
        left = outbox.entries()
        counts = dict.fromkeys(LISTED_STATES, 0) | outbox.counts()
    finally:
        await client.aclose()
        db.close()
    dead = [e for e in left if e.state == DEAD]
    code = 3 if not drained else 1 if dead else 0
    if as_json:
        body: dict[str, Any] = {
            "drained": drained,
            "delivered": delivered,
            "counts": counts,
            "entries": [asdict(e) for e in left],
        }
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return code
    print(f"delivered {delivered}; " + _counts_line(counts))
    if not drained:
        print(f"deadline of {deadline_s:g} s passed with entries still pending")
    elif dead:
        print("dead entries need staff (kiosk outbox retry ID, or settle by hand and drop ID):")
    if left:
        print(format_entries(left))
    return code
