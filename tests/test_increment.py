"""Incremental updates: the original bytes stay, the changed and new objects follow them."""

from __future__ import annotations

import io
import random

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.filters import FlateDecode
from pypdf.generic import DecodedStreamObject, NameObject, TextStringObject

from recueil.render.increment import IncrementalUpdate, LazyReader, _png_up, xref_rows_stream
from recueil.render.weasy import render_pdf

PAGES = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Essai</title>
<style>@page { size: A6 } h1 { break-before: page }</style></head><body>
<h1 id="un">Premier titre</h1><p>Un paragraphe avec <a href="#deux">un lien</a>.</p>
<h1 id="deux">Second titre</h1><p>Encore du texte, en français.</p>
</body></html>"""


@pytest.fixture(scope="module")
def weasyprint_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A WeasyPrint document: objects in object streams, a cross-reference stream."""
    root = tmp_path_factory.mktemp("doc")
    return render_pdf(PAGES, project_dir=root, style_dirs=(), rel="essai.html").pdf


def _pypdf_pdf() -> bytes:
    """A pypdf document: plain objects and a cross-reference table."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_blank_page(200, 200)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _syntax(value: object) -> bytes:
    """An object as PDF syntax (stream data included)."""
    buffer = io.BytesIO()
    value.write_to_stream(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


def test_the_lazy_reader_reads_every_object_as_pypdf_does(weasyprint_pdf: bytes) -> None:
    full, lazy = PdfReader(io.BytesIO(weasyprint_pdf)), LazyReader(io.BytesIO(weasyprint_pdf))
    assert lazy.xref_objStm  # the case it exists for
    size = int(full.trailer["/Size"])
    for number in range(1, size):
        expected, found = full.get_object(number), lazy.get_object(number)
        assert _syntax(found) == _syntax(expected), number
    assert [p.extract_text() for p in lazy.pages] == [p.extract_text() for p in full.pages]


@pytest.mark.parametrize("kind", ["stream", "table"])
def test_an_update_keeps_the_original_and_replaces_what_changed(
    kind: str, weasyprint_pdf: bytes
) -> None:
    original = weasyprint_pdf if kind == "stream" else _pypdf_pdf()
    reader = LazyReader(io.BytesIO(original))
    update = IncrementalUpdate(original, reader)
    page = reader.pages[1]
    assert page.indirect_reference is not None
    edited = update.edit(page.indirect_reference)
    note = DecodedStreamObject()
    note.set_data(b"% added")
    edited[NameObject("/RecueilNote")] = update.add(note)
    edited[NameObject("/RecueilLabel")] = TextStringObject("seconde")
    data = update.write()

    assert data.startswith(original)  # nothing already written is touched
    appended = data[len(original) :]
    assert (b"\nxref\n" in appended) == (kind == "table")
    assert (b"/Type /XRef" in appended) == (kind == "stream")
    assert (b"/Predictor 12" in appended) == (kind == "stream")  # xref_rows_stream
    assert data.endswith(b"%%EOF\n")
    again = PdfReader(io.BytesIO(data), strict=True)
    assert len(again.pages) == len(reader.pages)
    assert again.pages[1]["/RecueilLabel"] == "seconde"
    assert again.pages[1]["/RecueilNote"].get_object().get_data() == b"% added"
    assert "/RecueilLabel" not in again.pages[0]
    assert [p.extract_text() for p in again.pages] == [p.extract_text() for p in reader.pages]
    # the previous section is chained, the identifier and catalogue kept
    for key in ("/Root", "/Info", "/ID"):
        if key in reader.trailer:
            assert _syntax(again.trailer.raw_get(key)) == _syntax(reader.trailer.raw_get(key))


def test_cross_reference_rows_are_written_as_differences_from_the_row_above() -> None:
    """PNG's Up predictor, done on the whole table at once, against a plain byte loop."""
    generator = random.Random(7)
    edges = [0, 1, 2, 127, 128, 129, 254, 255]
    for count in (1, 2, 3, 40, 500):
        rows = [
            bytes(generator.choice([*edges, generator.randrange(256)]) for _ in range(7))
            for _ in range(count)
        ]
        expected, above = bytearray(), bytes(7)
        for row in rows:
            expected += b"\x02" + bytes((a - b) % 256 for a, b in zip(row, above, strict=True))
            above = row
        assert _png_up(rows, 7) == bytes(expected)
    stream = xref_rows_stream(rows)
    decoded = FlateDecode.decode(stream._data, stream["/DecodeParms"])
    assert decoded == b"".join(rows)  # pypdf undoes the predictor


def test_objects_of_another_document_are_copied_once_each(weasyprint_pdf: bytes) -> None:
    reader = LazyReader(io.BytesIO(weasyprint_pdf))
    other = PdfReader(io.BytesIO(weasyprint_pdf))
    update = IncrementalUpdate(weasyprint_pdf, reader)
    resources = other.pages[0].raw_get("/Resources")
    first = update.copy(resources, other)
    second = update.copy(other.pages[1].raw_get("/Resources"), other)
    before = update.next
    assert update.copy(resources, other) == first  # the same object again: the same copy
    assert update.next == before
    page = update.edit(reader.pages[0].indirect_reference)  # type: ignore[arg-type]
    page[NameObject("/Resources")] = first
    page = update.edit(reader.pages[1].indirect_reference)  # type: ignore[arg-type]
    page[NameObject("/Resources")] = second
    again = PdfReader(io.BytesIO(update.write()), strict=True)
    assert [p.extract_text() for p in again.pages] == [p.extract_text() for p in reader.pages]
