"""``[journey]``: what the property decides about the check-in journey.

Where the guest is sent (directions per floor), what the done screen shows (Wi-Fi, door
PINs), whether guests on file are registered again, whether a deposit is held, how many
cards a room may get, and every timeout and attempt limit of the journey. The defaults
suit a real kiosk; tests shrink the timeouts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class JourneySettings(BaseModel):
    """``[journey]``: what the property decides about the check-in: directions, what the
    done screen shows, the deposit, cards per room, every timeout and attempt limit."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = Field("UTC", description="the property's time zone: 'today' and shown dates")
    directions: dict[int, dict[str, str]] = Field(
        default_factory=dict,
        description='floor -> language -> text, e.g. {2 = {en = "Lift on your left"}}',
    )
    wifi_ssid: str = Field("", description='shown on the done screen; "" shows no Wi-Fi')
    wifi_password: str = Field("", description="shown to checked-in guests (not a secret)")
    door_pins: bool = Field(False, description="ask the back-end for a door PIN per room")
    deposit: Decimal = Field(
        Decimal("0"), ge=0, description="pre-authorised per booking; 0: no deposit"
    )
    reregister_known_guests: bool = Field(
        False,
        description="ask every guest for name and ID, even those the booking has on file "
        "(for properties that must re-register everyone)",
    )
    max_cards_per_room: int = Field(2, ge=1, le=4, description="cards a guest may ask for")
    second_factor: Literal["surname", "phone_digits"] = Field(
        "phone_digits", description="what an unsigned QR's guest must type"
    )
    second_factor_attempts: int = Field(
        3, ge=1, le=5, description="wrong second factors in one run before the front desk"
    )
    second_factor_lock_after: int = Field(
        5,
        ge=1,
        le=20,
        description="wrong second factors for one booking, over every run and restart, "
        "before the booking is locked at this kiosk",
    )
    second_factor_lock_s: float = Field(
        1800.0, gt=0, description="how long a booking stays locked at this kiosk"
    )
    payment_attempts: int = Field(3, ge=1, le=5, description="declines before front desk")
    card_attempts: int = Field(3, ge=1, le=10, description="cards tried per key before giving up")
    scan_attempts: int = Field(3, ge=1, le=10, description="unreadable codes before giving up")
    view_timeout_s: float = Field(60.0, gt=0, description="guest inactivity on a screen")
    done_timeout_s: float = Field(20.0, gt=0, description="the done and refusal screens")
    timeout_grace_s: float = Field(
        10.0, ge=0, description="the journey's own backstop after a view's timer (UI gone)"
    )
    backend_timeout_s: float = Field(30.0, gt=0, description="one back-end verb, retries included")
    card_take_timeout_s: float = Field(30.0, gt=0, description="a presented card not taken")
    payment_status_interval_s: float = Field(2.0, gt=0, description="status polls after a timeout")
    payment_status_deadline_s: float = Field(
        120.0, gt=0, description="give up asking the terminal and send the guest to the desk"
    )
    # extend stay
    extend_stay: bool = Field(
        True, description="offer 'extend my stay' to guests in house (where the back-end can)"
    )
    extend_nights_offered: int = Field(
        7, ge=1, le=30, description="the most nights a guest may add at the kiosk (extend stay)"
    )
    # the key journey (extra or lost key) and e-keys
    key_journey: bool = Field(
        True, description="offer an extra or lost key at the kiosk (a back-end with card records)"
    )
    card_limit: int = Field(
        4,
        ge=1,
        le=20,
        description="cards recorded for one stay (getAllAccomCard, lost ones included) past "
        "which the kiosk issues none: the guest is sent to the front desk",
    )
    ekeys: bool = Field(
        False,
        description="the property's locks take e-keys: offer one to the guest's phone "
        "(sendAccessLockKey) on the check-in's done screen and in the key journey",
    )
    # the check-out journey
    checkout: bool = Field(
        True,
        description="offer check-out on the attract screen (where the back-end has the "
        "check-out verbs: the PMS)",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def directions_for(self, floor: int | None, language: str) -> str:
        """The directions to ``floor`` in ``language`` (English as fallback), or ""."""
        texts = self.directions.get(floor, {}) if floor is not None else {}
        return texts.get(language) or texts.get("en", "")
