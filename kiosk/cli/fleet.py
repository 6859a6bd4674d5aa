"""``kiosk fleet``: the operator's view of the kiosks over MQTT (docs/fleet.md).

- ``list``: every kiosk from its retained status: online or offline, site, in service,
  alerts, version (a table, or ``--json``).
- ``watch``: live events (and with ``--telemetry``, telemetry) as they come.
- ``send KIOSK|--site S COMMAND [KEY=VALUE ...]``: a signed command to one kiosk or every
  kiosk of a site; prints each reply (``--json``). Values are JSON (``on=true``), else text.
- ``screenshot KIOSK -o FILE``: the kiosk's screen as a PNG.
- ``simulate --count N``: N simulated kiosks on the broker (demos, tests, benchmarks).
- ``secret KIOSK``: the kiosk's command secret derived from the fleet key, for its
  ``remote.command_secret`` credential.

Every command reads ``[remote]`` of ``--config`` (brokers, credentials, the fleet key);
``--broker URL`` overrides the brokers. Exit codes: 0 done; 1 a kiosk refused, failed or
did not answer; 2 a usage or config error, or no broker answered.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import DEFAULT_CONFIG_PATH

if TYPE_CHECKING:
    from kiosk.config import RemoteConfig
    from kiosk.remote.operator import Answer
    from kiosk.remote.schemas import Status


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fleet",
        help="the kiosk fleet over MQTT: list, watch, send, screenshot, simulate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = p.add_subparsers(dest="fleet_command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="every kiosk from its retained status")
    _common(listing)
    listing.add_argument("--site", help="only this site's kiosks")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument(
        "--quiet", type=float, default=1.0, metavar="S",
        help="stop reading once no status came for S seconds (default %(default)g)",
    )  # fmt: skip
    listing.set_defaults(func=run_list)

    watch = commands.add_parser("watch", help="live events, one JSON line each")
    _common(watch)
    watch.add_argument("--telemetry", action="store_true", help="telemetry and statuses too")
    watch.add_argument("--count", type=int, help="stop after so many messages")
    watch.set_defaults(func=run_watch)

    send = commands.add_parser("send", help="a signed command to a kiosk or a site")
    _common(send)
    send.add_argument("--site", help="every online kiosk of this site (then no KIOSK)")
    send.add_argument(
        "words", nargs="+", metavar="WORD",
        help="the kiosk's id (unless --site), the command (maintenance, restart, "
        "reload_config, set_config, self_test, print_test, outbox_list, outbox_retry, "
        "screenshot, log_tail) and its arguments",
    )  # fmt: skip
    send.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for replies")
    send.add_argument("--json", action="store_true", help="the replies as JSON")
    send.set_defaults(func=run_send)

    shot = commands.add_parser("screenshot", help="the kiosk's screen as a PNG")
    _common(shot)
    shot.add_argument("kiosk", help="the kiosk's id")
    shot.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    shot.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    shot.set_defaults(func=run_screenshot)

    sim = commands.add_parser("simulate", help="N simulated kiosks on the broker")
    _common(sim)
    sim.add_argument("--count", type=int, default=10, help="how many kiosks")
    sim.add_argument("--sites", type=int, default=10, help="over how many sites")
    sim.add_argument("--seed", type=int, default=1, help="seed of their states")
    sim.add_argument("--telemetry-interval", type=float, help="override [remote]'s, seconds")
    sim.add_argument("--duration", type=float, help="stop after so many seconds")
    sim.set_defaults(func=run_simulate)

    secret = commands.add_parser("secret", help="a kiosk's command secret (from the fleet key)")
    _common(secret)
    secret.add_argument("kiosk", help="the kiosk's id")
    secret.set_defaults(func=run_secret)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML config")
    p.add_argument(
        "--broker", action="append", metavar="URL",
        help="broker URL (mqtt://127.0.0.1:1883), instead of [remote] brokers; repeatable",
    )  # fmt: skip


def _remote(args: argparse.Namespace) -> RemoteConfig:
    """``[remote]`` of ``--config`` (defaults without the file) with ``--broker``."""
    from kiosk.config import load_config

    config = load_config(args.config if args.config.is_file() else None).remote
    if args.broker:
        config = config.model_validate({**config.model_dump(), "brokers": args.broker})
    return config


def _fail(message: str) -> int:
    print(f"kiosk fleet: {message}", file=sys.stderr)
    return 2


def _operate(args: argparse.Namespace, work: Any) -> int:
    from kiosk.remote.operator import FleetError, connect

    async def main() -> int:
        async with connect(_remote(args)) as operator:
            return await work(operator)

    try:
        return asyncio.run(main())
    except FleetError as exc:
        return _fail(str(exc))
    except ValueError as exc:  # a bad --broker URL
        return _fail(str(exc))


# --- list ------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    async def work(operator: Any) -> int:
        statuses = await operator.statuses(quiet_s=args.quiet)
        if args.site:
            statuses = {k: s for k, s in statuses.items() if s.site == args.site}
        if args.json:
            body = [s.model_dump(mode="json") for _, s in sorted(statuses.items())]
            print(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            print(format_statuses(statuses))
        return 0

    return _operate(args, work)


def format_statuses(statuses: dict[str, Status]) -> str:
    from kiosk.cli.payments import format_rows

    header = ("kiosk", "state", "site", "service", "alerts", "version", "updated")
    rows = [
        [
            kiosk,
            s.state,
            s.site or "-",
            {True: "in service", False: "OUT OF SERVICE", None: "-"}[s.in_service],
            "; ".join(s.alerts) or "-",
            s.version or "-",
            s.ts.strftime("%Y-%m-%d %H:%M:%SZ"),
        ]
        for kiosk, s in sorted(statuses.items())
    ]
    online = sum(1 for s in statuses.values() if s.state == "online")
    return format_rows(header, rows) + f"\n{len(statuses)} kiosks, {online} online"


# --- watch -----------------------------------------------------------------------------


def run_watch(args: argparse.Namespace) -> int:
    kinds = ("event", "status", "telemetry") if args.telemetry else ("event",)

    async def work(operator: Any) -> int:
        seen = 0
        async for message in operator.messages(kinds):
            line = {"kind": message.kind, **message.payload.model_dump(mode="json")}
            print(json.dumps(line, ensure_ascii=False), flush=True)
            seen += 1
            if args.count is not None and seen >= args.count:
                return 0
        return 0

    try:
        return _operate(args, work)
    except KeyboardInterrupt:
        return 0


# --- send, screenshot --------------------------------------------------------------------


def parse_args(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a value is JSON when it parses (true, 3, "x"), else text."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"not KEY=VALUE: {pair!r}")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


def run_send(args: argparse.Namespace) -> int:
    words = list(args.words)
    kiosk = None if args.site else words.pop(0)
    if not words:
        return _fail("no COMMAND")
    command, pairs = words[0], words[1:]
    try:
        command_args = parse_args(pairs)
    except ValueError as exc:
        return _fail(str(exc))

    async def work(operator: Any) -> int:
        kiosks = [kiosk] if kiosk else await _site_kiosks(operator, args.site)
        if not kiosks:
            print(f"no online kiosk at site {args.site}", file=sys.stderr)
            return 1
        answers = await operator.send(kiosks, command, command_args, args.timeout)
        _print_answers(answers, args.json)
        return 0 if all(a.reply and a.reply.status == "ok" for a in answers) else 1

    return _operate(args, work)


async def _site_kiosks(operator: Any, site: str) -> list[str]:
    statuses = await operator.statuses()
    return sorted(k for k, s in statuses.items() if s.site == site and s.state == "online")


def _print_answers(answers: list[Answer], as_json: bool) -> None:
    if as_json:
        body = [
            {
                "kiosk": a.kiosk,
                "request_id": a.request_id,
                "authentic": a.authentic,
                "reply": a.reply.model_dump(mode="json") if a.reply else None,
            }
            for a in answers
        ]
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return
    for a in answers:
        if a.reply is None:
            print(f"{a.kiosk}: no reply")
            continue
        mark = "" if a.authentic else " (reply NOT signed by the kiosk)"
        detail = a.reply.error or json.dumps(a.reply.result, ensure_ascii=False)
        print(f"{a.kiosk}: {a.reply.status}{mark} {detail}")


def run_screenshot(args: argparse.Namespace) -> int:
    async def work(operator: Any) -> int:
        [answer] = await operator.send([args.kiosk], "screenshot", {}, args.timeout)
        reply = answer.reply
        if reply is None or reply.status != "ok" or not answer.authentic:
            why = "no reply" if reply is None else reply.error or "reply not signed by the kiosk"
            print(f"{args.kiosk}: no screenshot ({why})", file=sys.stderr)
            return 1
        args.output.write_bytes(base64.b64decode(reply.result["png_base64"]))
        print(f"{args.output}: screen {reply.result.get('screen', '?')} of {args.kiosk}")
        return 0

    return _operate(args, work)


# --- simulate, secret --------------------------------------------------------------------


def run_simulate(args: argparse.Namespace) -> int:
    from kiosk.remote.simulate import run_fleet

    try:
        config = _remote(args)
    except ValueError as exc:
        return _fail(str(exc))
    if not config.brokers:
        return _fail("no broker: give --broker URL or [remote] brokers")
    if args.telemetry_interval:
        config = config.model_copy(update={"telemetry_interval_s": args.telemetry_interval})

    async def main() -> None:
        fleet = run_fleet(config, args.count, seed=args.seed, sites=args.sites)
        if args.duration is None:
            await fleet
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fleet, args.duration)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


def run_secret(args: argparse.Namespace) -> int:
    from kiosk.remote.signing import kiosk_secret

    config = _remote(args)
    if config.fleet_key is None:
        return _fail("no [remote] fleet_key in the config")
    print(kiosk_secret(config.fleet_key.get_secret_value(), args.kiosk).decode())
    return 0
