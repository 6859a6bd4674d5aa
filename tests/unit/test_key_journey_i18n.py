"""Every i18n key the key journey (and the e-key on request) shows is in the catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.i18n import Catalogue
from kiosk.journeys import ekeys, key_desk
from kiosk.journeys.checkin import CHECKIN_KEYS
from kiosk.journeys.key_desk import KEY_DESK_KEYS


def test_every_literal_key_in_the_journey_is_listed() -> None:
    source = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in (key_desk, ekeys))
    literals = set(re.findall(r'"((?:[a-z_]+\.)+[a-z_]+)"', source))
    listed = {*KEY_DESK_KEYS, *CHECKIN_KEYS}  # identification and refusals are check-in's
    families = {key.split(".")[0] for key in listed}
    keys = {k for k in literals if k.split(".")[0] in families}
    prefixes = {k for k in keys if any(full.startswith(f"{k}.") for full in listed)}
    assert keys - prefixes <= listed
    assert "key_lost.message" in literals  # the scan found the journey's keys at all


@pytest.mark.parametrize("lang", ["en", "zh_Hans", "zh_Hant"])
def test_catalogues_hold_every_key(lang: str) -> None:
    missing = set(KEY_DESK_KEYS) - Catalogue.load().keys(lang)
    assert not missing, f"keys missing from {lang}: {sorted(missing)}"
