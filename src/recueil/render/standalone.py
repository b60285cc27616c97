"""Finishing a standalone sheet from its render: page numbers and links to other sheets.

A sheet is laid out once, with the page slot of its footer left empty, so that the same render
can go into collections (which stamp their own page numbers). The standalone PDF gets
"page x / y" stamped from a tiny overlay document (rendered once per page count and reused), and
its links to other sheets, written as virtual ``goto/`` URIs, become remote go-to actions to
``SLUG.pdf``, the file beside it in build/sheets/.
"""

from __future__ import annotations

import io

import jinja2
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from recueil.markup.fragment import GOTO
from recueil.render.increment import IncrementalUpdate, LazyReader
from recueil.render.pagecontent import form_stream, own_contents, stamp_streams
from recueil.render.template import render_page
from recueil.render.weasy import render_pdf
from recueil.sources.project import Project


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


def finish_standalone(pdf: bytes, overlay: bytes) -> bytes:
    """Stamp the overlay on each page and point links to other sheets at their PDF files.

    The render's bytes are kept and the changes appended to them (increment.py): a tenth of
    what cloning the document cost. A PDF/A render (editions) stays one: its header, catalogue,
    metadata and identifier are untouched.
    """
    reader = LazyReader(io.BytesIO(pdf))
    stamps = PdfReader(io.BytesIO(overlay))
    update = IncrementalUpdate(pdf, reader)
    for number, (page, overlay_page) in enumerate(zip(reader.pages, stamps.pages, strict=True)):
        assert page.indirect_reference is not None  # a page of a file always has one
        edited = update.edit(page.indirect_reference)
        name = f"/RecueilStamp{number}"
        form = form_stream(overlay_page, update.copy(overlay_page.raw_get("/Resources"), stamps))
        resources = _editable(update, edited, "/Resources")
        _editable(update, resources, "/XObject")[NameObject(name)] = update.add(form)
        tagged = "/StructParents" in page  # WeasyPrint tagged it: the number is an artifact
        streams = stamp_streams(name, artifact=tagged)
        before, after = (update.add(_stream(data)) for data in streams)
        edited[NameObject("/Contents")] = ArrayObject([before, *own_contents(page), after])
        _link_sheets(update, edited)
    return update.write()


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def _editable(update: IncrementalUpdate, holder: DictionaryObject, key: str) -> DictionaryObject:
    """The dictionary under ``key`` of an edited object, itself made editable."""
    value = holder.raw_get(key) if key in holder else None
    if isinstance(value, IndirectObject):
        return update.edit(value)
    editable = DictionaryObject(dict.items(value) if isinstance(value, DictionaryObject) else ())
    holder[NameObject(key)] = editable
    return editable


def _link_sheets(update: IncrementalUpdate, page: DictionaryObject) -> None:
    """Links to other sheets (virtual goto URIs) become remote go-to actions to SLUG.pdf."""
    if "/Annots" not in page:
        return
    listed = page.raw_get("/Annots")
    annotations = ArrayObject(list.__iter__(listed.get_object()))
    changed = False
    for position, item in enumerate(annotations):
        annotation = item.get_object()
        action = annotation.get("/A")
        uri = str(action.get_object().get("/URI", "")) if action is not None else ""
        if not uri.startswith(GOTO + "sheet-"):
            continue
        slug = uri.removeprefix(GOTO + "sheet-")
        if isinstance(item, IndirectObject):
            edited = update.edit(item)
        else:
            edited = annotations[position] = DictionaryObject(dict.items(annotation))
            changed = True
        edited[NameObject("/A")] = DictionaryObject(
            {
                NameObject("/S"): NameObject("/GoToR"),
                NameObject("/F"): TextStringObject(f"{slug}.pdf"),
                NameObject("/D"): ArrayObject([NumberObject(0), NameObject("/Fit")]),
            }
        )
    if changed:  # a link written inside the list: the list changes
        if isinstance(listed, IndirectObject):
            update.objects[listed.idnum] = annotations
        else:
            page[NameObject("/Annots")] = annotations
