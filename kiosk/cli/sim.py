"""``kiosk sim``: the property simulator as a server (issue 2, item 3)."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

log = logging.getLogger("kiosk.sim")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sim",
        help="run the property simulator (PMS + open-ability over HTTP, SQLite state)",
        description="Serve every seed operation on HOST:PORT with state in --db. "
        "The demo property is seeded into an empty database (deterministic with --seed).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--db", type=Path, default=Path("var/sim.sqlite"), help="SQLite state file")
    p.add_argument("--token", default="demo-token", help="the Bearer token clients must send")
    p.add_argument("--manifest", type=Path, help="write the demo manifest JSON + QR PNGs here")
    p.add_argument("--seed", type=int, default=1, help="seed of the demo property")
    p.add_argument("--no-demo", action="store_true", help="start empty: do not seed the demo")
    p.add_argument("--timezone", default="Asia/Shanghai", help="the property's time zone")
    p.add_argument("--qr-key", default="demo-qr-key", help="HMAC key that signs demo QR codes")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request")
    p.add_argument("--failure-rate", type=float, default=0.0, help="share of requests -> 503")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.sim.demo import seed_demo, write_manifest
    from kiosk.sim.server import Faults, SimServer

    args.db.parent.mkdir(parents=True, exist_ok=True)
    faults = Faults(latency_ms=args.latency_ms, failure_rate=args.failure_rate)
    server = SimServer(args.db, args.token, host=args.host, port=args.port, faults=faults)
    server.start()
    if not args.no_demo:
        demo = seed_demo(server, seed=args.seed, timezone=args.timezone)
        if args.manifest:
            write_manifest(args.manifest, server, demo, args.qr_key.encode())
            log.info("manifest written to %s", args.manifest)
    log.info("property simulator listening on %s (db %s)", server.url, args.db)
    # SIGTERM (systemd, CI) stops like Ctrl-C: the SQLite state is closed cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
