"""What keeps a large build's memory down (issue 18): renders left on disk, no document kept
alive by an image, generated pages laid out by fresh workers; each without changing a byte."""

from __future__ import annotations

import gc
import hashlib
import itertools
import os
import pickle
import sys
from pathlib import Path

import pytest

from conftest import (  # type: ignore[import-not-found]
    CLASSE_PASSERELLE,
    GUIDE_EXCLUSIONS,
    copy_project,
    run_cli,
)
from recueil.render import workers
from recueil.render.cache import CacheError, RenderCache, StoredRender, pdf_digest
from recueil.render.sheet_renderer import SheetRenderer
from recueil.render.weasy import RenderResult
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project

#: set by the test below in this process; a forked worker sees the change, a fresh one not
STARTED_IN = "a fresh interpreter"


def test_a_cached_render_keeps_its_pdf_on_disk_and_checks_it_at_each_read(
    tmp_path: Path,
) -> None:
    pdf = b"%PDF-1.7\n" + os.urandom(2000)
    cache = RenderCache(tmp_path / "renders")
    stored = cache.put("ab" * 32, RenderResult(pdf, 2, {"x": 1}), b"standalone")
    assert isinstance(stored, StoredRender)
    assert "pdf" not in vars(stored)  # no bytes held
    assert stored.pdf == pdf
    assert (stored.page_count, stored.anchors) == (2, {"x": 1})
    assert pdf_digest(stored) == hashlib.sha256(pdf).hexdigest()
    found = cache.get("ab" * 32)
    assert found is not None and isinstance(found[0], StoredRender) and found[0].pdf == pdf
    # what a worker sends back to the build: the place and the hash, not the bytes
    sent = pickle.dumps(stored)
    assert len(sent) < 1000 and pickle.loads(sent).pdf == pdf
    stored.path.write_bytes(pdf[:-1] + b"!")
    with pytest.raises(CacheError, match="changed during the build") as altered:
        _ = stored.pdf
    assert str(stored.path) in str(altered.value)
    stored.path.unlink()
    with pytest.raises(CacheError, match="is gone"):
        _ = stored.pdf


def test_a_shared_image_keeps_no_document_alive_and_is_still_recorded(tmp_path: Path) -> None:
    """WeasyPrint's SVG image kept the layout context of the first document drawing it, and
    that document's boxes with it, for the life of the worker; the picto must still be a
    dependency of every sheet showing it."""
    from weasyprint.layout import LayoutContext

    root = copy_project(
        tmp_path / "p",
        [CLASSE_PASSERELLE, "experiences/idf-2021-002-ateliers-langage-pmi.md"],
    )
    project, _ = load_project(root)
    corpus = load_corpus(project)
    renderer = SheetRenderer(project, corpus, None)
    picto = str((root / "styles/pictos/petite-enfance.svg").resolve())
    for sheet in corpus.sheets:
        result, _ = renderer.render(sheet)
        assert result is not None and picto in result.dependencies, sheet.slug
        assert not [url for url in renderer.image_cache if url.endswith(".svg")]
    del result
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, LayoutContext)]
    assert not alive, f"{len(alive)} layout context(s) still alive"


def _which_interpreter(slug: str) -> workers.Outcome:
    main = getattr(sys.modules["__main__"], "__file__", None)
    return (os.getpid(), STARTED_IN, main), [], slug.encode()


def test_fresh_workers_start_from_a_new_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(__import__(__name__), "STARTED_IN", "this test's process")
    outcomes: dict[str, workers.Outcome] = {}
    for fresh in (True, False):
        pool = workers.RenderPool(_which_interpreter, 2, 60.0, 0, fresh=fresh)
        pool.run(["a", "b", "c"], lambda slug: slug, outcomes.__setitem__)
        assert sorted(outcomes) == ["a", "b", "c"]
        for slug, (found, diagnostics, data) in outcomes.items():
            assert not diagnostics and data == slug.encode()
            pid, started_in, main = found
            assert pid != os.getpid()
            assert started_in == ("a fresh interpreter" if fresh else "this test's process")
            # a fresh worker does not run this program's main module (pytest's, here)
            assert main == (None if fresh else getattr(sys.modules["__main__"], "__file__", None))
        outcomes.clear()


def test_a_worker_left_large_by_a_task_is_replaced() -> None:
    pids: dict[str, int] = {}

    def record(slug: str, outcome: workers.Outcome) -> None:
        pids[slug] = outcome[0][0]

    slugs = ["a", "b", "c", "d", "e"]
    workers.RenderPool(_which_interpreter, 1, 60.0, 0).run(slugs, str, record)
    assert len(set(pids.values())) == 1  # one worker did everything
    pids.clear()
    # every process is larger than 1 MB: replaced after each task
    workers.RenderPool(_which_interpreter, 1, 60.0, 0, recycle_above_mb=1).run(slugs, str, record)
    assert len(set(pids.values())) == len(slugs)


def test_heavy_tasks_run_one_at_a_time_beside_the_light_ones() -> None:
    import time

    def task(name: str) -> workers.Outcome:
        started = time.monotonic()
        time.sleep(0.4 if name.startswith("H") else 0.05)
        return (started, time.monotonic()), [], None

    spans: dict[str, tuple[float, float]] = {}
    names = ["H1", "H2", "H3", *(f"s{n}" for n in range(8))]
    pool = workers.RenderPool(task, 2, 60.0, 0, heavy=lambda name: name.startswith("H"))
    pool.run(names, str, lambda name, outcome: spans.__setitem__(name, outcome[0]))
    assert sorted(spans) == sorted(names)
    heavy = sorted(spans[name] for name in names if name.startswith("H"))
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(heavy))
    # the light ones went on meanwhile, on the other worker
    light = [spans[name] for name in names if not name.startswith("H")]
    assert any(h0 < l0 < h1 for h0, h1 in heavy for l0, _ in light)


def test_generated_pages_laid_out_by_fresh_workers_are_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large collections have their contents, dividers, indexes and page numbers laid out by
    fresh workers (FRESH_WORKERS_FROM); the file must not depend on which."""
    from recueil.collection import document_pool

    root = copy_project(tmp_path / "p", [CLASSE_PASSERELLE, GUIDE_EXCLUSIONS])
    made = {}
    for fresh_from in (10_000, 0):
        monkeypatch.setattr(document_pool, "FRESH_WORKERS_FROM", fresh_from)
        output = tmp_path / f"from-{fresh_from}.pdf"
        result = run_cli(
            "collection", "--project", root, "--slug", "HDF-2022-001", "--slug", "RES-2021-001",
            "--title", "Essai", "--no-cache", "-o", output,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        made[fresh_from] = output.read_bytes()
    assert made[0] == made[10_000]
