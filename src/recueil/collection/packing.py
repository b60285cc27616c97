"""Writing a collection with its small objects compressed: object streams, an xref stream.

Once fonts and pictograms are stored once (sharing.py), what a collection holds besides the
pages' content is thousands of small dictionaries: links, outline items, destinations, page
and resource dictionaries. pypdf writes each as plain text with a 20-byte cross-reference
line; WeasyPrint, like most producers since PDF 1.5 (ISO 32000-1, 7.5.7 and 7.5.8), packs them
into compressed object streams and writes the cross-reference table as a compressed stream.
Plain, they made a quarter of a 400-sheet collection. This writes what ``PdfWriter.write``
would, in that form: streams stay as they are (a stream cannot go in an object stream), every
other object goes into an object stream of up to OBJECTS_PER_STREAM objects, in object order,
so the file is the same for the same objects. PDF/A-2 allows both.
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import (
    NameObject,
    NumberObject,
    StreamObject,
)

from recueil.collection.compact import Serialised
from recueil.render.increment import object_stream, xref_rows_stream

#: objects per object stream: large enough to compress well (1,000 rather than 200: 0.6 %
#: smaller on the sample's national collection), small enough that a reader opening one page
#: inflates some 100 KB, not the whole file (WeasyPrint packs a document in one stream)
OBJECTS_PER_STREAM = 1000
#: the lowest version with object and cross-reference streams
MIN_VERSION = "%PDF-1.5"


class PackedWriter(PdfWriter):
    """A PdfWriter whose ``write`` packs the document (see the module docstring)."""

    def write_stream(self, stream: Any) -> None:
        write_packed(self, stream)


def write_packed(writer: PdfWriter, output: Any) -> None:
    """Write ``writer``'s document to ``output`` with object streams and an xref stream."""
    writer._resolve_links()  # what PdfWriter.write_stream does first
    if writer._encryption:
        raise ValueError("an encrypted document is written by pypdf itself")
    header = max(writer.pdf_header, MIN_VERSION)
    output.write(header.encode() + b"\n%\xe2\xe3\xcf\xd3\n")
    objects = writer._objects
    size = len(objects) + 1
    #: per object number: (1, offset) written plainly, (2, stream number, index) packed
    entries: dict[int, tuple[int, int, int]] = {}
    packed: list[tuple[int, bytes]] = []
    for number, obj in enumerate(objects, start=1):
        if obj is None:
            continue
        data = _syntax(obj)
        if _is_stream(obj):
            entries[number] = (1, output.tell(), 0)
            output.write(b"%d 0 obj\n%s\nendobj\n" % (number, data))
        else:
            packed.append((number, data))
    for start in range(0, len(packed), OBJECTS_PER_STREAM):
        chunk = packed[start : start + OBJECTS_PER_STREAM]
        entries[size] = (1, output.tell(), 0)
        for index, (number, _) in enumerate(chunk):
            entries[number] = (2, size, index)
        output.write(b"%d 0 obj\n%s\nendobj\n" % (size, _syntax(object_stream(chunk))))
        size += 1
    _write_xref_stream(writer, output, entries, size)


def _write_xref_stream(
    writer: PdfWriter, output: Any, entries: dict[int, tuple[int, int, int]], number: int
) -> None:
    """The cross-reference stream (ISO 32000-1, 7.5.8), the last object, and the trailer."""
    start = output.tell()
    entries[number] = (1, start, 0)
    rows = [b"\x00\x00\x00\x00\x00\xff\xff"]  # object 0, head of the (empty) free list
    for n in range(1, number + 1):
        kind, field, index = entries.get(n, (0, 0, 0))
        rows.append(bytes([kind]) + field.to_bytes(4, "big") + index.to_bytes(2, "big"))
    stream = xref_rows_stream(rows)
    stream.update(
        {
            NameObject("/Type"): NameObject("/XRef"),
            NameObject("/Size"): NumberObject(number + 1),
            NameObject("/Root"): writer.root_object.indirect_reference,
        }
    )
    if writer._info is not None:
        stream[NameObject("/Info")] = writer._info.indirect_reference
    if writer._ID is not None:
        stream[NameObject("/ID")] = writer._ID
    trailer = b"%d 0 obj\n%s\nendobj\nstartxref\n%d\n%%%%EOF\n"
    output.write(trailer % (number, _syntax(stream), start))


def _is_stream(obj: Any) -> bool:
    if isinstance(obj, Serialised):
        return obj.stream
    return isinstance(obj, StreamObject)


def _syntax(obj: Any) -> bytes:
    buffer = io.BytesIO()
    obj.write_to_stream(buffer)
    return buffer.getvalue()
