"""Adding to a page's content without decoding it: wrapping streams and stamping a form.

pypdf's ``merge_page`` parses both content streams, renames resources and rewrites them, which
costs about 10 ms a page; a collection stamps every page. Drawing the stamp as a form XObject
and appending a two-operator stream does the same painting without reading the page's content.
"""

from __future__ import annotations

from typing import Any

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)


def own_contents(page: Any) -> list[Any]:
    """The page's content streams as a list of references (or streams), none decoded."""
    if page.get("/Contents") is None:
        return []
    raw = page.raw_get("/Contents")
    target = raw.get_object()
    return list(target) if isinstance(target, ArrayObject) else [raw]


#: The marked-content tag of a stamped page number in a tagged PDF: a pagination artifact, which
#: assistive technology skips and which has no place in the structure tree (ISO 32000, 14.8.2.2).
PAGINATION_ARTIFACT = "/Artifact <</Type /Pagination /Subtype /Footer>> BDC"


def stamp_streams(name: str, artifact: bool = False) -> tuple[bytes, bytes]:
    """What goes before and after a page's content to paint the form ``name`` over it.

    The page's own content is wrapped in q/Q, as WeasyPrint's pages change the transformation
    matrix without restoring it. With ``artifact``, the stamp is marked as a pagination artifact
    (for tagged pages, whose other content is all marked).
    """
    if artifact:
        return b"q\n", f"\nQ\n{PAGINATION_ARTIFACT} q {name} Do Q EMC\n".encode()
    return b"q\n", f"\nQ\nq {name} Do Q\n".encode()


def wrap_contents(writer: PdfWriter, page: Any, before: bytes, after: bytes) -> None:
    """Put ``before`` and ``after`` around the page's content streams without decoding them."""
    existing = own_contents(page)
    parts = []
    for data in (before, after):
        stream = DecodedStreamObject()
        stream.set_data(data)
        parts.append(writer._add_object(stream))
    page[NameObject("/Contents")] = ArrayObject([parts[0], *existing, parts[1]])


def form_stream(page: Any, resources: Any) -> StreamObject:
    """A page of another document as a form XObject, with ``resources`` already copied."""
    plain = DecodedStreamObject()
    plain.set_data(page.get_contents().get_data())
    form = plain.flate_encode()
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = page.mediabox
    form[NameObject("/Resources")] = resources
    return form


def form_of(writer: PdfWriter, page: Any) -> IndirectObject:
    """A page of another document as a form XObject of ``writer`` (its resources cloned once)."""
    return writer._add_object(form_stream(page, page.raw_get("/Resources").clone(writer)))


def stamp(writer: PdfWriter, page: Any, form: IndirectObject, name: str) -> None:
    """Paint ``form`` over the page, in the page's default coordinates (see stamp_streams).

    ``name`` must be unique among pages sharing resources. The stamp (page numbers, running
    headers) is marked as a pagination artifact: collections are tagged (structure_tree.py),
    and in an untagged page the marking is harmless.
    """
    resources = page["/Resources"].get_object()
    if "/XObject" not in resources:
        resources[NameObject("/XObject")] = DictionaryObject()
    resources["/XObject"].get_object()[NameObject(name)] = form
    wrap_contents(writer, page, *stamp_streams(name, artifact=True))
