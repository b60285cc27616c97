"""Links between sheets in standalone PDFs: a "voir aussi" opens the other sheet's PDF.

Sheets are rendered once with links to other sheets written as virtual ``goto/`` URIs. In a
collection the assembler makes them internal links; a standalone sheet gets remote go-to actions
(``GoToR``) to ``SLUG.pdf``, the file beside it in build/sheets/.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from .markup import GOTO


def link_to_sheet_files(pdf: bytes) -> bytes:
    """Rewrite goto URIs of a standalone sheet into links to the other sheets' PDF files."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    changed = False
    for page in writer.pages:
        for annotation in page.get("/Annots", []) or []:
            annotation = annotation.get_object()
            action = annotation.get("/A")
            uri = str(action.get_object().get("/URI", "")) if action is not None else ""
            if not uri.startswith(GOTO + "sheet-"):
                continue
            slug = uri.removeprefix(GOTO + "sheet-")
            annotation[NameObject("/A")] = DictionaryObject(
                {
                    NameObject("/S"): NameObject("/GoToR"),
                    NameObject("/F"): TextStringObject(f"{slug}.pdf"),
                    NameObject("/D"): ArrayObject([NumberObject(0), NameObject("/Fit")]),
                }
            )
            changed = True
    if not changed:
        return pdf
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
