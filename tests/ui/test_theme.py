"""Finding a CJK font: the preferred path, a search of the font folders, a loud failure."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def theme(kivy_display: str):  # Kivy is imported only once Xvfb runs (conftest)
    from screens import theme

    return theme


def font(folder: Path, name: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not really a font")
    return path


def test_preferred_font_wins(theme, tmp_path: Path) -> None:
    preferred = font(tmp_path, "noto/NotoSansCJK-Regular.ttc")
    font(tmp_path, "wqy/wqy-microhei.ttc")
    assert theme.find_cjk_font(preferred, [tmp_path]) == preferred


def test_search_finds_a_cjk_font_and_skips_latin_ones(theme, tmp_path: Path) -> None:
    font(tmp_path, "dejavu/DejaVuSans.ttf")
    noto = font(tmp_path, "opentype/noto/NotoSansCJK-Regular.ttc")
    assert theme.find_cjk_font(tmp_path / "missing.ttc", [tmp_path]) == noto


def test_no_cjk_font_fails_loudly(theme, tmp_path: Path) -> None:
    font(tmp_path, "dejavu/DejaVuSans.ttf")
    with pytest.raises(theme.FontNotFoundError, match="fonts-noto-cjk"):
        theme.find_cjk_font(tmp_path / "missing.ttc", [tmp_path])


def test_the_installed_font_is_found(theme) -> None:
    if not theme.CJK_FONT_PATH.is_file():
        pytest.skip("fonts-noto-cjk is not installed (.ci/bootstrap installs it)")
    assert theme.find_cjk_font() == theme.CJK_FONT_PATH
