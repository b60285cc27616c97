"""Changing a few objects of a PDF by appending them: an incremental update (ISO 32000, 7.5.6).

A standalone sheet is its render plus a page number on each page and rewritten links to other
sheets: a handful of small objects. Cloning the whole render with pypdf to change them parsed and
rewrote every font, image and content stream, about a tenth of the CPU a sheet costs. Here the
render's bytes are kept as they are, and the changed objects (pages, their resources, links) and
the new ones (the stamp forms and what they use) follow them, with a cross-reference section
of the same kind as the original's that points back to it. Readers take the latest version of
each object. PDF/A allows incremental updates; the header, catalogue, metadata and identifier
of the render stay in force.
"""

from __future__ import annotations

import bisect
import io
import zlib
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from recueil.render.pdf_syntax import parse_object


class LazyReader(PdfReader):
    """A reader that parses only the objects asked for.

    pypdf parses every object of an object stream the first time one of them is read: for a
    render, all its fonts' width arrays and its outline, to reach its three page dictionaries
    (two thirds of the time a standalone sheet took). Here the stream is decompressed once and
    each object parsed when it is asked for, by pdf_syntax.py (twice as fast as pypdf's own
    parser, with the same result).
    """

    def __init__(self, stream: Any):
        self._object_streams: dict[int, tuple[bytes, dict[int, int], list[int]]] = {}
        #: set while a cross-reference stream is read: its subsections are read afterwards
        self._deferring = False
        self._subsections: tuple[Any, Any, Any] = ([], None, None)
        super().__init__(stream)

    def _read_pdf15_xref_stream(self, stream: Any) -> Any:
        """pypdf's reading of a cross-reference stream (its checks and limits), with the
        entries decoded here: pypdf reads each field through a file-like object, 2 ms a
        render, and an assembly reads every render twice (merge.py, structure_tree.py)."""
        self._deferring = True
        try:
            xref_stream: Any = super()._read_pdf15_xref_stream(stream)
        finally:
            self._deferring = False
        pairs, get_entry, used_before = self._subsections
        self._subsections = ([], None, None)  # nothing left over for the next stream
        widths = [int(width) for width in xref_stream["/W"]]
        data = xref_stream.get_data()
        if (
            len(widths) != 3
            or not all(0 <= w <= 8 for w in widths)
            or (len(data) < sum(pairs[1::2]) * sum(widths))
        ):  # unusual: pypdf's own way
            super()._read_xref_subsections(pairs, get_entry, used_before)
            return xref_stream
        self._decode_entries(data, widths, pairs, used_before)
        return xref_stream

    def _read_xref_subsections(self, pairs: Any, get_entry: Any, used_before: Any) -> None:
        if self._deferring:  # read by _read_pdf15_xref_stream
            self._subsections = (pairs, get_entry, used_before)
        else:
            super()._read_xref_subsections(pairs, get_entry, used_before)

    def _decode_entries(self, data: bytes, widths: list[int], pairs: list[int],
                        used_before: Any) -> None:  # fmt: skip
        """The entries of cross-reference stream ``data`` (ISO 32000-1, 7.5.8.3), newer
        entries (read before) winning, as pypdf's reading does."""
        size_type, size_second, _ = widths
        row = sum(widths)
        number_of = int.from_bytes
        position = 0
        for start, count in zip(pairs[0::2], pairs[1::2], strict=False):  # odd: last ignored
            for number in range(start, start + count):
                kind = number_of(data[position : position + size_type]) if size_type else 1
                middle = position + size_type + size_second
                second = number_of(data[position + size_type : middle])
                third = number_of(data[middle : position + row])
                position += row
                if kind == 1:
                    self.xref.setdefault(third, {})
                    if not used_before(number, third):
                        self.xref[third][number] = second
                elif kind == 2:
                    if not used_before(number, 0):
                        self.xref_objStm[number] = (second, third)
                elif kind != 0 and self.strict:
                    raise PdfReadError(f"Unknown xref type: {kind}")

    def _get_object_from_stream(self, indirect_reference: IndirectObject) -> PdfObject:
        data, offsets, _ = self._stream_of(indirect_reference.idnum)
        offset = offsets.get(indirect_reference.idnum)
        if offset is None:  # not where the cross-reference said: let pypdf make sense of it
            return super()._get_object_from_stream(indirect_reference)
        value = parse_object(data, offset, self)
        self.cache_indirect_object(0, indirect_reference.idnum, value)
        return value

    def _stream_of(self, number: int) -> tuple[bytes, dict[int, int], list[int]]:
        """The decompressed object stream holding object ``number``, where each object in it
        starts, and those starts in order."""
        stream_number = self.xref_objStm[number][0]
        known = self._object_streams.get(stream_number)
        if known is None:
            stream = self.get_object(stream_number)
            assert isinstance(stream, StreamObject)
            data, first = stream.get_data(), int(stream["/First"])  # type: ignore[call-overload]
            header = data[:first].split()
            offsets = {
                int(header[i]): first + int(header[i + 1]) for i in range(0, len(header) - 1, 2)
            }
            known = self._object_streams[stream_number] = (data, offsets, sorted(offsets.values()))
        return known

    def raw(self, number: int) -> bytes | None:
        """The bytes of an object stored in an object stream, unparsed (None: stored apart,
        or not where the cross-reference said)."""
        if number not in self.xref_objStm:
            return None
        data, offsets, starts = self._stream_of(number)
        start = offsets.get(number)
        if start is None:
            return None
        following = bisect.bisect_right(starts, start)
        return data[start : starts[following] if following < len(starts) else len(data)].strip()


class Written(PdfObject):
    """An object of an update already written as PDF syntax: one that is final once made is
    kept as its bytes (a collection's structure tree copies hundreds of thousands of small
    dictionaries, collection/structure_tree.py)."""

    __slots__ = ("data",)

    def __init__(self, value: PdfObject | bytes):
        if isinstance(value, bytes):
            self.data = value
            return
        buffer = io.BytesIO()
        value.write_to_stream(buffer)
        self.data = buffer.getvalue()

    def write_to_stream(self, stream: Any, encryption_key: Any = None) -> None:
        stream.write(self.data)


class IncrementalUpdate:
    """New versions of some of a document's objects, and new objects, appended to its bytes."""

    def __init__(self, data: bytes, reader: PdfReader):
        self.data = data
        self.reader = reader
        self.next = int(reader.trailer["/Size"])  # type: ignore[call-overload]
        self.objects: dict[int, PdfObject] = {}
        self.copies: dict[tuple[int, int], IndirectObject] = {}

    def add(self, value: PdfObject) -> IndirectObject:
        """A new object; its reference."""
        reference = IndirectObject(self.next, 0, None)
        self.next += 1
        self.objects[reference.idnum] = value
        return reference

    def edit(self, reference: IndirectObject) -> DictionaryObject:
        """The new version of one of the document's dictionaries, to change in place.

        A shallow copy: its values are the original's, references stay references.
        """
        known = self.objects.get(reference.idnum)
        if known is None:
            original = reference.get_object()
            assert isinstance(original, DictionaryObject), reference
            known = DictionaryObject(dict.items(original))
            self.objects[reference.idnum] = known
        assert isinstance(known, DictionaryObject)
        return known

    def copy(self, value: Any, source: PdfReader) -> Any:
        """A value of another document as objects of this one (each object copied once)."""
        if isinstance(value, IndirectObject):
            key = (id(source), value.idnum)
            reference = self.copies.get(key)
            if reference is None:
                reference = self.copies[key] = self.add(NumberObject(0))  # placeholder: cycles
                self.objects[reference.idnum] = self.copy(value.get_object(), source)
            return reference
        if isinstance(value, StreamObject):
            stream = EncodedStreamObject() if "/Filter" in value else DecodedStreamObject()
            stream._data = value._data
            stream.update({key: self.copy(item, source) for key, item in dict.items(value)})
            return stream
        if isinstance(value, DictionaryObject):
            return DictionaryObject(
                {key: self.copy(item, source) for key, item in dict.items(value)}
            )
        if isinstance(value, ArrayObject):
            return ArrayObject([self.copy(item, source) for item in list.__iter__(value)])
        return value

    def write(self, packed: bool = False) -> bytes:
        """The original bytes followed by the update.

        With ``packed`` (and a document whose cross-references are a stream), the new objects
        that are not streams go compressed into object streams: a collection's structure tree
        is tens of thousands of small dictionaries, three times the rest of its file when
        written one by one (collection/structure_tree.py). Those leave the update as they are
        packed: it is written once.
        """
        # the update is written apart and joined to the original once: a collection is tens
        # of MB, and a buffer holding both, then copied out, took three times that at once
        head = b"" if self.data.endswith(b"\n") else b"\n"
        output = _Offset(len(self.data) + len(head))
        trailer = DictionaryObject()
        for key in ("/Root", "/Info", "/ID"):
            if key in self.reader.trailer:
                trailer[NameObject(key)] = self.reader.trailer.raw_get(key)
        trailer[NameObject("/Prev")] = NumberObject(_last_startxref(self.data))
        entries: dict[int, tuple[int, int, int]] = {}
        as_stream = _xref_is_stream(self.data)
        loose = sorted(self.objects)
        if packed and as_stream:
            small = [n for n in loose if not isinstance(self.objects[n], StreamObject)]
            loose = [n for n in loose if isinstance(self.objects[n], StreamObject)]
            for start in range(0, len(small), OBJECT_STREAM_SIZE):
                group = small[start : start + OBJECT_STREAM_SIZE]
                number = self.next
                self.next += 1
                entries.update({n: (2, number, i) for i, n in enumerate(group)})
                self.objects[number] = object_stream(
                    [(n, _serialised(self.objects.pop(n))) for n in group]  # spent once packed
                )
                loose.append(number)
        for number in loose:
            entries[number] = (1, output.tell(), 0)
            output.write(b"%d 0 obj\n" % number)
            self.objects[number].write_to_stream(output)
            output.write(b"\nendobj\n")
        if as_stream:
            _write_xref_stream(output, entries, self.next, trailer)
        else:
            offsets = {number: entry[1] for number, entry in entries.items()}
            _write_xref_table(output, offsets, self.next, trailer)
        return b"".join((self.data, head, output.getvalue()))


#: objects per stream of a packed update (a tree, read whole: 1 % smaller than with 200)
OBJECT_STREAM_SIZE = 1000
#: zlib level: 0.9 MB of packed objects take 29 ms and shrink 2 % more than at 6 (23 ms); 8 and
#: 9 save 1 % more for three times the time, which every edit of a large collection would pay
COMPRESSION = 7


def object_stream(chunk: list[tuple[int, bytes]]) -> StreamObject:
    """An object stream (ISO 32000-1, 7.5.7) holding these (number, serialised object) pairs,
    compressed; the collection's packed writer uses it too."""
    offsets, body, position = [], io.BytesIO(), 0
    for number, data in chunk:
        offsets.append(b"%d %d" % (number, position))
        body.write(data + b"\n")
        position += len(data) + 1
    head = b" ".join(offsets) + b"\n"
    stream = StreamObject()
    stream._data = zlib.compress(head + body.getvalue(), COMPRESSION)
    stream.update(
        {
            NameObject("/Type"): NameObject("/ObjStm"),
            NameObject("/N"): NumberObject(len(chunk)),
            NameObject("/First"): NumberObject(len(head)),
            NameObject("/Filter"): NameObject("/FlateDecode"),
        }
    )
    return stream


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Consecutive object numbers as (first, count) subsections."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][0] + runs[-1][1] == number:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((number, 1))
    return runs


def _write_xref_table(
    output: io.BytesIO, offsets: dict[int, int], size: int, trailer: DictionaryObject
) -> None:
    start = output.tell()
    output.write(b"xref\n")
    for first, count in _runs(sorted(offsets)):
        output.write(b"%d %d\n" % (first, count))
        for number in range(first, first + count):
            output.write(b"%010d 00000 n \n" % offsets[number])
    trailer[NameObject("/Size")] = NumberObject(size)
    output.write(b"trailer\n")
    trailer.write_to_stream(output)
    output.write(b"\nstartxref\n%d\n%%%%EOF\n" % start)


def _write_xref_stream(
    output: io.BytesIO,
    entries: dict[int, tuple[int, int, int]],
    size: int,
    trailer: DictionaryObject,
) -> None:
    """The section as a cross-reference stream, itself the last object (number ``size``).

    ``entries``: object number → (1, offset, 0) for an object written in the file, or
    (2, object stream, index) for one inside an object stream."""
    start = output.tell()
    entries = {**entries, size: (1, start, 0)}
    numbers = sorted(entries)
    rows = [bytes([kind]) + field.to_bytes(4, "big") + index.to_bytes(2, "big")
            for kind, field, index in (entries[n] for n in numbers)]  # fmt: skip
    stream = xref_rows_stream(rows)
    stream.update(trailer)
    index = [NumberObject(value) for run in _runs(numbers) for value in run]
    stream.update(
        {
            NameObject("/Type"): NameObject("/XRef"),
            NameObject("/Size"): NumberObject(size + 1),
            NameObject("/Index"): ArrayObject(index),
        }
    )
    output.write(b"%d 0 obj\n" % size)
    stream.write_to_stream(output)
    output.write(b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % start)


#: bytes of a cross-reference row: type, offset or object stream, generation or index
XREF_WIDTHS = (1, 4, 2)


def xref_rows_stream(rows: list[bytes]) -> StreamObject:
    """A cross-reference stream holding ``rows`` (each of XREF_WIDTHS bytes), compressed
    with PNG's Up predictor (ISO 32000-1, 7.4.4.4), as qpdf and Acrobat write them.

    Consecutive rows differ in a byte or two (the next offset, the next index in the same
    object stream); written as differences from the row above, the cross-references of a
    400-sheet collection take 28 KB instead of 300 KB."""
    stream = StreamObject()
    stream._data = zlib.compress(_png_up(rows, sum(XREF_WIDTHS)))
    stream.update(
        {
            NameObject("/W"): ArrayObject([NumberObject(w) for w in XREF_WIDTHS]),
            NameObject("/Filter"): NameObject("/FlateDecode"),
            NameObject("/DecodeParms"): DictionaryObject(
                {
                    NameObject("/Predictor"): NumberObject(12),
                    NameObject("/Columns"): NumberObject(sum(XREF_WIDTHS)),
                }
            ),
        }
    )
    return stream


def _png_up(rows: list[bytes], width: int) -> bytes:
    """``rows`` filtered with PNG's Up filter: each row led by the filter's number (2) and
    each byte replaced by its difference, modulo 256, with the byte above it.

    The subtraction is done at once on the whole table read as one integer, byte by byte
    without borrowing from the next (the SWAR subtraction of Hacker's Delight, 2-18): a byte
    loop in Python took 0.3 s for a 400-sheet collection."""
    current = b"".join(b"\x02" + row for row in rows)
    above = bytes(width + 1) + b"".join(b"\x00" + row for row in rows[:-1])
    size = len(current)
    x, y = int.from_bytes(current, "big"), int.from_bytes(above, "big")
    high = int.from_bytes(b"\x80" * size, "big")
    ones = (1 << (8 * size)) - 1
    difference = ((x | high) - (y & ~high & ones)) ^ ((x ^ y ^ ones) & high)
    return (difference & ones).to_bytes(size, "big")


def _last_startxref(data: bytes) -> int:
    """Offset of the document's last cross-reference section."""
    tail = data[data.rindex(b"startxref") + len(b"startxref") :]
    return int(tail.split()[0])


def _xref_is_stream(data: bytes) -> bool:
    """Whether the last cross-reference section is a stream (PDF 1.5) rather than a table."""
    return not data[_last_startxref(data) :].startswith(b"xref")


class _Offset(io.BytesIO):
    """A buffer for what follows ``start`` bytes already written elsewhere: ``tell`` gives
    the position in the whole file (where each object starts)."""

    def __init__(self, start: int):
        super().__init__()
        self.start = start

    def tell(self) -> int:
        return self.start + super().tell()


def _serialised(value: PdfObject) -> bytes:
    out = io.BytesIO()
    value.write_to_stream(out)
    return out.getvalue()
