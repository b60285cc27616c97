"""How a collection is assembled: the frame split into documents, and a merge that lets go.

Timing is measured by the benchmark, not here; these tests check the mechanisms the speed and
memory figures rest on, on the sample project.
"""

from __future__ import annotations

import gc
import io
import weakref
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

import recueil.collection.assemble as assemble
import recueil.collection.document_pool as document_pool
import recueil.collection.merge as merge
from conftest import national_collection  # type: ignore[import-not-found]
from recueil.collection.collection_build import build_collection
from recueil.collection.declared import discover_collections
from recueil.collection.frame import split_parts
from recueil.render.workers import RenderPool

REPO = Path(__file__).resolve().parents[1]

PAGE = """<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>Recueil</title><link rel="stylesheet" href="s.css"></head>
<body class="frame">
{body}
</body>
</html>
"""


def _part(name: str, size: int) -> str:
    return f'<section class="part" id="part-{name}">\n<p>{"x" * size}</p>\n</section>\n'


def test_split_parts_keeps_whole_parts_in_order_with_the_head() -> None:
    parts = [_part(f"p{n}", size) for n, size in enumerate([10, 10, 3000, 10, 1500, 1500, 10])]
    html = PAGE.format(body="".join(parts))
    pieces = split_parts(html, 4)
    assert 2 <= len(pieces) <= 5
    head = html[: html.index('<body class="frame">') + 20]
    for number, piece in enumerate(pieces):
        # only the first is titled: the others are the same in any collection of that title
        assert piece.startswith(head if number == 0 else head.replace("<title>Recueil</title>", ""))
        assert piece.endswith("</body>\n</html>\n")
    # every part exactly once, in order, never cut
    found = [p for piece in pieces for p in parts if p in piece]
    assert found == parts
    assert "".join(pieces).count("<section") == len(parts)
    # the large part is alone
    assert any(piece.count("<section") == 1 and "x" * 3000 in piece for piece in pieces)


@pytest.mark.parametrize(
    "body",
    [
        "<p>not a part</p>" + _part("a", 10) + _part("b", 10),  # content outside the parts
        _part("only", 10),  # a single part
        "<div>no parts at all</div>",
    ],
)
def test_split_parts_leaves_other_documents_whole(body: str) -> None:
    html = PAGE.format(body=body)
    assert split_parts(html, 4) == [html]


@pytest.fixture(scope="module")
def national() -> tuple[object, object, object, object]:
    """The sample's national collection (27 sheets), its sheets rendered once for the module."""
    return national_collection()


def test_frame_is_laid_out_in_several_documents_and_gives_the_same_pages(national) -> None:
    """Split or whole, the frame gives the same collection: same pages, text and labels."""
    project, corpus, collection, renderer = national
    split, diagnostics = build_collection(project, corpus, collection, renderer)
    assert split is not None, diagnostics
    original = assemble.FRAME_DOCUMENTS
    assemble.FRAME_DOCUMENTS = 1
    try:
        whole, diagnostics = build_collection(project, corpus, collection, renderer)
    finally:
        assemble.FRAME_DOCUMENTS = original
    assert whole is not None, diagnostics
    a, b = PdfReader(io.BytesIO(split.pdf)), PdfReader(io.BytesIO(whole.pdf))
    assert len(a.pages) == len(b.pages) == split.plan.total
    assert [p.extract_text() for p in a.pages] == [p.extract_text() for p in b.pages]
    assert a.page_labels == b.page_labels
    assert sorted(a.named_destinations) == sorted(b.named_destinations)


def test_a_preview_assembly_prints_the_same_pages_without_tree_or_shared_fonts(national) -> None:
    """An author's preview (recueil serve) skips what the screen does not show: the structure
    tree and the merging of font subsets; the pages, their text and sizes are the same."""
    project, corpus, collection, renderer = national
    full, diagnostics = build_collection(project, corpus, collection, renderer)
    assert full is not None, diagnostics
    preview, diagnostics = build_collection(project, corpus, collection, renderer, preview=True)
    assert preview is not None, diagnostics
    a, b = PdfReader(io.BytesIO(full.pdf)), PdfReader(io.BytesIO(preview.pdf))
    assert len(a.pages) == len(b.pages) == full.plan.total
    assert [p.extract_text() for p in a.pages] == [p.extract_text() for p in b.pages]
    assert [tuple(p.mediabox) for p in a.pages] == [tuple(p.mediabox) for p in b.pages]
    assert "/StructTreeRoot" in a.trailer["/Root"] and "/StructTreeRoot" not in b.trailer["/Root"]

    # each sheet keeps its own subsets: more font programs than in the shared file
    assert _font_files(b) > _font_files(a)
    # every page has a fingerprint from its source, and no two printed pages share one
    assert len(preview.page_prints) == len(b.pages) and not full.page_prints
    texts = [p.extract_text() for p in b.pages]
    printed = [f for f, text in zip(preview.page_prints, texts, strict=True) if text.strip()]
    assert len(set(printed)) == len(printed)


def test_a_preview_update_writes_only_the_pages_it_does_not_know(national) -> None:
    """Told which page fingerprints the preview shows, the assembly writes only the others,
    stamped as the whole collection stamps them: here the pages of one sheet."""
    project, corpus, collection, renderer = national
    whole, diagnostics = build_collection(project, corpus, collection, renderer, preview=True)
    assert whole is not None and whole.included is None, diagnostics
    slot = next(s for s in whole.plan.slots if s.source == "sheet")
    first, count = whole.sheet_first_page[slot.ref], slot.count
    shown = set(whole.page_prints) - set(whole.page_prints[first : first + count])
    update, diagnostics = build_collection(
        project, corpus, collection, renderer, preview=True, known_pages=frozenset(shown)
    )
    assert update is not None, diagnostics
    assert update.page_prints == whole.page_prints
    assert update.included == tuple(range(first, first + count))
    new, old = PdfReader(io.BytesIO(update.pdf)), PdfReader(io.BytesIO(whole.pdf))
    assert [p.extract_text() for p in new.pages] == [
        old.pages[i].extract_text() for i in update.included
    ]  # the sheet's text and the page numbers stamped on it
    assert count > 1 and str(whole.plan.sheet_pages[slot.ref]) in new.pages[0].extract_text()


def _font_files(reader: PdfReader) -> int:
    """Font programs reachable from the pages' fonts (each counted once)."""
    seen: set[int] = set()
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        fonts = resources["/Font"].get_object() if "/Font" in resources else {}
        for reference in fonts.values():
            font = reference.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in descriptor:
                        seen.add(descriptor.raw_get(key).idnum)
    return len(seen)


def test_merge_releases_each_sheet_once_copied(national, monkeypatch) -> None:
    """When the file is written, no sheet's reader is alive any more (they were all read)."""
    project, corpus, collection, renderer = national
    readers: list[weakref.ref[PdfReader]] = []

    class Tracked(PdfReader):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            readers.append(weakref.ref(self))

    alive_at_write: list[int] = []
    write = PdfWriter.write

    def counting_write(self, stream):  # type: ignore[no-untyped-def]
        gc.collect()
        alive_at_write.append(sum(1 for ref in readers if ref() is not None))
        return write(self, stream)

    monkeypatch.setattr(merge, "PdfReader", Tracked)
    monkeypatch.setattr(PdfWriter, "write", counting_write)
    result, diagnostics = build_collection(project, corpus, collection, renderer)
    assert result is not None, diagnostics
    sheets = len(result.sheet_first_page)
    assert sheets > 20
    assert len(readers) >= sheets  # every sheet was read through the tracked reader
    # alive: at most the frame's documents and the overlay's last part, nothing per sheet
    assert len(alive_at_write) == 1
    assert alive_at_write[0] <= assemble.FRAME_DOCUMENTS + 1, (alive_at_write, sheets)


def test_the_file_does_not_depend_on_how_many_sheets_were_copied_during_layout(
    national, monkeypatch
) -> None:
    """Sheets are copied while workers lay the frame out: none early or all early, same bytes."""
    project, corpus, collection, renderer = national
    run = RenderPool.run
    copied_early: list[int] = []

    def without_idle(self, slugs, rel_of, on_done, idle=None):  # type: ignore[no-untyped-def]
        return run(self, slugs, rel_of, on_done)

    def idle_first(self, slugs, rel_of, on_done, idle=None):  # type: ignore[no-untyped-def]
        steps = 0
        while idle is not None and idle():
            steps += 1
        copied_early.append(steps)
        return run(self, slugs, rel_of, on_done)

    monkeypatch.setattr(RenderPool, "run", without_idle)
    late, diagnostics = build_collection(project, corpus, collection, renderer)
    assert late is not None, diagnostics
    monkeypatch.setattr(RenderPool, "run", idle_first)
    early, diagnostics = build_collection(project, corpus, collection, renderer)
    assert early is not None, diagnostics
    assert copied_early[0] == len(early.sheet_first_page)  # every sheet before the first pass
    assert late.pdf == early.pdf


def test_a_generated_document_that_fails_is_an_error_of_its_collection_only(
    national, monkeypatch
) -> None:
    """A worker crashing on the frame fails that collection with a located error, no traceback."""
    project, corpus, collection, renderer = national
    real = document_pool.render_pdf

    def crash_on_national(html: str, **kwargs):  # type: ignore[no-untyped-def]
        if "rencontre" in kwargs.get("rel", ""):
            raise ValueError("simulated layout crash")
        return real(html, **kwargs)

    monkeypatch.setattr(document_pool, "render_pdf", crash_on_national)
    result, diagnostics = build_collection(project, corpus, collection, renderer)
    assert result is None
    errors = [d for d in diagnostics if d.level.name == "ERROR"]
    assert errors and errors[-1].path == collection.source
    assert "laying out the generated pages failed" in errors[-1].message
    assert "simulated layout crash" in errors[-1].message
    # another collection of the same build is still assembled
    collections, _ = discover_collections(project)
    other = next(c for c in collections if c.name == "pack-seminaire-cpo")
    done, found = build_collection(project, corpus, other, renderer)
    assert done is not None, found
