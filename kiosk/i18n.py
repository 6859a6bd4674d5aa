"""Translation catalogues: one flat JSON file of ``key -> text`` per language in ``assets/i18n``.

Adding a language is adding a file (``fr.json``); its code is the file name. Every
catalogue names itself under ``language.name`` (in its own language, for the language
bar) and may define ``format.date`` / ``format.datetime`` (``strftime`` patterns).
A lookup falls back to English, then to the key itself, so a missing translation shows
something readable instead of failing a guest. Kivy-free: the journey, the receipt and
the tests use it as well as the screens.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

DEFAULT_LANG = "en"
DEFAULT_CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "assets" / "i18n"
LANGUAGE_NAME_KEY = "language.name"
_CENT = Decimal("0.01")
_DEFAULT_FORMATS = {"format.date": "%Y-%m-%d", "format.datetime": "%Y-%m-%d %H:%M"}


class CatalogueError(ValueError):
    """A catalogue folder or file that cannot be used (missing, not JSON, not flat strings)."""


@dataclass(frozen=True)
class Language:
    code: str  # the catalogue's file name, e.g. "zh_Hant"
    name: str  # its own name for itself, e.g. "繁體中文"


class _KeepMissing(dict[str, str]):
    """Leaves an unknown ``{placeholder}`` in the text rather than failing the lookup."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Catalogue:
    """All languages' texts and the property's time zone for dates shown to guests."""

    def __init__(self, texts: Mapping[str, Mapping[str, str]], tz: tzinfo) -> None:
        if DEFAULT_LANG not in texts:
            raise CatalogueError(f"no {DEFAULT_LANG!r} catalogue: it is every lookup's fallback")
        self._texts = {lang: dict(entries) for lang, entries in texts.items()}
        self.tz = tz

    @classmethod
    def load(cls, folder: Path = DEFAULT_CATALOGUE_DIR, tz: tzinfo | str = "UTC") -> Catalogue:
        """Every ``*.json`` catalogue in ``folder``; ``tz`` is the property's time zone."""
        files = sorted(Path(folder).glob("*.json"))
        if not files:
            raise CatalogueError(f"no *.json translation catalogues in {folder}")
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return cls({path.stem: _read_catalogue(path) for path in files}, zone)

    @property
    def languages(self) -> list[Language]:
        """English first, then the others by code."""
        codes = sorted(self._texts, key=lambda code: (code != DEFAULT_LANG, code))
        return [Language(code, self._texts[code].get(LANGUAGE_NAME_KEY, code)) for code in codes]

    def keys(self, lang: str = DEFAULT_LANG) -> set[str]:
        return set(self._texts.get(lang, {}))

    def translate(self, key: str, lang: str, /, **params: Any) -> str:
        """The text of ``key`` in ``lang`` (else English, else the key) with ``params`` filled in.

        Decimals show two decimals, aware datetimes the property's local time; a naive
        datetime is a bug in the caller and raises ``ValueError``.
        """
        values = _KeepMissing({name: self.format_value(v, lang) for name, v in params.items()})
        for candidate in dict.fromkeys((lang, DEFAULT_LANG)):
            template = self._texts.get(candidate, {}).get(key)
            if template is None:
                continue
            try:
                return template.format_map(values)
            except (ValueError, IndexError, KeyError, AttributeError) as exc:
                # A translator's typo ("{name" or "{0}") must not blank a guest's screen.
                log.warning(
                    "catalogue %s: text of %r is not a valid template: %s", candidate, key, exc
                )
        return key

    def format_value(self, value: Any, lang: str) -> str:
        """One placeholder's value as a guest sees it."""
        if isinstance(value, Decimal):
            return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):,.2f}"
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError("naive datetime: the core passes aware UTC datetimes")
            return value.astimezone(self.tz).strftime(self._format("format.datetime", lang))
        if isinstance(value, date):
            return value.strftime(self._format("format.date", lang))
        return str(value)

    def _format(self, key: str, lang: str) -> str:
        for candidate in (lang, DEFAULT_LANG):
            pattern = self._texts.get(candidate, {}).get(key)
            if pattern:
                return pattern
        return _DEFAULT_FORMATS[key]


def _read_catalogue(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"{path}: not a readable JSON catalogue: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: a catalogue is one JSON object of key -> text")
    bad = sorted(k for k, v in data.items() if not isinstance(v, str))
    if bad:
        raise CatalogueError(f"{path}: values must be strings; not for {', '.join(bad[:5])}")
    return data
