"""Symbols and emoji print with the fallback font recueil ships, never as empty boxes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import GUIDE_EXCLUSIONS, REPO, run_cli  # type: ignore[import-not-found]

SYMBOLS = "🎉 ✅ ➜ ★"
#: with the emoji-presentation selector (U+FE0F), which machines' fonts would otherwise answer
SEQUENCES = "⚠️ ☎️ 1️⃣"
FONT = REPO / "src/recueil/defaults/styles/fonts/Symbola.ttf"


def fonts_of(reader: PdfReader) -> set[str]:
    """Base names of the fonts the pages use, without the subset prefix ('ABCDEF+')."""
    names = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


@pytest.fixture
def built(project_copy: Callable[..., Path]) -> tuple[str, PdfReader]:
    root = project_copy(GUIDE_EXCLUSIONS, images=False)
    source = root / "content" / GUIDE_EXCLUSIONS
    text = source.read_text(encoding="utf-8")
    source.write_text(f"{text}\nBravo {SYMBOLS} aux équipes {SEQUENCES} !\n", encoding="utf-8")
    result = run_cli("build", "--project", root)
    assert result.exit_code == 0, result.output
    return result.output, PdfReader(root / "build/sheets/RES-2021-001.pdf")


def test_symbols_and_emoji_print_with_the_shipped_fallback_font(
    built: tuple[str, PdfReader],
) -> None:
    output, reader = built
    assert ".notdef" not in output and "warning" not in output.replace("0 warning(s)", "")
    fonts = fonts_of(reader)
    assert any(name.startswith("Recueil-Symbols") for name in fonts), fonts
    # nothing from the machine's fonts: every glyph comes from Inter or the fallback
    assert all(name.startswith(("Inter", "Recueil-Symbols")) for name in fonts), fonts
    text = "".join(page.extract_text() for page in reader.pages)
    for char in [*SYMBOLS.split(), "⚠", "☎", "\u20e3"]:
        assert char in text, (char, text[-400:])


def test_the_fallback_font_is_a_small_subset_with_its_licence() -> None:
    from fontTools.ttLib import TTFont

    font = TTFont(FONT)
    cmap = font.getBestCmap()
    assert all(ord(char) in cmap for char in "🎉✅➜★⚠☎\u20e3\ufe0e ")
    assert len(cmap) < 3000  # the symbol and emoji blocks, not Symbola's 9,800 glyphs
    assert FONT.stat().st_size < 1_200_000
    licence = (FONT.parent / "LICENSE-Symbola.txt").read_text(encoding="utf-8")
    assert "free for any use" in licence
