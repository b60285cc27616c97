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
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, IndirectObject, PdfObject, StreamObject
from pypdf.generic._link import DirectReferenceLink

#: resource entries of a page that later stages still edit (printshop.py adds a colour space,
#: pagecontent.py a form); the others (fonts, graphic states, patterns...) become bytes
EDITED_RESOURCES = ("/ColorSpace", "/XObject")


class Spool:
    """Bytes of the output kept in an unnamed temporary file instead of memory.

    A 1,000-sheet collection is some 85 MB of fonts, images and content streams: kept as bytes
    objects, they stayed in the main process while the workers laid out the generated parts
    beside it (merge.py copies the sheets meanwhile). The file disappears with the object.
    """

    def __init__(self, folder: Path | None = None):
        self.file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - lives with the object
        self.end = 0

    def put(self, data: bytes) -> tuple[int, int]:
        """Store ``data``; where it is (start, length)."""
        self.file.seek(self.end)
        self.file.write(data)
        start, self.end = self.end, self.end + len(data)
        return start, len(data)

    def close(self) -> None:
        """Remove the file now rather than when the object is collected."""
        self.file.close()

    def get(self, start: int, length: int) -> bytes:
        """The bytes stored at ``start``."""
        self.file.seek(start)
        return self.file.read(length)


class Serialised(PdfObject):
    """An object of the output already written as PDF syntax, its bytes in a spool.

    It keeps its reference: pypdf answers a later copy of the same source object (an overlay's
    resources, shared by many pages) with the reference of the object it copied first.
    """

    __slots__ = ("indirect_reference", "length", "spool", "start", "stream")

    def __init__(
        self, spool: Spool, data: bytes, reference: IndirectObject | None, stream: bool = False
    ):
        self.spool = spool
        self.start, self.length = spool.put(data)
        self.indirect_reference = reference
        #: whether it is a stream (packing.py packs the other objects together)
        self.stream = stream

    def write_to_stream(self, stream: Any, encryption_key: Any = None) -> None:
        """Write the stored bytes (the collection is never encrypted)."""
        stream.write(self.spool.get(self.start, self.length))


class Deferred(DictionaryObject):
    """An object of the output that is filled in only at the end, so never made bytes early.

    A collection's shared fonts (sharing.py) are referenced by the first sheet that uses them
    and written once every sheet has said which glyphs it needs.
    """


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


def serialise_copied(writer: PdfWriter, first: int, pages: Iterable[Any], spool: Spool) -> None:
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
                    resources[key] = Serialised(spool, _bytes(value), None)

    objects = writer._objects
    for index in range(first, len(objects)):
        obj = objects[index]
        if obj is None or index + 1 in live or isinstance(obj, (Serialised, Deferred)):
            continue
        reference = IndirectObject(index + 1, 0, writer)
        objects[index] = Serialised(spool, _bytes(obj), reference, isinstance(obj, StreamObject))


def _bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    obj.write_to_stream(buffer)
    return buffer.getvalue()
