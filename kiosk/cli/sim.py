"""``kiosk sim``: the property simulator as a server (issue 2, item 3).

Its settings are the kiosk's own (``[sim]``, ``[backend] token``, ``[journey] timezone``,
``[qr] signing_key``): from ``--config`` or the schema's defaults, so a training kiosk
and its simulator agree on the token, the day and the QR key. Each option overrides one.
"""

from __future__ import annotations

import argparse
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.config import SimConfig

log = logging.getLogger("kiosk.sim")

# The options named after a [sim] setting, which they override.
_SIM_OPTIONS = ("host", "port", "db", "seed", "latency_ms", "failure_rate")


@dataclass(frozen=True)
class SimSettings:
    sim: SimConfig
    db: Path
    token: str = field(repr=False)
    timezone: str
    qr_key: bytes | None = field(repr=False)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sim",
        help="run the property simulator (PMS + open-ability over HTTP, SQLite state)",
        description="Serve every seed operation on HOST:PORT with state in --db. "
        "The demo property is seeded into an empty database (deterministic with --seed). "
        "Settings come from --config (the kiosk's file) or the schema's defaults; "
        "each option overrides one.",
    )
    p.add_argument("--config", type=Path, help="a kiosk config file (default: none, defaults)")
    p.add_argument("--host", help=_sim_help("host"))
    p.add_argument("--port", type=int, help=_sim_help("port"))
    p.add_argument("--db", type=Path, help=_sim_help("db"))
    p.add_argument("--seed", type=int, help=_sim_help("seed"))
    p.add_argument("--latency-ms", type=float, help=_sim_help("latency_ms"))
    p.add_argument("--failure-rate", type=float, help=_sim_help("failure_rate"))
    p.add_argument("--token", help="the Bearer token clients must send ([backend] token)")
    p.add_argument("--timezone", help="the property's time zone ([journey] timezone)")
    p.add_argument(
        "--qr-key", help="HMAC key that signs the manifest's QR codes ([qr] signing_key)"
    )
    p.add_argument("--manifest", type=Path, help="write the demo manifest JSON + QR PNGs here")
    p.add_argument("--no-demo", action="store_true", help="start empty: do not seed the demo")
    p.set_defaults(func=run)


def _sim_help(name: str) -> str:
    field = SimConfig.model_fields[name]
    default = "" if field.default is None else f", default {field.default}"
    return f"{field.description} ([sim] {name}{default})"


def settings(args: argparse.Namespace) -> SimSettings:
    """The simulator's settings: the config's (or the defaults), then the options."""
    from kiosk.config import load_config

    config = load_config(args.config)
    overrides = {name: getattr(args, name) for name in _SIM_OPTIONS}
    sim = SimConfig.model_validate(
        config.sim.model_dump() | {k: v for k, v in overrides.items() if v is not None}
    )
    key = args.qr_key
    if key is None and config.qr.signing_key is not None:
        key = config.qr.signing_key.get_secret_value()
    return SimSettings(
        sim=sim,
        db=sim.database(config.state.dir),
        token=args.token or config.backend.token.get_secret_value(),
        timezone=args.timezone or config.journey.timezone,
        qr_key=key.encode() if key else None,
    )


def run(args: argparse.Namespace) -> int:
    from kiosk.sim.demo import seed_demo, write_manifest
    from kiosk.sim.server import Faults, SimServer

    s = settings(args)
    sim = s.sim
    s.db.parent.mkdir(parents=True, exist_ok=True)
    faults = Faults(latency_ms=sim.latency_ms, failure_rate=sim.failure_rate)
    server = SimServer(s.db, s.token, host=sim.host, port=sim.port, faults=faults)
    server.start()
    if not args.no_demo:
        demo = seed_demo(server, seed=sim.seed, timezone=s.timezone)
        if args.manifest:
            write_manifest(args.manifest, server, demo, s.qr_key)
            log.info("manifest written to %s", args.manifest)
    log.info("property simulator listening on %s (db %s)", server.url, s.db)
    # SIGTERM (systemd, CI) stops like Ctrl-C: the SQLite state is closed cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
