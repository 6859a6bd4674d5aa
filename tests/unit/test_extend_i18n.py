"""Every i18n key the extend-stay journey shows is in the catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.i18n import Catalogue
from kiosk.journeys import charging, extend
from kiosk.journeys.checkin import CHECKIN_KEYS
from kiosk.journeys.extend import EXTEND_KEYS


def test_every_literal_key_in_the_journey_is_listed() -> None:
    source = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in (extend, charging))
    literals = set(re.findall(r'"((?:[a-z_]+\.)+[a-z_]+)"', source))
    known = {*EXTEND_KEYS, *CHECKIN_KEYS}
    families = {key.split(".")[0] for key in known}
    keys = {k for k in literals if k.split(".")[0] in families}
    prefixes = {k for k in keys if any(full.startswith(f"{k}.") for full in known)}
    assert "extend_nights.option" in keys  # the scan sees the journey's own keys
    assert keys - prefixes <= known


@pytest.mark.parametrize("lang", ["en", "zh_Hans", "zh_Hant"])
def test_catalogues_hold_every_key(lang: str) -> None:
    missing = set(EXTEND_KEYS) - Catalogue.load().keys(lang)
    assert not missing, f"keys missing from {lang}: {sorted(missing)}"
