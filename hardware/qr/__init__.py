"""QR decoding: decoders, payload checks, and the scanning pipeline over a camera."""

from hardware.qr.decoders import (
    PyzbarDecoder,
    QrDecoder,
    ZxingDecoder,
    decoder_for,
    make_decoder,
)
from hardware.qr.payload import PayloadRejected, RejectReason, validate_payload
from hardware.qr.pipeline import PipelineStats, QrPipeline

__all__ = [
    "PayloadRejected",
    "PipelineStats",
    "PyzbarDecoder",
    "QrDecoder",
    "QrPipeline",
    "RejectReason",
    "ZxingDecoder",
    "decoder_for",
    "make_decoder",
    "validate_payload",
]
