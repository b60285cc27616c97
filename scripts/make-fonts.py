"""Derive the project's fonts from upstream Inter (SIL OFL 1.1) files.

Why: Inter's full OpenType files carry thousands of glyphs and large layout tables; WeasyPrint's
per-document subsets of them weigh about 15 KB per face, and a collection merges one set per
sheet. Keeping the Latin, punctuation and symbol blocks a French publication uses, and the
layout features text needs (kerning, ligatures, marks), cuts each embedded subset about three
times. Usage: python scripts/make-fonts.py /usr/share/fonts/opentype/inter styles/fonts
(Debian's fonts-inter package provides the upstream files).

The fallback for symbols and emoji, which Inter lacks (without it they print as empty boxes),
is derived from Symbola 9.17 (George Douros, free for any use; Debian's fonts-symbola
package): only the symbol, dingbat, arrow and emoji blocks, without hinting, and without the
characters Inter has (they never fall back). Usage, with the Symbola file as third argument:
python scripts/make-fonts.py /usr/share/fonts/opentype/inter styles/fonts \
    /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FACES = ("Regular", "Italic", "SemiBold", "SemiBoldItalic", "Bold", "BoldItalic", "ExtraBold")
BLOCKS = (
    (0x0020, 0x024F),  # Basic Latin to Latin Extended-B
    (0x02B0, 0x02FF),  # spacing modifier letters
    (0x0300, 0x036F),  # combining diacritical marks
    (0x1E00, 0x1EFF),  # Latin Extended Additional
    (0x2000, 0x206F),  # general punctuation (no-break spaces, quotes, dashes, ellipsis)
    (0x20A0, 0x20CF),  # currency symbols
    (0x2100, 0x215F),  # letterlike symbols, numero sign, fractions
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators
    (0x25A0, 0x25FF),  # geometric shapes
    (0x2700, 0x27BF),  # dingbats
)
FEATURES = ["kern", "liga", "calt", "ccmp", "locl", "mark", "mkmk", "sups", "frac", "tnum"]
SYMBOL_BLOCKS = (
    (0x2190, 0x21FF),  # arrows
    (0x2300, 0x23FF),  # miscellaneous technical (watch, hourglass, media controls)
    (0x2460, 0x24FF),  # enclosed alphanumerics (circled numbers)
    (0x25A0, 0x25FF),  # geometric shapes
    (0x2600, 0x26FF),  # miscellaneous symbols (sun, telephone, warning sign)
    (0x2700, 0x27BF),  # dingbats (check marks, heavy arrows)
    (0x2B00, 0x2BFF),  # miscellaneous symbols and arrows (star, squares)
    (0x1F100, 0x1F1FF),  # enclosed alphanumeric supplement (regional indicators)
    (0x1F300, 0x1F5FF),  # miscellaneous symbols and pictographs
    (0x1F600, 0x1F64F),  # emoticons
    (0x1F680, 0x1F6FF),  # transport and map symbols
    (0x1F900, 0x1F9FF),  # supplemental symbols and pictographs
)
#: joiners and selectors inside emoji sequences, keycap, information, Japanese "congratulations"
SYMBOL_EXTRAS = (0x200D, 0xFE0E, 0xFE0F, 0x20E3, 0x2139, 0x3297, 0x3299)
#: kept even though Inter has them: Pango gives the spaces between two symbols, and the digits,
#: '#' and '*' of keycaps, the symbol's font (without them: a .notdef box)
SYMBOL_COMPANIONS = (0x20, 0x23, 0x2A, *range(0x30, 0x3A), 0xA0, 0x2009, 0x200A, 0x202F)
SYMBOLS = "Symbola.ttf"


def derive(source: Path, target: Path) -> None:
    """Write a reduced copy of ``source`` to ``target``."""
    options = subset.Options()
    options.layout_features = FEATURES
    options.name_IDs = ["*"]
    options.name_legacy = True
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for low, high in BLOCKS for c in range(low, high + 1)])
    subsetter.subset(font)
    font.save(target)


def derive_symbols(source: Path, inter: Path, target: Path) -> None:
    """Write the symbol and emoji blocks of ``source`` that ``inter`` lacks to ``target``."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_legacy = True
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.hinting = False
    font = TTFont(source)
    has = font.getBestCmap()
    covered = TTFont(inter).getBestCmap()
    wanted = [c for low, high in SYMBOL_BLOCKS for c in range(low, high + 1)]
    wanted += SYMBOL_EXTRAS
    kept = {c for c in wanted if c not in covered} | set(SYMBOL_COMPANIONS)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(c for c in kept if c in has))
    subsetter.subset(font)
    font.save(target)


def main() -> None:
    source_dir, target_dir = Path(sys.argv[1]), Path(sys.argv[2])
    for face in FACES:
        derive(source_dir / f"Inter-{face}.otf", target_dir / f"Inter-{face}.otf")
    if len(sys.argv) > 3:
        derive_symbols(Path(sys.argv[3]), target_dir / "Inter-Regular.otf", target_dir / SYMBOLS)


if __name__ == "__main__":
    main()
