"""Payment terminals: the semi-integrated ``PaymentTerminal`` protocol and a simulator."""

from __future__ import annotations

from hardware.payment.config import PaymentConfig
from hardware.payment.protocol import (
    InvalidPaymentRequest,
    Kind,
    Outcome,
    PaymentError,
    PaymentResult,
    PaymentTerminal,
    ReferenceConflict,
    TerminalBusy,
    TerminalOffline,
    TerminalProtocolError,
)


def open_payment_terminal(config: PaymentConfig) -> PaymentTerminal:
    """The terminal ``config`` names, connected (the simulator opens its journal)."""
    from hardware.payment.simulator import SimulatedTerminal

    if config.sim_journal is None:
        raise ValueError("the simulated terminal needs sim_journal (the kiosk's state directory)")
    return SimulatedTerminal(
        config.sim_journal,
        delay_factor=config.sim_delay_factor,
        response_timeout_s=config.response_timeout_s,
        amount_rules=config.sim_amount_rules,
    )


__all__ = [
    "InvalidPaymentRequest",
    "Kind",
    "Outcome",
    "PaymentConfig",
    "PaymentError",
    "PaymentResult",
    "PaymentTerminal",
    "ReferenceConflict",
    "TerminalBusy",
    "TerminalOffline",
    "TerminalProtocolError",
    "open_payment_terminal",
]
