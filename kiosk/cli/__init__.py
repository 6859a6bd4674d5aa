"""The ``kiosk`` command: one sub-command module per concern, each with ``register(subparsers)``.

Modules import their heavy dependencies (OpenCV, pyscard, Kivy) inside the command,
so ``kiosk --help`` and the fast commands start quickly.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pydantic import ValidationError

# Each module adds its sub-commands and sets ``func`` on them.
COMMAND_MODULES = (
    "kiosk.cli.run",
    "kiosk.cli.demo",
    "kiosk.cli.sim",
    "kiosk.cli.hw",
    "kiosk.cli.doctor",
    "kiosk.cli.play",
    "kiosk.cli.payments",
    "kiosk.cli.outbox",
    "kiosk.cli.prefetch",
    "kiosk.cli.out_of_order",
    "kiosk.cli.config",
    "kiosk.cli.fleet",
    "kiosk.cli.console",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Lobby self check-in kiosk")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lobby-kiosk")
    except PackageNotFoundError:  # a source tree run without being installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO; the kiosk logs its own calls without them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from kiosk.config import ConfigFileError, config_errors

    try:
        return int(args.func(args) or 0)
    except ConfigFileError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a config file or environment value that is not valid
        for line in config_errors(exc):
            print(f"config error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
