"""Bookmarks and named destinations read directly (collection/render_marks.py) are those pypdf
reads, on the sample's renders and generated parts and on shapes WeasyPrint does not write."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter
from pypdf.generic import Fit

from conftest import national_collection  # type: ignore[import-not-found]
from recueil.collection import render_marks
from recueil.collection.collection_build import assemble_collection, prepare_collection
from recueil.render.increment import LazyReader


@pytest.fixture(scope="module")
def documents() -> list[bytes]:
    """Every render in the cache once the national collection is assembled: its sheets, its
    generated parts and overlay."""
    project, corpus, collection, renderer = national_collection(cached=True)
    prepared, diagnostics = prepare_collection(project, corpus, collection, renderer)
    assert prepared is not None, diagnostics
    result, diagnostics = assemble_collection(project, prepared, renderer.cache)
    assert result is not None, diagnostics
    return [path.read_bytes() for path in sorted(renderer.cache.folder.rglob("render.pdf"))]


def _both(pdf: bytes) -> tuple[object, object]:
    ours, theirs = LazyReader(io.BytesIO(pdf)), LazyReader(io.BytesIO(pdf))
    return (
        (render_marks.bookmarks(ours), render_marks.destinations(ours)),
        (render_marks._pypdf_bookmarks(theirs), render_marks._pypdf_destinations(theirs)),
    )


def test_the_renders_marks_read_directly_are_pypdfs(documents: list[bytes]) -> None:
    bookmarks = destinations = 0
    for pdf in documents:
        ours, theirs = _both(pdf)
        assert ours == theirs
        reader = LazyReader(io.BytesIO(pdf))
        render_marks._bookmarks(reader)  # WeasyPrint's shape: read directly, not by pypdf
        render_marks._destinations(reader)
        bookmarks += len(ours[0])  # type: ignore[index]
        destinations += len(ours[1])  # type: ignore[index]
    assert len(documents) > 30 and bookmarks > 200 and destinations > 200


def test_other_shapes_are_read_by_pypdf() -> None:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(200, 300)
    parent = writer.add_outline_item(title="Premier", page_number=0, fit=Fit.fit())
    writer.add_outline_item(title="Dessous", page_number=1, parent=parent, fit=Fit.xyz(10, 20, 0))
    writer.add_outline_item(title="Second", page_number=2, fit=Fit.xyz(None, 250, None))
    writer.add_named_destination(title="ici", page_number=1)
    writer.add_named_destination(title="là", page_number=2)
    output = io.BytesIO()
    writer.write(output)
    ours, theirs = _both(output.getvalue())
    assert ours == theirs
    with pytest.raises(render_marks._Unusual):  # a /Fit bookmark: pypdf's reading was used
        render_marks._bookmarks(LazyReader(io.BytesIO(output.getvalue())))
    assert ours[0] == [("Premier", 0), ("Dessous", 1), ("Second", 2)]  # type: ignore[index]
    assert {name for name, _, _ in ours[1]} == {"ici", "là"}  # type: ignore[index]
