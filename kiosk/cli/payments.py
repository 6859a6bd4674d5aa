"""``kiosk payments list``: the kiosk's payment log, to reconcile with the payment
terminal's end-of-day report.

One line per payment reference the kiosk started: the booking it was for, what it paid
(balance or deposit), sale or pre-authorisation, the amount and where it ended
(requested, approved, declined, ..., booked, voided). The log holds no card data and no
guest data. Reads the state database only: no network, safe while the kiosk runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH

COLUMNS = ("reference", "booking", "step", "kind", "amount", "currency", "state", "updated_at")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "payments",
        help="the kiosk's payment log (reconcile with the terminal's end-of-day report)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = p.add_subparsers(dest="payments_command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="every payment the kiosk started, oldest first")
    listing.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="the kiosk's TOML config"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    from kiosk.cli.outbox import load_state_config
    from kiosk.journeys.payment import PaymentLog
    from kiosk.state import StateDb

    config = load_state_config(args.config)
    if config is None:
        return 2
    records = []
    if config.state.db.is_file():  # a read creates no state database
        db = StateDb(config.state.db)
        try:
            records = PaymentLog(db).records()
        finally:
            db.close()
    else:
        print(f"no state database at {config.state.db} (the kiosk has not run yet)",
              file=sys.stderr)  # fmt: skip
    rows = [
        {
            "reference": r.reference,
            "booking": r.booking,
            "step": r.step,
            "kind": r.kind.value,
            "amount": str(r.amount),  # a decimal string: never a float for money
            "currency": r.currency,
            "state": r.state,
            "updated_at": r.updated_at,
        }
        for r in records
    ]
    if args.json:
        print(json.dumps({"payments": rows}, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("no payments in the log")
        return 0
    print(format_rows(COLUMNS, [[row[c] for c in COLUMNS] for row in rows]))
    return 0


def format_rows(header: tuple[str, ...], rows: list[list[str]]) -> str:
    """Aligned columns, the header in capitals; the last column is not padded."""
    table = [[name.upper() for name in header], *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in table
    )
