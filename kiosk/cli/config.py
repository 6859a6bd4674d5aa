"""``kiosk config``: the configuration schema as an annotated template, a file check and
the reference page (issue 8, item 3)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("config", help="the configuration: template, check, docs")
    commands = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    commands.add_parser(
        "template", help="print the annotated TOML: every setting, its default and meaning"
    ).set_defaults(func=template)
    check_p = commands.add_parser(
        "check",
        help="validate FILE as `kiosk run` loads it (environment and credentials included)",
        description="Exit 0 when FILE is valid; 2 with each bad setting named (secret "
        "values are never printed).",
    )
    check_p.add_argument("file", type=Path, metavar="FILE")
    check_p.set_defaults(func=check)
    docs_p = commands.add_parser("docs", help="print (or write) docs/configuration.md")
    docs_p.add_argument("--output", type=Path, help="write the page here instead of stdout")
    docs_p.set_defaults(func=docs)


def template(args: argparse.Namespace) -> int:
    from kiosk.config import KioskConfig
    from kiosk.config_schema import render_template

    sys.stdout.write(render_template(KioskConfig))
    return 0


def check(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from kiosk.config import ConfigFileError, config_errors, load_config

    try:
        load_config(args.file)
    except ConfigFileError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        for line in config_errors(exc):
            print(f"{args.file}: {line}", file=sys.stderr)
        return 2
    print(f"{args.file}: valid")
    return 0


def docs(args: argparse.Namespace) -> int:
    from kiosk.config import KioskConfig
    from kiosk.config_schema import render_markdown

    page = render_markdown(KioskConfig)
    if args.output is None:
        sys.stdout.write(page)
    else:
        args.output.write_text(page)
    return 0
