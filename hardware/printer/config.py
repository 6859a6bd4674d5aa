"""``[devices.printer]``: which receipt printer, how it is connected, and the simulator's knobs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PrinterConfig(BaseModel):
    """``[devices.printer]``: which receipt printer, how it is attached, the sim's knobs."""

    model_config = ConfigDict(extra="forbid")

    driver: Literal["sim", "escpos"] = Field("sim", description="sim: PNGs in a folder")
    connection: Literal["network", "serial", "usb", "file"] = Field(
        "network", description="escpos: how the printer is attached"
    )
    host: str = Field("127.0.0.1", description="network: printer address")
    port: int = Field(9100, ge=1, le=65535, description="network: raw TCP port")
    serial_port: str = Field("/dev/ttyUSB1", description="serial: device")
    baudrate: int = Field(19200, description="serial: speed set on the printer")
    usb_vendor_id: int = Field(
        0x0416, ge=0, le=0xFFFF, description="usb: vendor id (TOML takes hex: 0x0416)"
    )
    usb_product_id: int = Field(0x5011, ge=0, le=0xFFFF, description="usb: product id (0x5011)")
    file_path: Path = Field(Path("/dev/usb/lp0"), description="file: device file; no status")
    profile: str | None = Field(
        None, description="python-escpos capability profile; unset: python-escpos's default"
    )
    timeout_s: float = Field(3.0, gt=0, le=30, description="connect/status: no answer -> offline")
    columns: int = Field(48, ge=16, le=64, description="font A columns: 48 on 80 mm, 32 on 58 mm")
    font_path: Path | None = Field(
        None, description="font of receipts printed as images; unset: WenQuanYi Micro Hei"
    )
    sim_folder: Path | None = Field(
        None, description="sim: where the receipts' PNGs go; unset: <state dir>/receipts"
    )
    sim_paper_rows: int = Field(3000, ge=0, description="sim: rows of paper on the roll")
    sim_near_end_rows: int = Field(300, ge=0, description="sim: rows left at the near-end sensor")
