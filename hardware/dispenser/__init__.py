"""Card dispensers: the ``CardDispenser`` protocol, the CRT-591 serial driver and a simulator."""

from __future__ import annotations

from hardware.dispenser.config import DispenserConfig
from hardware.dispenser.protocol import (
    CardDispenser,
    DispenserCommError,
    DispenserEmpty,
    DispenserError,
    DispenserJam,
    DispenserNAK,
    DispenserRejected,
    DispenserStatus,
    DispenserTimeout,
    RejectBinFull,
    StockLevel,
)


def open_dispenser(config: DispenserConfig) -> CardDispenser:
    """The dispenser ``config`` names, opened."""
    dispenser = make_dispenser(config)
    dispenser.open()
    return dispenser


def make_dispenser(config: DispenserConfig) -> CardDispenser:
    """The dispenser ``config`` names, not yet opened (start-up opens it, retrying while
    its port is missing)."""
    dispenser: CardDispenser
    if config.driver == "crt591":
        from hardware.dispenser.crt591 import Crt591Dispenser

        dispenser = Crt591Dispenser(
            config.port,
            address=config.address,
            baudrate=config.baudrate,
            ack_timeout=config.ack_timeout_s,
            reply_timeout=config.reply_timeout_s,
            retries=config.retries,
            poll_interval=config.poll_interval_s,
        )
    else:
        from hardware.dispenser.simulator import SimDispenser

        dispenser = SimDispenser(
            stock=config.sim_stock,
            low_threshold=config.low_stock_threshold,
            reject_capacity=config.sim_reject_capacity,
            misfeed_rate=config.sim_misfeed_rate,
            delay_scale=config.sim_delay_scale,
            poll_interval=config.poll_interval_s,
        )
    return dispenser


__all__ = [
    "CardDispenser",
    "DispenserCommError",
    "DispenserConfig",
    "DispenserEmpty",
    "DispenserError",
    "DispenserJam",
    "DispenserNAK",
    "DispenserRejected",
    "DispenserStatus",
    "DispenserTimeout",
    "RejectBinFull",
    "StockLevel",
    "make_dispenser",
    "open_dispenser",
]
