"""Every i18n key the check-in, amenity and walk-in journeys show is in the catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.i18n import Catalogue
from kiosk.journeys import amenity, checkin, dialog, identify, refusals
from kiosk.journeys.amenity import AMENITY_KEYS
from kiosk.journeys.checkin import CHECKIN_KEYS
from kiosk.journeys.walk_in import WALK_IN_KEYS


def test_every_literal_key_in_the_journey_is_listed() -> None:
    modules = (checkin, dialog, identify, refusals)
    source = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in modules)
    literals = set(re.findall(r'"((?:[a-z_]+\.)+[a-z_]+)"', source))
    families = {key.split(".")[0] for key in CHECKIN_KEYS}
    keys = {k for k in literals if k.split(".")[0] in families}
    prefixes = {k for k in keys if any(full.startswith(f"{k}.") for full in CHECKIN_KEYS)}
    assert keys - prefixes <= set(CHECKIN_KEYS)


@pytest.mark.parametrize("lang", ["en", "zh_Hans", "zh_Hant"])
def test_catalogues_hold_every_key(lang: str) -> None:
    missing = set(CHECKIN_KEYS) - Catalogue.load().keys(lang)
    assert not missing, f"keys missing from {lang}: {sorted(missing)}"


@pytest.mark.parametrize("lang", ["en", "zh_Hans", "zh_Hant"])
def test_catalogues_hold_every_amenity_key(lang: str) -> None:
    missing = set(AMENITY_KEYS) - Catalogue.load().keys(lang)
    assert not missing, f"keys missing from {lang}: {sorted(missing)}"


def test_every_literal_key_of_the_amenity_journey_is_listed() -> None:
    source = Path(amenity.__file__).read_text(encoding="utf-8")
    literals = set(re.findall(r'"((?:[a-z_]+\.)+[a-z_]+)"', source))
    families = {"amenity", "amenity_booked", "busy", "menu"}
    keys = {k for k in literals if k.split(".")[0] in families}
    prefixes = {k for k in keys if any(full.startswith(f"{k}.") for full in AMENITY_KEYS)}
    assert keys - prefixes <= set(AMENITY_KEYS)


@pytest.mark.parametrize("lang", ["en", "zh_Hans", "zh_Hant"])
def test_catalogues_hold_every_walk_in_key(lang: str) -> None:
    missing = set(WALK_IN_KEYS) - Catalogue.load().keys(lang)
    assert not missing, f"keys missing from {lang}: {sorted(missing)}"
