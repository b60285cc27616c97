"""The object-stream reader (render/pdf_syntax.py) and the cross-reference stream decoding of
LazyReader give what pypdf's own reading gives, on recueil's real files and on odd syntax."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    StreamObject,
    read_object,
)

from conftest import national_collection  # type: ignore[import-not-found]
from recueil.collection.collection_build import assemble_collection, prepare_collection
from recueil.render import pdf_syntax
from recueil.render.increment import LazyReader
from recueil.render.pdf_syntax import parse_object


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    """The national collection's sheet renders (tagged, with fonts, images, links, tables)
    and the collection assembled from them (object streams, and an update whose
    cross-reference stream points back to the first)."""
    project, corpus, collection, renderer = national_collection(cached=True)
    prepared, diagnostics = prepare_collection(project, corpus, collection, renderer)
    assert prepared is not None, diagnostics
    result, diagnostics = assemble_collection(project, prepared, renderer.cache)
    assert result is not None, diagnostics
    found = {f"sheet {slug}": render.pdf for slug, render in prepared.renders.items()}
    found["collection"] = result.pdf
    return found


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same pypdf types, references compared by number."""
    if type(a) is not type(b):
        return False
    if isinstance(a, IndirectObject):
        return (a.idnum, a.generation) == (b.idnum, b.generation)
    if isinstance(a, DictionaryObject):
        return list(a) == list(b) and all(
            _same(dict.__getitem__(a, k), dict.__getitem__(b, k)) for k in a
        )
    if isinstance(a, ArrayObject):
        return len(a) == len(b) and all(
            _same(x, y) for x, y in zip(list.__iter__(a), list.__iter__(b), strict=True)
        )
    return bool(a == b)


def _stored_objects(pdf: bytes) -> list[tuple[bytes, int, PdfReader]]:
    """Each object stored in an object stream: the stream's content, where the object
    starts, and a reader for its references."""
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for number in {stream for stream, _ in reader.xref_objStm.values()}:
        stream = reader.get_object(number)
        assert isinstance(stream, StreamObject)
        data, first = stream.get_data(), int(stream["/First"])
        header = data[:first].split()
        found += [(data, first + int(offset), reader) for offset in header[1::2]]
    return found


def _pypdf(data: bytes, offset: int, pdf: Any) -> Any:
    buffer = io.BytesIO(data)
    buffer.seek(offset)
    return read_object(buffer, pdf)


def test_every_object_of_the_renders_and_the_collection_reads_as_pypdf_reads_it(
    files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    handed_over = []  # objects the fast reader gave to pypdf whole

    def counted(stream: Any, pdf: Any, *args: Any) -> Any:
        handed_over.append(stream.tell())
        return read_object(stream, pdf, *args)

    monkeypatch.setattr(pdf_syntax, "read_object", counted)
    compared = 0
    for name, pdf in files.items():
        for data, offset, reader in _stored_objects(pdf):
            expected = _pypdf(data, offset, reader)
            assert _same(parse_object(data, offset, reader), expected), (name, offset)
            compared += 1
    assert compared > 20_000  # the structure trees are most of them
    # the fast reader does read them: only strings with escapes go to pypdf
    assert len(handed_over) < compared / 20


@pytest.mark.parametrize(
    "syntax",
    [
        b"<</Type /Page /Count 3 /Kids [1 0 R 2 0 R] /Box [0 0 595.27 841.8]>>",
        b"[ 3 [ 500 -600 .5 7. ] 12 [ 1 2 3 ] ]",
        b"[1 [748] 36 [661 5.5]\n42 [752]]",  # a font's widths, as WeasyPrint writes them
        b"[1 [748] 36 40 661]",  # widths with a range: read token by token
        b"[1 [2 0 R] 3 []]",
        b"[1 0 R 2]",  # a reference and a number
        b"[1 2 R]",  # not a reference: two numbers and a keyword pypdf reads its own way
        b"<</A#20B /x /C#2fD 1>>",  # names with escapes
        b"(Une \\(parenth\\350se\\) et un \\\\)",  # escapes
        b"(des (parenth\xe8ses) imbriqu\xe9es)",
        b"<feff00e90020004c>",  # UTF-16 text in hexadecimal
        b"<4a6>",  # an odd number of digits: the last is followed by 0
        b"< 4a 61 >",
        b"<</A true /B false /C null /D [true false null]>>",
        b"<</A 1 % a comment\n/B 2>>",
        b"<</A 1 /A 2>>",  # a repeated key: the first wins, with pypdf's warning
        b"<<>>",
        b"[]",
        b"[ [ ] [ [ ] ] ]",
        b"<</Nums [0 [5 0 R 6 0 R] 1 [7 0 R]]>>",
        b"<</Title (Recueil) /K [ 1 2 ] /Alt <> /E ()>>",
        b"-12",
        b"+3.25",
        b"17 0 R\n",
        b"17 0 R",  # at the very end: pypdf reads the number only
        b"/A\x00B /C",  # \x00 may be part of a name
        b"[/A\x0b/B]",
        b"(\\0561\\\\056\\n)",  # three digits at most; an escaped backslash
    ],
)
def test_odd_syntax_reads_as_pypdf_reads_it(syntax: bytes) -> None:
    reader = PdfReader(io.BytesIO(_minimal_pdf()))
    assert _same(parse_object(syntax, 0, reader), _pypdf(syntax, 0, reader))


def test_a_long_array_that_is_not_plain_is_read_without_backtracking(limit: Any) -> None:
    """Arrays of numbers followed by something else: each number has one way to be matched
    (with \\d+\\.?\\d* a 40-number array took longer than anyone waits)."""
    reader = PdfReader(io.BytesIO(_minimal_pdf()))
    for syntax in (
        b"[" + b" ".join([b"1234.5"] * 40) + b" /Fin]",
        b"[" + b" ".join([b"12 [345 678.5]"] * 40) + b" /Fin]",
    ):
        with limit(10):
            assert _same(parse_object(syntax, 0, reader), _pypdf(syntax, 0, reader))


def test_pypdf_limits_still_apply() -> None:
    from pypdf import apply_configuration  # type: ignore[attr-defined]

    reader = PdfReader(io.BytesIO(_minimal_pdf()))
    limits = {"array_maximum_element_count": 5, "dictionary_maximum_element_count": 2}
    with apply_configuration(**limits):
        for syntax in (b"[1 2 3 4 5 6 7]", b"[/a /b /c /d /e /f /g]", b"<</A 1 /B 2 /C 3>>"):
            with pytest.raises(LimitReachedError):
                parse_object(syntax, 0, reader)
        assert parse_object(b"[1 2 3 4 5]", 0, reader) == [1, 2, 3, 4, 5]


def test_cross_reference_streams_decode_as_pypdf_decodes_them(files: dict[str, bytes]) -> None:
    updates = 0
    for name, pdf in files.items():
        ours, theirs = LazyReader(io.BytesIO(pdf)), PdfReader(io.BytesIO(pdf))
        assert ours.xref_objStm, name  # a cross-reference stream was read
        assert (ours.xref, ours.xref_objStm) == (theirs.xref, theirs.xref_objStm), name
        assert ours.xref_free_entry == theirs.xref_free_entry
        updates += b"/Prev" in pdf
    assert updates  # the collection's structure tree is an update of its file


def _minimal_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
