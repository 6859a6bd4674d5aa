"""``[devices.payment]``: which payment terminal, the ZVT link, and the simulator's knobs.

The terminal charges in the currency the journey asks for: the property's, ``[backend]
currency``, which the back-end's reservations carry. The ZVT password is a secret
(``SecretStr``): it unlocks the terminal's reversals, so it can come from a systemd
credential (``devices.payment.zvt_password``) instead of the config file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

ScenarioName = Literal["approve", "decline", "guest_cancel", "timeout_then_approve", "link_drop"]


class PaymentConfig(BaseModel):
    """``[devices.payment]``: which payment terminal, and the simulator's knobs."""

    model_config = ConfigDict(extra="forbid")

    driver: Literal["sim", "zvt"] = Field(
        "sim", description="sim: the simulated terminal; zvt: a ZVT terminal over TCP/IP"
    )
    response_timeout_s: float = Field(
        90.0, gt=0, le=600, description="how long a sale waits for a final answer (guest included)"
    )
    sim_delay_factor: float = Field(
        1.0, ge=0, le=10, description="scales the simulator's guest and host delays; 0: instant"
    )
    sim_journal: Path | None = Field(
        None,
        description="the simulator's transactions, which survive restarts; "
        "unset: <state dir>/payment-sim.sqlite",
    )
    sim_amount_rules: dict[int, ScenarioName] = Field(
        default_factory=dict,
        description="demo scripts: the amount's minor units (cents, 0-99) -> scenario, "
        'e.g. {51 = "decline"} makes 128.51 decline; other amounts approve',
    )

    zvt_host: str = Field("192.168.1.50", description="zvt: the terminal's IP address or name")
    zvt_port: int = Field(20007, ge=1, le=65535, description="zvt: the terminal's ECR port")
    zvt_password: SecretStr = Field(
        SecretStr("000000"), description="zvt: the terminal's 6-digit password (reversals)"
    )
    zvt_connect_timeout_s: float = Field(
        3.0, gt=0, le=60, description="zvt: TCP connect; a terminal that does not accept is offline"
    )
    zvt_ack_timeout_s: float = Field(
        5.0, gt=0, le=60, description="zvt: a command -> the terminal's acknowledgement (80 00)"
    )
    zvt_abandon_after_s: float = Field(
        600.0,
        gt=0,
        le=3600,
        description="zvt: after a sale's timeout the answer is still awaited this long "
        "(from the start), then left to a status query",
    )
    zvt_journal: Path | None = Field(
        None,
        description="zvt: the driver's reference -> receipt journal (saved before each "
        "request); unset: <state dir>/payment-zvt.sqlite",
    )

    @field_validator("zvt_password")
    @classmethod
    def _six_digits(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(r"\d{6}", value.get_secret_value()):
            raise ValueError("the ZVT password is 6 digits")  # never quoted: a secret
        return value

    @field_validator("sim_amount_rules")
    @classmethod
    def _cents_in_range(cls, rules: dict[int, ScenarioName]) -> dict[int, ScenarioName]:
        if any(not 0 <= cents <= 99 for cents in rules):
            raise ValueError("sim_amount_rules keys are minor units from 0 to 99")
        return rules
