"""What a collection's ``print_shop:`` asks for (bleed, crop marks), apart from the PDF work.

Reading a collection file, listing collections and naming their PDFs need these options but
none of pypdf (printshop.py draws the marks): the web server lists collections without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: how far print-shop.css extends edge backgrounds (the largest bleed allowed)
MAX_BLEED_MM = 5
MM = 72 / 25.4
#: crop marks start this far outside the bleed, so that no mark reaches the bleed
MARK_OFFSET_MM = 1.0
MARK_LENGTH_MM = 5.0
MARK_WIDTH_PT = 0.25


@dataclass(frozen=True)
class PrintShop:
    """Print-shop options of a collection (``print_shop:`` in its file)."""

    bleed_mm: int = 3
    crop_marks: bool = True

    @property
    def bleed(self) -> float:
        """Bleed in PDF points."""
        return self.bleed_mm * MM

    @property
    def margin(self) -> float:
        """Distance from the trim to the MediaBox edge: bleed, then room for the marks."""
        if not self.crop_marks:
            return self.bleed
        return self.bleed + (MARK_OFFSET_MM + MARK_LENGTH_MM + MARK_OFFSET_MM) * MM


def print_shop_options(meta: Mapping[str, Any]) -> PrintShop | None:
    """The print-shop options of a validated collection, or None when it asks for none."""
    options = meta.get("print_shop")
    if not options:
        return None
    return PrintShop(int(options.get("bleed_mm", 3)), bool(options.get("crop_marks", True)))
