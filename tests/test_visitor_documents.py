"""A visitor's selection reads the render cache but keeps what it lays out in the worker's
memory, a bounded number (serve/visitor_documents.py): no URL writes to the disk."""

from __future__ import annotations

from pathlib import Path

from recueil.render.cache import RenderCache
from recueil.render.weasy import RenderResult
from recueil.serve.visitor_documents import VisitorDocuments


def _result(text: str) -> RenderResult:
    return RenderResult(pdf=f"%PDF-1.7 {text}".encode(), page_count=1, anchors={})


def test_documents_are_kept_in_memory_the_last_ones_only(tmp_path: Path) -> None:
    disk = RenderCache(tmp_path / "renders")
    disk.put("k" * 64, _result("du disque"))
    documents = VisitorDocuments(disk, kept=2)
    found = documents.get("k" * 64)  # what a build or a preview wrote is read
    assert found is not None and found[0].pdf.endswith(b"du disque")
    for n in range(3):
        documents.put(f"{n}" * 64, _result(f"visiteur {n}"))
    assert documents.get("0" * 64) is None  # the oldest went
    kept = documents.get("2" * 64)
    assert kept is not None and kept[0].pdf.endswith(b"visiteur 2")
    # nothing was written: the folder holds the one entry it had
    assert [p.name for p in (tmp_path / "renders").glob("*/*")] == ["k" * 64]


def test_a_document_asked_again_stays(tmp_path: Path) -> None:
    documents = VisitorDocuments(RenderCache(tmp_path / "renders"), kept=2)
    documents.put("a" * 64, _result("a"))
    documents.put("b" * 64, _result("b"))
    assert documents.get("a" * 64) is not None  # used: now the most recent
    documents.put("c" * 64, _result("c"))
    assert documents.get("a" * 64) is not None and documents.get("b" * 64) is None
