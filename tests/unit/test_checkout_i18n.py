"""Every i18n key the check-out journey shows is in the catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.i18n import Catalogue
from kiosk.journeys import checkout
from kiosk.journeys.checkout import CHECKOUT_KEYS


def test_every_literal_key_in_the_journey_is_listed() -> None:
    source = Path(checkout.__file__).read_text(encoding="utf-8")
    literals = set(re.findall(r'"((?:[a-z_]+\.)+[a-z_]+)"', source))
    families = {key.split(".")[0] for key in CHECKOUT_KEYS}
    keys = {k for k in literals if k.split(".")[0] in families}
    prefixes = {k for k in keys if any(full.startswith(f"{k}.") for full in CHECKOUT_KEYS)}
    assert keys - prefixes <= set(CHECKOUT_KEYS)
    kinds = {"nights", "extra", "payment", "refund"}  # f"checkout_folio.{line.kind}"
    assert {f"checkout_folio.{kind}" for kind in kinds} <= set(CHECKOUT_KEYS)


@pytest.mark.parametrize("lang", ["en", "zh_Hans", "zh_Hant"])
def test_catalogues_hold_every_key(lang: str) -> None:
    missing = set(CHECKOUT_KEYS) - Catalogue.load().keys(lang)
    assert not missing, f"keys missing from {lang}: {sorted(missing)}"


@pytest.mark.parametrize("lang", ["zh_Hans", "zh_Hant"])
def test_translations_keep_the_placeholders(lang: str) -> None:
    catalogue = Catalogue.load()
    for key in CHECKOUT_KEYS:
        english = catalogue.translate(key, "en")
        translated = catalogue.translate(key, lang)
        assert set(re.findall(r"\{\w+\}", english)) == set(re.findall(r"\{\w+\}", translated)), key
