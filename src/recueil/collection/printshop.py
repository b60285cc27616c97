"""The print-shop variant of a collection: trim, bleed and crop marks, the way printers ask.

A print shop wants, on every page: the finished size (A4) as TrimBox, a BleedBox a few
millimetres larger on each side, a MediaBox large enough for crop marks drawn *outside* the
bleed, and every background that touches the page edge extending into the bleed, so that a cut
slightly off the line leaves no white sliver.

Two ways were weighed for the sheets:

- placing the screen pages on a larger page with pypdf and drawing marks: no layout at all, but
  the theme band at the top of every sheet (and the cover and divider bands) would stop exactly
  on the cut line; a demanding printer sends such a file back;
- a second render of each sheet with edge backgrounds extended: one more layout per sheet, the
  first time only (renders of the variant are cached under their own key; the screen render and
  its key are untouched, so the screen PDFs stay byte for byte what they were).

The second is what printers and readers want, so it is the one used. The extension is pure
painting: ``styles/print-shop.css`` grows the edge bands outwards by as much margin as it adds
padding, so every line of text, every page break and every link stays where it is in the screen
variant (tests compare the text of both variants page by page).

WeasyPrint's own ``@page { bleed; marks: crop }`` is not used: in WeasyPrint 70 the MediaBox is
the bleed box itself, its BleedBox is at most 10 pt outside the trim (so it equals the MediaBox
for a 3 mm bleed) and the crop marks are drawn inside that bleed area, under the bleeding
backgrounds and inside what the printer keeps. Instead the renders keep the trim at the page
origin (their MediaBox is the trim) and :func:`finish_for_print` sets the three boxes on the
assembled pages, clips what was painted beyond the bleed and draws the marks in registration
colour. Overlays (page numbers, running headers) therefore line up with both variants unchanged.
"""

from __future__ import annotations

from typing import Any

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    RectangleObject,
)

from recueil.collection.print_options import (
    MARK_LENGTH_MM,
    MARK_OFFSET_MM,
    MARK_WIDTH_PT,
    MM,
    PrintShop,
)
from recueil.render.pagecontent import wrap_contents

_REGISTRATION = NameObject("/CSRegistration")


def finish_for_print(writer: PdfWriter, options: PrintShop) -> None:
    """Set trim, bleed and media boxes on every page, clip to the bleed, draw crop marks.

    Pages come in with their trim at the MediaBox (what WeasyPrint wrote without CSS bleed);
    content painted beyond the bleed (edge bands extend by MAX_BLEED_MM) is clipped away.
    """
    colour_space = writer._add_object(_registration_colour_space())
    for page in writer.pages:
        left, bottom, right, top = (float(v) for v in page.trimbox)
        b, m = options.bleed, options.margin
        page[NameObject("/TrimBox")] = RectangleObject([left, bottom, right, top])
        page[NameObject("/BleedBox")] = RectangleObject([left - b, bottom - b, right + b, top + b])
        page[NameObject("/MediaBox")] = RectangleObject([left - m, bottom - m, right + m, top + m])
        for name in ("/CropBox", "/ArtBox"):
            if name in page:
                del page[NameObject(name)]
        clip = f"q {_n(left - b)} {_n(bottom - b)} {_n(right - left + 2 * b)} "
        clip += f"{_n(top - bottom + 2 * b)} re W n\n"
        after = "Q\n"
        if options.crop_marks:
            marks = _crop_marks((left, bottom, right, top), options)  # printer's marks:
            after += f"/Artifact <</Type /Page>> BDC\n{marks}EMC\n"  # artifacts (tagged PDF)
            _colour_spaces(page)[_REGISTRATION] = colour_space
        wrap_contents(writer, page, clip.encode(), after.encode())


def _colour_spaces(page: Any) -> Any:
    """The page's /ColorSpace resource dictionary, created when missing."""
    if "/Resources" not in page:
        page[NameObject("/Resources")] = DictionaryObject()
    resources: Any = page["/Resources"].get_object()
    if "/ColorSpace" not in resources:
        resources[NameObject("/ColorSpace")] = DictionaryObject()
    return resources["/ColorSpace"].get_object()


def _crop_marks(trim: tuple[float, float, float, float], options: PrintShop) -> str:
    """Eight hairlines on the trim lines' extensions, starting outside the bleed."""
    left, bottom, right, top = trim
    start = options.bleed + MARK_OFFSET_MM * MM
    end = start + MARK_LENGTH_MM * MM
    ops = [f"q {_n(MARK_WIDTH_PT)} w 0 J /CSRegistration CS 1 SCN"]
    for x, dx in ((left, -1), (right, 1)):
        for y, dy in ((bottom, -1), (top, 1)):
            ops.append(f"{_n(x + dx * start)} {_n(y)} m {_n(x + dx * end)} {_n(y)} l S")
            ops.append(f"{_n(x)} {_n(y + dy * start)} m {_n(x)} {_n(y + dy * end)} l S")
    ops.append("Q\n")
    return "\n".join(ops)


def _registration_colour_space() -> ArrayObject:
    """Separation /All: marks print on every plate, as printers expect of registration marks."""
    tint = DictionaryObject(
        {
            NameObject("/FunctionType"): NumberObject(2),
            NameObject("/Domain"): ArrayObject([NumberObject(0), NumberObject(1)]),
            NameObject("/C0"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/C1"): ArrayObject([NumberObject(1)] * 4),
            NameObject("/N"): NumberObject(1),
        }
    )
    return ArrayObject(
        [NameObject("/Separation"), NameObject("/All"), NameObject("/DeviceCMYK"), tint]
    )


def _n(value: float) -> str:
    """A PDF number to 1/1000 pt, never in exponent notation."""
    return f"{value:.3f}"
