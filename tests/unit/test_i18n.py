"""Translation catalogues: loading, fallbacks, value formatting, and the shipped catalogues."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk.i18n import DEFAULT_CATALOGUE_DIR, Catalogue, CatalogueError

REFUSALS = [
    "unknown_code",
    "malformed_code",
    "wrong_day",
    "cancelled",
    "already_checked_in",
    "nothing_assignable",
    "payment_declined",
    "card_stock_empty",
    "backend_unreachable",
    "printer_out",
    "second_factor_failed",
    "card_failed",
]


@pytest.fixture
def shipped() -> Catalogue:
    return Catalogue.load(DEFAULT_CATALOGUE_DIR, "Asia/Shanghai")


def write(folder: Path, lang: str, texts: object) -> None:
    (folder / f"{lang}.json").write_text(json.dumps(texts, ensure_ascii=False), "utf-8")


def test_shipped_languages_name_themselves(shipped: Catalogue) -> None:
    assert [(lang.code, lang.name) for lang in shipped.languages] == [
        ("en", "English"),
        ("zh_Hans", "简体中文"),
        ("zh_Hant", "繁體中文"),
    ]


@pytest.mark.parametrize("lang", ["zh_Hans", "zh_Hant"])
def test_shipped_catalogues_translate_every_english_key(shipped: Catalogue, lang: str) -> None:
    assert shipped.keys(lang) == shipped.keys("en")
    untranslated = {
        k
        for k in shipped.keys("en")
        if shipped.translate(k, lang) == shipped.translate(k, "en")
        and re.sub(r"\{\w+\}|[\s·]", "", shipped.translate(k, "en"))  # words, not only values
    }
    # Only texts that are the same in every language (date formats).
    assert untranslated <= {"done.directions", "format.date", "format.datetime"}


@pytest.mark.parametrize("lang", ["en", "zh_Hans", "zh_Hant"])
def test_shipped_placeholders_match_english(shipped: Catalogue, lang: str) -> None:
    def names(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)\}", text))

    for key in shipped.keys("en"):
        assert names(shipped.translate(key, lang)) == names(shipped.translate(key, "en")), key


@pytest.mark.parametrize("code", REFUSALS)
def test_every_refusal_has_title_and_message(shipped: Catalogue, code: str) -> None:
    for part in ("title", "message"):
        key = f"refusal.{code}.{part}"
        assert key in shipped.keys("en")
        assert shipped.translate(key, "zh_Hans") != shipped.translate(key, "en")


def test_fallback_to_english_then_key(tmp_path: Path) -> None:
    write(tmp_path, "en", {"a": "Apple {n}", "b": "Banana"})
    write(tmp_path, "fr", {"a": "Pomme {n}"})
    cat = Catalogue.load(tmp_path)
    assert cat.translate("a", "fr", n=2) == "Pomme 2"
    assert cat.translate("b", "fr") == "Banana"
    assert cat.translate("c", "fr") == "c"
    assert cat.translate("a", "xx", n=1) == "Apple 1"  # unknown language -> English


def test_missing_placeholder_is_kept_and_bad_template_falls_back(tmp_path: Path) -> None:
    write(tmp_path, "en", {"a": "Hello {name}", "b": "Due {amount}"})
    write(tmp_path, "fr", {"a": "Bonjour {name", "b": "Dû {0}"})
    cat = Catalogue.load(tmp_path)
    assert cat.translate("a", "en") == "Hello {name}"
    assert cat.translate("a", "fr", name="Zed") == "Hello Zed"
    assert cat.translate("b", "fr", amount=Decimal(3)) == "Due 3.00"


def test_decimal_amounts_show_two_decimals(shipped: Catalogue) -> None:
    fmt = shipped.format_value
    assert fmt(Decimal("100"), "en") == "100.00"
    assert fmt(Decimal("1234.5"), "en") == "1,234.50"
    assert fmt(Decimal("0.005"), "en") == "0.01"  # half up, not banker's rounding
    assert fmt(Decimal("-12.345"), "en") == "-12.35"


def test_datetimes_show_in_property_time_zone(shipped: Catalogue) -> None:
    at = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)  # 02:30 next day in Shanghai
    assert shipped.format_value(at, "en") == "05 Mar 2026 02:30"
    assert shipped.format_value(at, "zh_Hans") == "2026年03月05日 02:30"
    other_zone = at.astimezone(timezone(timedelta(hours=-5)))
    assert shipped.format_value(other_zone, "en") == "05 Mar 2026 02:30"
    assert shipped.format_value(date(2026, 3, 4), "zh_Hant") == "2026年03月04日"


def test_naive_datetime_is_refused(shipped: Catalogue) -> None:
    with pytest.raises(ValueError, match="naive"):
        shipped.translate("refusal.wrong_day.message", "en", arrival=datetime(2026, 3, 4))


def test_more_languages_by_adding_a_catalogue(tmp_path: Path) -> None:
    for path in DEFAULT_CATALOGUE_DIR.glob("*.json"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    write(tmp_path, "fr", {"language.name": "Français", "attract.title": "Bienvenue"})
    cat = Catalogue.load(tmp_path)
    assert [lang.code for lang in cat.languages] == ["en", "fr", "zh_Hans", "zh_Hant"]
    assert cat.translate("attract.title", "fr") == "Bienvenue"
    assert cat.translate("attract.start", "fr") == "Check in"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a readable JSON"),
        ("[1, 2]", "one JSON object"),
        ('{"a": 1}', "must be strings"),
        (b"\xff\xfe", "not a readable JSON"),
    ],
)
def test_malformed_catalogue_is_a_clear_error(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "en.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    with pytest.raises(CatalogueError, match=message):
        Catalogue.load(tmp_path)


def test_english_is_required(tmp_path: Path) -> None:
    write(tmp_path, "fr", {"a": "b"})
    with pytest.raises(CatalogueError, match="'en'"):
        Catalogue.load(tmp_path)
    with pytest.raises(CatalogueError, match=r"no \*\.json"):
        Catalogue.load(tmp_path / "missing")
