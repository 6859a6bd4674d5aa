"""Device configuration: which driver each device uses (real or simulated) and its settings.

Each device family defines its own pydantic model beside its driver; this schema
composes them. The defaults are the simulators, so a fresh checkout runs anywhere.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hardware.audio.config import AudioConfig
from hardware.camera.config import CameraConfig
from hardware.card_encoder.config import EncoderConfig
from hardware.dispenser.config import DispenserConfig
from hardware.payment.config import PaymentConfig
from hardware.printer.config import PrinterConfig


class DevicesConfig(BaseModel):
    """``[devices]``: the kiosk's devices, one table each; the defaults are the simulators."""

    model_config = ConfigDict(extra="forbid")

    camera: CameraConfig = CameraConfig()
    payment: PaymentConfig = PaymentConfig()
    dispenser: DispenserConfig = DispenserConfig()
    printer: PrinterConfig = PrinterConfig()
    encoder: EncoderConfig = EncoderConfig()
    audio: AudioConfig = AudioConfig()
