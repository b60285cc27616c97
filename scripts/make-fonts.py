"""Derive the project's fonts from upstream Inter (SIL OFL 1.1) files.

Why: Inter's full OpenType files carry thousands of glyphs and large layout tables; WeasyPrint's
per-document subsets of them weigh about 15 KB per face, and a collection merges one set per
sheet. Keeping the Latin, punctuation and symbol blocks a French publication uses, and the
layout features text needs (kerning, ligatures, marks), cuts each embedded subset about three
times. Usage: python scripts/make-fonts.py /usr/share/fonts/opentype/inter styles/fonts
(Debian's fonts-inter package provides the upstream files).
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


def main() -> None:
    source_dir, target_dir = Path(sys.argv[1]), Path(sys.argv[2])
    for face in FACES:
        derive(source_dir / f"Inter-{face}.otf", target_dir / f"Inter-{face}.otf")


if __name__ == "__main__":
    main()
