"""Finishing a standalone sheet from its render: page numbers and links to other sheets.

A sheet is laid out once, with the page slot of its footer left empty, so that the same render
can go into collections (which stamp their own page numbers). The standalone PDF gets
"page x / y" stamped from a tiny overlay document (rendered once per page count and reused), and
its links to other sheets, written as virtual ``goto/`` URIs, become remote go-to actions to
``SLUG.pdf``, the file beside it in build/sheets/.
"""

from __future__ import annotations

import io
import logging

import jinja2
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from .archival import mark_pdfa_header
from .markup import GOTO
from .pagecontent import form_of, stamp
from .project import Project
from .render import render_pdf
from .template import render_page


def _not_trailer_size(record: logging.LogRecord) -> bool:
    """pypdf warns when cloning a document needs more objects than the source's trailer
    counted (WeasyPrint's PDF/A documents do): the output is sound, the warning is noise."""
    return "exceeds defined trailer size" not in record.getMessage()


logging.getLogger("pypdf._writer").addFilter(_not_trailer_size)


def render_page_numbers(project: Project, env: jinja2.Environment, total: int) -> bytes:
    """An overlay of ``total`` pages carrying only 'page x / total' in the footer slot."""
    stamps = [
        {
            "number": f"page {n} / {total}",
            "left": "",
            "header": "",
            "full": False,
            "colour": "#000000",
            "side": "",  # a standalone sheet keeps its number in the footer's page slot
        }
        for n in range(1, total + 1)
    ]
    html = render_page(env, "overlay.html", {"stamps": stamps, "settings": project.settings})
    return render_pdf(
        html, project_dir=project.root, style_dirs=project.style_dirs, rel="overlay"
    ).pdf


def finish_standalone(pdf: bytes, overlay: bytes, archival: bool = False) -> bytes:
    """Stamp the overlay on each page and point links to other sheets at their PDF files.

    With ``archival``, the render is a PDF/A document: cloning keeps its catalog (XMP claim,
    output intent, language) and information dictionary; only the header needs restoring.
    """
    reader = PdfReader(io.BytesIO(pdf))
    stamps = PdfReader(io.BytesIO(overlay))
    writer = PdfWriter(clone_from=reader)
    for number, (page, overlay_page) in enumerate(zip(writer.pages, stamps.pages, strict=True)):
        stamp(writer, page, form_of(writer, overlay_page), f"/RecueilStamp{number}")
        for annotation in page.get("/Annots", []) or []:
            annotation = annotation.get_object()
            action = annotation.get("/A")
            uri = str(action.get_object().get("/URI", "")) if action is not None else ""
            if uri.startswith(GOTO + "sheet-"):
                slug = uri.removeprefix(GOTO + "sheet-")
                annotation[NameObject("/A")] = DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/GoToR"),
                        NameObject("/F"): TextStringObject(f"{slug}.pdf"),
                        NameObject("/D"): ArrayObject([NumberObject(0), NameObject("/Fit")]),
                    }
                )
    if archival:
        mark_pdfa_header(writer)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
