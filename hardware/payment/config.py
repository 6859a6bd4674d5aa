"""``[devices.payment]``: which payment terminal, and the simulator's knobs.

The terminal charges in the currency the journey asks for: the property's, ``[backend]
currency``, which the back-end's reservations carry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ScenarioName = Literal["approve", "decline", "guest_cancel", "timeout_then_approve", "link_drop"]


class PaymentConfig(BaseModel):
    """``[devices.payment]``: which payment terminal, and the simulator's knobs."""

    model_config = ConfigDict(extra="forbid")

    driver: Literal["sim"] = Field("sim", description="sim: the simulated terminal")
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

    @field_validator("sim_amount_rules")
    @classmethod
    def _cents_in_range(cls, rules: dict[int, ScenarioName]) -> dict[int, ScenarioName]:
        if any(not 0 <= cents <= 99 for cents in rules):
            raise ValueError("sim_amount_rules keys are minor units from 0 to 99")
        return rules
