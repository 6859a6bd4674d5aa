"""Payment terminals: the semi-integrated ``PaymentTerminal`` protocol, a ZVT driver and a
simulator."""

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
    """The terminal ``config`` names, opened (connected and registered)."""
    terminal = make_payment_terminal(config)
    try:
        terminal.open()
    except BaseException:
        terminal.close()
        raise
    return terminal


def make_payment_terminal(config: PaymentConfig) -> PaymentTerminal:
    """The terminal ``config`` names, not yet opened (start-up opens it, retrying while it
    is missing). Each driver keeps its journal where ``config`` says."""
    if config.driver == "zvt":
        from hardware.payment.zvt import ZvtTerminal

        if config.zvt_journal is None:
            raise ValueError("the ZVT driver needs zvt_journal (the kiosk's state directory)")
        return ZvtTerminal(
            config.zvt_host,
            config.zvt_port,
            password_digits=config.zvt_password.get_secret_value(),
            journal_path=config.zvt_journal,
            connect_timeout_s=config.zvt_connect_timeout_s,
            ack_timeout_s=config.zvt_ack_timeout_s,
            response_timeout_s=config.response_timeout_s,
            abandon_after_s=config.zvt_abandon_after_s,
        )
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
    "make_payment_terminal",
    "open_payment_terminal",
]
