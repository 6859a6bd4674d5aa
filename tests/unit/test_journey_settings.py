"""The proposed ``[journey]`` settings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from kiosk.journeys.settings import JourneySettings


def test_defaults_are_valid_and_hold_no_deposit() -> None:
    settings = JourneySettings()
    assert settings.deposit == Decimal("0") and settings.zone.key == "UTC"


def test_directions_fall_back_to_english_then_nothing() -> None:
    settings = JourneySettings(directions={2: {"en": "Lift left", "zh_Hans": "左侧电梯"}, 3: {}})
    assert settings.directions_for(2, "zh_Hans") == "左侧电梯"
    assert settings.directions_for(2, "zh_Hant") == "Lift left"
    assert settings.directions_for(3, "en") == ""
    assert settings.directions_for(None, "en") == ""


@pytest.mark.parametrize(
    "bad",
    [
        {"timezone": "Mars/Olympus"},
        {"deposit": "-1"},
        {"max_cards_per_room": 0},
        {"second_factor": "birthday"},
        {"view_timeout_s": 0},
        {"unknown": 1},
    ],
)
def test_bad_values_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        JourneySettings(**bad)


def test_from_toml_like_values() -> None:
    settings = JourneySettings.model_validate(
        {"deposit": "300.00", "directions": {"2": {"en": "x"}}}
    )
    assert settings.deposit == Decimal("300.00") and settings.directions_for(2, "en") == "x"
