"""``[devices.dispenser]``: which card dispenser, its serial link, timeouts, the sim's knobs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DispenserConfig(BaseModel):
    """``[devices.dispenser]``: which card dispenser, its serial link, the sim's knobs."""

    model_config = ConfigDict(extra="forbid")

    driver: Literal["sim", "crt591"] = Field("sim", description="sim, or a Creator CRT-591")
    port: str = Field("/dev/ttyUSB0", description="crt591: serial device")
    address: int = Field(0, ge=0, le=15, description="crt591: unit address (DIP switches)")
    baudrate: int = Field(9600, description="crt591: 9600 8N1 out of the box")
    ack_timeout_s: float = Field(0.5, gt=0, le=10, description="command -> ACK/NAK")
    reply_timeout_s: float = Field(
        8.0, gt=0, le=60, description="ENQ -> reply; covers the slowest card move"
    )
    retries: int = Field(3, ge=0, le=10, description="retransmissions after NAK or a bad reply")
    poll_interval_s: float = Field(
        0.2, gt=0, le=5, description="status polling while a card waits to be taken"
    )
    low_stock_threshold: int = Field(
        10, ge=0, description="sim: cards left at which stock is low (the CRT-591 has a sensor)"
    )
    sim_stock: int = Field(100, ge=0, description="sim: cards in the stacker at start")
    sim_reject_capacity: int = Field(20, ge=1, description="sim: cards the reject bin holds")
    sim_misfeed_rate: float = Field(0.0, ge=0, le=1, description="sim: chance a feed jams")
    sim_delay_scale: float = Field(1.0, ge=0, le=10, description="sim: 0 makes moves instant")
