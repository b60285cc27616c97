"""The frame's first guess: the page counts of a collection's generated parts at its last
assembly (collection/part_counts.py). With it, an assembly after an edit lays the frame out
once instead of twice, and the collection is the same as without it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

import recueil.collection.assemble as assemble
from conftest import national_collection  # type: ignore[import-not-found]
from recueil.collection.collection_build import build_collection
from recueil.collection.part_counts import _record, remember, remembered
from recueil.sources.project import CACHE_DIR

#: three experience sheets a visitor might gather
VISITED = (
    "experiences/hdf-2022-003-cafe-des-parents.md",
    "experiences/ara-2022-004-mediatrices-familles-ecole.md",
    "experiences/bre-2023-102-chorale-inter-ecoles.md",
)


def test_a_record_is_read_back_only_when_it_fits(tmp_path: Path) -> None:
    parts = {"part-cover", "part-toc", "part-index-keywords"}
    counts = {"part-cover": 1, "part-toc": 5, "part-index-keywords": 2}
    assert remembered(tmp_path, "collections/a.yaml", False, parts) == {}  # none yet
    remember(tmp_path, "collections/a.yaml", False, counts)
    assert remembered(tmp_path, "collections/a.yaml", False, parts) == counts
    # another collection, the other variant, other parts: no guess
    assert remembered(tmp_path, "collections/b.yaml", False, parts) == {}
    assert remembered(tmp_path, "collections/a.yaml", True, parts) == {}
    assert remembered(tmp_path, "collections/a.yaml", False, parts - {"part-toc"}) == {}
    # a part the record lacks was not made last time (no editorial): guessed absent
    assert remembered(tmp_path, "collections/a.yaml", False, parts | {"part-editorial"}) == counts
    # a damaged or strange record is no guess
    path = _record(tmp_path, "collections/a.yaml", False)
    for text in ("{", "[1, 2]", json.dumps({**counts, "part-cover": 0}), json.dumps(
        {**counts, "part-cover": "1"})):  # fmt: skip
        path.write_text(text, encoding="utf-8")
        assert remembered(tmp_path, "collections/a.yaml", False, parts) == {}


def test_a_build_folder_that_cannot_be_written_keeps_no_record(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the folder would be", encoding="utf-8")
    remember(blocked, "collections/a.yaml", False, {"part-cover": 1})  # no error
    assert remembered(blocked, "collections/a.yaml", False, {"part-cover"}) == {}


@pytest.fixture(scope="module")
def national() -> tuple[object, object, object, object]:
    return national_collection(cached=True)  # as the server's workers: the record needs a cache


def test_the_next_assembly_lays_the_frame_out_once_and_gives_the_same_pages(
    national, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, corpus, collection, renderer = national
    record = _record(project.build_dir / CACHE_DIR, collection.source, False)
    record.unlink(missing_ok=True)
    passes: list[int] = []
    laid_out = assemble.Assembler.frame_documents

    def counted(self: assemble.Assembler, plan: object, editorial: str) -> dict[str, str]:
        passes.append(1)
        return laid_out(self, plan, editorial)  # type: ignore[arg-type]

    monkeypatch.setattr(assemble.Assembler, "frame_documents", counted)
    first, diagnostics = build_collection(project, corpus, collection, renderer, preview=True)
    assert first is not None, diagnostics
    # one page a part was the guess: the contents and indexes are longer, a second pass
    assert len(passes) == 2
    kept = json.loads(record.read_text(encoding="utf-8"))
    frame_pages = sum(slot.count for slot in first.plan.slots if slot.source == "frame")
    assert kept["part-toc"] > 1 and sum(kept.values()) == frame_pages

    passes.clear()
    again, diagnostics = build_collection(project, corpus, collection, renderer, preview=True)
    assert again is not None, diagnostics
    assert len(passes) == 1  # the last assembly's lengths were right the first time
    a, b = PdfReader(io.BytesIO(first.pdf)), PdfReader(io.BytesIO(again.pdf))
    assert [p.extract_text() for p in a.pages] == [p.extract_text() for p in b.pages]
    assert again.page_prints == first.page_prints


def test_a_visitors_next_selection_lays_out_only_what_is_new(
    project_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A selection has no editorial and no divider: the parts it did not make are guessed
    absent, so the guess from the last selection fits the next one (it never did before); its
    reading guide is the last one's (collection/frame.py: only the first document is titled),
    kept in the worker's memory."""
    from recueil.serve import tasks
    from recueil.serve.catalogue import Catalogue

    root = project_copy(*VISITED)
    stamp = Catalogue(root).snapshot.stamp
    slugs = ("HDF-2022-003", "ARA-2022-004", "BRE-2023-102")
    passes: list[int] = []
    laid: list[str] = []
    frame_documents, pool = assemble.Assembler.frame_documents, assemble.document_pool

    def counted(self: assemble.Assembler, plan: object, editorial: str) -> dict[str, str]:
        passes.append(1)
        return frame_documents(self, plan, editorial)  # type: ignore[arg-type]

    def recorded(documents: dict[str, tuple[str, object]], *rest: object) -> object:
        laid.extend(html for html, _ in documents.values())
        return pool(documents, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(assemble.Assembler, "frame_documents", counted)
    monkeypatch.setattr(assemble, "document_pool", recorded)
    first = tasks.assemble_selection(str(root), stamp, slugs, "Ma sélection")
    assert first.data is not None, first.problems
    assert len(passes) == 2  # one page a part, a divider and an editorial: wrong
    assert any('id="part-howto"' in html for html in laid)
    record = _record(root / "build" / CACHE_DIR, "(command line)", False)
    kept = json.loads(record.read_text(encoding="utf-8"))
    assert "part-editorial" not in kept and not any(p.startswith("part-divider") for p in kept)

    passes.clear()
    laid.clear()
    again = tasks.assemble_selection(str(root), stamp, slugs[1:], "Une autre")
    assert again.data is not None, again.problems
    assert len(passes) == 1
    # the reading guide, untitled, is the same document as in the first: not laid out again
    assert 'id="part-toc"' in "".join(laid)
    assert not any('id="part-howto"' in html for html in laid)
    assert "Une autre" in PdfReader(io.BytesIO(again.data)).pages[0].extract_text()
    # the render cache holds sheets only: a visitor's documents stay in the worker
    # (serve/visitor_documents.py), no selection URL can fill the disk
    entries = list((root / "build" / CACHE_DIR / "renders").glob("*/*"))
    assert 0 < len(entries) <= len(slugs)
    for entry in entries:
        anchors = json.loads((entry / "facts.json").read_text(encoding="utf-8"))["anchors"]
        assert not any(anchor.startswith("part-") for anchor in anchors)


def test_an_edition_ignores_the_record(national, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edition's PDF comes from its sources alone: it neither reads nor writes a record."""
    project, _, collection, renderer = national
    assembler = assemble.Assembler(project, collection, [], {}, {}, renderer.cache)
    assert assembler.counts_record is not None
    edition = object()
    for_edition = assemble.Assembler(
        project,
        collection,
        [],
        {},
        {},
        renderer.cache,
        edition=edition,  # type: ignore[arg-type]
    )
    assert for_edition.counts_record is None
    uncached = assemble.Assembler(project, collection, [], {}, {}, None)
    assert uncached.counts_record is None


def test_a_record_is_written_again_only_when_the_counts_change(tmp_path: Path) -> None:
    counts = {"part-cover": 1, "part-toc": 3}
    remember(tmp_path, "collections/a.yaml", False, counts)
    path = _record(tmp_path, "collections/a.yaml", False)
    first = path.stat().st_ino
    remember(tmp_path, "collections/a.yaml", False, dict(reversed(counts.items())))
    assert path.stat().st_ino == first  # the same counts: the file was left alone
    remember(tmp_path, "collections/a.yaml", False, {**counts, "part-toc": 4})
    assert remembered(tmp_path, "collections/a.yaml", False, set(counts))["part-toc"] == 4
