"""``kiosk hw card read|write|erase``: exercise the card encoder with the card in its field.

Output (stdout), one ``key: value`` line each:

- ``read``:  ``uid: <HEX>``, ``type: <card type>``, ``payload: <HEX>`` (empty for a blank card)
- ``write``: ``uid: <HEX>``, ``type: <card type>``, ``written: <N> bytes, verified``
- ``erase``: ``uid: <HEX>``, ``type: <card type>``, ``erased``

An operator's tool: it prints what it reads (that is its purpose) and logs none of it.
Errors go to stderr as ``card encoder: <Error>: <detail>``, exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hardware.card_encoder import CardEncoder, CardInfo


def register(subparsers: argparse._SubParsersAction) -> None:
    card = subparsers.add_parser("card", help="read, write or erase the card on the encoder")
    actions = card.add_subparsers(dest="card_command", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--reader", help="PC/SC reader name (or part of it)")
    common.add_argument("--config", type=Path, help="the kiosk's TOML config (default: built-in)")
    common.add_argument("--driver", choices=["pcsc", "sim"], help="override the config's driver")
    common.add_argument(
        "--wait", type=float, default=3.0, metavar="S", help="wait this long for a card (3)"
    )
    read = actions.add_parser("read", parents=[common], help="print the card's UID and payload")
    read.set_defaults(func=run, action=_read)
    write = actions.add_parser(
        "write", parents=[common], help="write a payload, read it back and compare"
    )
    write.add_argument("--payload-hex", required=True, type=_hex, metavar="HEX")
    write.set_defaults(func=run, action=_write)
    erase = actions.add_parser("erase", parents=[common], help="clear a returned card")
    erase.set_defaults(func=run, action=_erase)


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not hex: pairs of 0-9, a-f") from None


def _card_lines(card: CardInfo) -> None:
    print(f"uid: {card.uid_hex}")
    print(f"type: {card.card_type.value}")


def _read(encoder: CardEncoder, args: argparse.Namespace) -> None:
    card, payload = encoder.read_key()
    _card_lines(card)
    print(f"payload: {payload.hex().upper()}")


def _write(encoder: CardEncoder, args: argparse.Namespace) -> None:
    _card_lines(encoder.write_key(args.payload_hex))
    print(f"written: {len(args.payload_hex)} bytes, verified")


def _erase(encoder: CardEncoder, args: argparse.Namespace) -> None:
    _card_lines(encoder.erase())
    print("erased")


def run(args: argparse.Namespace) -> int:
    from hardware.card_encoder import CardEncoderError, open_encoder
    from kiosk.config import load_config

    config = load_config(args.config).devices.encoder
    overrides = {"driver": args.driver, "reader": args.reader}
    config = config.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    try:
        encoder = open_encoder(config)
        try:
            encoder.wait_for_card(args.wait)
            args.action(encoder, args)
        finally:
            encoder.close()
    except CardEncoderError as exc:
        print(f"card encoder: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
