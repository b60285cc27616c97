"""Keeping a collection small in memory while it is merged: copied objects become bytes.

pypdf's writer keeps every object it copies as a tree of Python objects (each number, name and
array entry a separate object), and its link bookkeeping keeps every source reader alive with
all it parsed. Merging 1,000 sheet renders that way held about 680 MB for a 76 MB file. Once a
sheet's (or a generated part's) pages are copied and stamped, nothing changes its fonts, images
or content streams again: they are serialised at once and kept as bytes, which pypdf writes out
unchanged (it neither renumbers nor walks objects when writing). Only what later stages edit
stays live: the pages and the entries of their resources named in EDITED_RESOURCES; links must
be final before (assemble.py makes them so).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, IndirectObject, PdfObject
from pypdf.generic._link import DirectReferenceLink

#: resource entries of a page that later stages still edit (printshop.py adds a colour space,
#: pagecontent.py a form); the others (fonts, graphic states, patterns...) become bytes
EDITED_RESOURCES = ("/ColorSpace", "/XObject")


class Serialised(PdfObject):
    """An object of the output already written as PDF syntax.

    It keeps its reference: pypdf answers a later copy of the same source object (an overlay's
    resources, shared by many pages) with the reference of the object it copied first.
    """

    __slots__ = ("data", "indirect_reference")

    def __init__(self, data: bytes, reference: IndirectObject | None):
        self.data = data
        self.indirect_reference = reference

    def write_to_stream(self, stream: Any, encryption_key: Any = None) -> None:
        """Write the stored bytes (the collection is never encrypted)."""
        stream.write(self.data)


def settle_links(writer: PdfWriter) -> None:
    """Point copied in-document links at their copied pages now, then forget the sources.

    pypdf patches these links only when the file is written, and remembers each source page
    (hence its reader, with every object it parsed) until then. Links by name need nothing:
    the assembler declares every named destination itself.
    """
    for new_link, old_link in writer._unresolved_links:
        if isinstance(new_link, DirectReferenceLink):
            target = writer._merged_in_pages.get(old_link.find_referenced_page())
            if target is not None:
                new_link.patch_reference(writer, target)
    writer._unresolved_links.clear()
    writer._merged_in_pages.clear()


def serialise_copied(writer: PdfWriter, first: int, pages: Iterable[Any]) -> None:
    """Turn the objects added since object number ``first`` into bytes, except editable ones."""
    live: set[int] = set()

    def keep(value: Any) -> Any:
        if isinstance(value, IndirectObject):
            live.add(value.idnum)
        return value.get_object() if value is not None else None

    for page in pages:
        live.add(page.indirect_reference.idnum)
        resources = keep(page.raw_get("/Resources") if "/Resources" in page else None)
        if isinstance(resources, DictionaryObject):
            for key, value in list(dict.items(resources)):  # raw: references stay references
                if key in EDITED_RESOURCES:
                    keep(value)
                elif not isinstance(value, IndirectObject):
                    resources[key] = Serialised(_bytes(value), None)

    objects = writer._objects
    for index in range(first, len(objects)):
        obj = objects[index]
        if obj is None or index + 1 in live or isinstance(obj, Serialised):
            continue
        objects[index] = Serialised(_bytes(obj), IndirectObject(index + 1, 0, writer))


def _bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    obj.write_to_stream(buffer)
    return buffer.getvalue()
