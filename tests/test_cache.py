"""The render cache and the workers: exactly the affected sheets re-render, nothing is lost."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import (  # type: ignore[import-not-found]
    CLASSE_PASSERELLE,
    GUIDE_EXCLUSIONS,
    REPO,
    copy_project,
    run_cli,
)
from recueil.render.cache import RenderCache
from recueil.render.sheet_build import Limits, build_sheets
from recueil.render.sheet_renderer import SheetRenderer
from recueil.sources.corpus import load_corpus
from recueil.sources.project import CACHE_DIR, load_project

SOURCES = (
    "experiences/hdf-2022-001-classe-passerelle.md",  # HDF-2022-001, petite-enfance, photo
    "experiences/occ-2023-005-francais-parents.md",  # OCC-2023-005, parentalite
    "experiences/ges-2023-104-trente-minutes-sport.md",  # GES-2023-104, sport
    "resources/res-2021-001-guide-exclusions-temporaires.md",  # RES-2021-001, perseverance
)


def build(root: Path, jobs: int = 2, use_cache: bool = True) -> dict[str, bool]:
    """Build every sheet; slug → True when it was rendered (not reused)."""
    project, problems = load_project(root)
    assert not problems
    corpus = load_corpus(project)
    assert not corpus.diagnostics, corpus.diagnostics
    cache = RenderCache(project.build_dir / CACHE_DIR / "renders") if use_cache else None
    renderer = SheetRenderer(project, corpus, cache)
    outcomes = build_sheets(
        renderer,
        corpus.sheets,
        lambda s: project.build_dir / "sheets" / f"{s.slug}.pdf",
        limits=Limits(jobs=jobs, timeout=120, memory_mb=3072),
    )
    assert all(o.ok for o in outcomes), [d.format() for o in outcomes for d in o.diagnostics]
    return {o.slug: not o.cached for o in outcomes}


def rendered(result: dict[str, bool]) -> set[str]:
    return {slug for slug, was_rendered in result.items() if was_rendered}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = copy_project(tmp_path / "project", SOURCES)
    assert rendered(build(project)) == {
        "HDF-2022-001",
        "OCC-2023-005",
        "GES-2023-104",
        "RES-2021-001",
    }
    return project


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_nothing_changed_renders_nothing(root: Path) -> None:
    before = (root / "build/sheets/OCC-2023-005.pdf").stat().st_mtime_ns
    assert rendered(build(root)) == set()
    assert (root / "build/sheets/OCC-2023-005.pdf").stat().st_mtime_ns == before


def test_editing_a_sheet_renders_only_that_sheet(root: Path) -> None:
    edit(root / "content" / SOURCES[1], "## Objectifs", "Une phrase ajoutée.\n\n## Objectifs")
    assert rendered(build(root)) == {"OCC-2023-005"}


def test_editing_an_image_renders_the_sheets_using_it(root: Path) -> None:
    image = root / "content/images/hdf-2022-001-passerelle.svg"
    image.write_text(image.read_text().replace("</svg>", "<circle r='1'/></svg>"))
    assert rendered(build(root)) == {"HDF-2022-001"}


def test_editing_a_kind_template_renders_the_sheets_of_that_kind(root: Path) -> None:
    edit(root / "templates/resource.html", "<dt>Type</dt>", "<dt>Type de document</dt>")
    assert rendered(build(root)) == {"RES-2021-001"}


def test_editing_the_base_template_renders_every_sheet(root: Path) -> None:
    edit(root / "templates/base.html", "Voir aussi", "À lire aussi")
    assert len(rendered(build(root))) == 4


def test_editing_a_style_renders_the_sheets_reading_it(root: Path) -> None:
    picto = root / "styles/pictos/sport.svg"
    picto.write_text(picto.read_text().replace("</svg>", "<circle r='1'/></svg>"))
    assert rendered(build(root)) == {"GES-2023-104"}
    edit(root / "styles/sheet.css", "line-height: 1.45;", "line-height: 1.5;")
    assert len(rendered(build(root))) == 4


def test_editing_a_theme_renders_the_sheets_of_that_theme(root: Path) -> None:
    edit(root / "themes.yaml", '"#E9A23B"', '"#E9A23C"')  # sport
    assert rendered(build(root)) == {"GES-2023-104"}


def test_changing_a_setting_renders_every_sheet(root: Path) -> None:
    (root / "recueil.yaml").write_text("show_contacts: false\n", encoding="utf-8")
    assert len(rendered(build(root))) == 4


def test_corrupt_cache_entry_is_detected_and_rebuilt(root: Path) -> None:
    entries = sorted((root / "build" / CACHE_DIR / "renders").glob("*/*/render.pdf"))
    assert len(entries) == 4
    entries[0].write_bytes(entries[0].read_bytes()[:1000])  # truncated
    assert len(rendered(build(root))) == 1
    assert len(rendered(build(root))) == 0


def test_collection_from_cache_is_byte_identical_to_no_cache(root: Path, tmp_path: Path) -> None:
    (root / "collections").mkdir()
    (root / "collections/essai.yaml").write_text(
        "title: Essai\ndate: 2023-05-01\ncolophon:\n  publisher: Centre\n"
        "  publisher_address: 1 rue de l'Exemple, 75000 Paris\n",
        encoding="utf-8",
    )
    cached = tmp_path / "cached.pdf"
    fresh = tmp_path / "fresh.pdf"
    assert run_cli("collection", "essai", "--project", root, "-o", cached).exit_code == 0
    result = run_cli("collection", "essai", "--project", root, "--no-cache", "-o", fresh)
    assert result.exit_code == 0, result.output
    assert cached.read_bytes() == fresh.read_bytes()
    # the standalone sheets too
    again = build(root, use_cache=False)
    assert len(rendered(again)) == 4


def test_a_hanging_render_is_stopped_and_the_others_complete(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recueil.render.sheet_renderer

    real = recueil.render.sheet_renderer.render_pdf

    def slow(html: str, **kwargs: object) -> object:
        if kwargs.get("rel", "").endswith("occ-2023-005-francais-parents.md"):  # type: ignore[union-attr]
            time.sleep(600)
        return real(html, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(recueil.render.sheet_renderer, "render_pdf", slow)
    edit(root / "content" / SOURCES[1], "## Objectifs", "Encore.\n\n## Objectifs")
    edit(root / "content" / SOURCES[2], "## Objectifs", "Encore.\n\n## Objectifs")
    (root / "recueil.yaml").write_text("render_timeout: 3\n", encoding="utf-8")
    started = time.monotonic()
    result = run_cli("build", "--project", root, "--jobs", "2")
    assert time.monotonic() - started < 60
    assert result.exit_code == 1
    assert (
        "content/experiences/occ-2023-005-francais-parents.md: error: rendering took longer "
        "than 3 s and was stopped (setting render_timeout)"
    ) in result.output
    assert "Traceback" not in result.output
    assert (root / "build/sheets/GES-2023-104.pdf").is_file()


def test_a_crashing_worker_fails_one_sheet_only(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recueil.render.sheet_renderer

    real = recueil.render.sheet_renderer.render_pdf

    def crash(html: str, **kwargs: object) -> object:
        if kwargs.get("rel", "").endswith("trente-minutes-sport.md"):  # type: ignore[union-attr]
            os._exit(9)  # the worker process dies, as on a segfault or an OOM kill
        return real(html, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(recueil.render.sheet_renderer, "render_pdf", crash)
    (root / "recueil.yaml").write_text("hyphenate: false\n", encoding="utf-8")
    project, _ = load_project(root)
    corpus = load_corpus(project)
    renderer = SheetRenderer(project, corpus, RenderCache(root / "build" / CACHE_DIR / "renders"))
    outcomes = build_sheets(
        renderer,
        corpus.sheets,
        lambda s: project.build_dir / "sheets" / f"{s.slug}.pdf",
        limits=Limits(jobs=2, timeout=120, memory_mb=3072),
    )
    by_slug = {o.slug: o for o in outcomes}
    assert [d.format() for d in by_slug["GES-2023-104"].diagnostics] == [
        "content/experiences/ges-2023-104-trente-minutes-sport.md: error: rendering failed: "
        "the worker process died"
    ]
    assert not by_slug["GES-2023-104"].ok
    for slug in ("HDF-2022-001", "OCC-2023-005", "RES-2021-001"):
        assert by_slug[slug].ok and not by_slug[slug].cached


def test_an_interrupted_build_leaves_a_usable_cache(tmp_path: Path) -> None:
    root = copy_project(
        tmp_path / "big",
        [
            *SOURCES,
            "experiences/bre-2023-102-chorale-inter-ecoles.md",
            "experiences/ges-2021-006-accueil-eleves-exclus.md",
            "experiences/hdf-2021-011-espace-ecoute-college.md",
            "experiences/hdf-2022-013-fablab-mobile.md",
            "experiences/idf-2022-106-parcours-eloquence.md",
            "experiences/naq-2021-101-bibliotheque-de-rue.md",
        ],
    )
    # one worker, interrupted after its first sheet: the interruption lands mid-build
    command = [sys.executable, "-m", "recueil.cli", "build", "--project", str(root), "-j", "1"]
    # A job started in the background by a shell inherits an ignored SIGINT (then Python never
    # raises KeyboardInterrupt): give the build the default disposition, as a terminal would.
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    sheets = root / "build/sheets"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(sheets.glob("*.pdf")):
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    text = output.decode()
    assert process.returncode == 130, text
    assert "interrupted" in text and "Traceback" not in text
    assert not list(sheets.glob(".*.tmp"))
    # no worker left behind
    leftover = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
    result = run_cli("build", "--project", root)
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output


def test_sheet_on_demand_reads_only_the_sheet_asked_for(tmp_path: Path, monkeypatch) -> None:
    """`recueil sheet` validates its target; others are only scanned (once) for slug and title."""
    from recueil.sources import corpus as corpus_module

    scanned: list[str] = []
    real_scan = corpus_module._scan

    def counting_scan(project, path, *args):  # type: ignore[no-untyped-def]
        scanned.append(path.name)
        return real_scan(project, path, *args)

    monkeypatch.setattr(corpus_module, "_scan", counting_scan)
    root = copy_project(
        tmp_path / "p",
        [
            "experiences/hdf-2022-003-cafe-des-parents.md",  # see_also the three below
            "experiences/hdf-2022-001-classe-passerelle.md",
            "experiences/ara-2022-004-mediatrices-familles-ecole.md",
            "experiences/occ-2023-005-francais-parents.md",
        ],
    )
    edit(
        root / "content/experiences/ara-2022-004-mediatrices-familles-ecole.md",
        "\ndate: ",
        "\ndate: 2022-13-45\nupdated_by_mistake: ",
    )
    output = tmp_path / "cafe.pdf"
    result = run_cli("sheet", "HDF-2022-003", "--project", root, "-o", output)
    assert result.exit_code == 0, result.output
    assert "ara-2022-004" not in result.output  # its errors belong to `check` and `build`
    # each source scanned once (to find the slug), none a second time after the focus is known
    assert sorted(scanned) == sorted(p.name for p in (root / "content").rglob("*.md"))
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(output).pages)
    assert "Voir aussi" in text and "(n°\u00a0ARA-2022-004)" in text
    # the broken sheet itself still fails clearly when asked for
    result = run_cli("sheet", "ARA-2022-004", "--project", root, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1
    assert "is not a valid calendar date" in result.output


def test_front_matter_is_parsed_once_per_content(tmp_path: Path, monkeypatch) -> None:
    """The parsed front matter is reused across loads; errors are parsed (and reported) again."""
    from recueil.sources import frontmatter_cache as parsed_module

    root = copy_project(tmp_path / "p", [CLASSE_PASSERELLE, GUIDE_EXCLUSIONS], images=True)
    broken = root / "content" / "resources" / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    calls: list[str] = []
    real = parsed_module.read_yaml

    def counting(text: str):  # type: ignore[no-untyped-def]
        calls.append(text)
        return real(text)

    monkeypatch.setattr(parsed_module, "read_yaml", counting)
    project, _ = load_project(root)
    first = load_corpus(project)
    assert len(calls) == 3
    second = load_corpus(project)
    assert len(calls) == 4  # only the broken file again
    assert [s.meta for s in second.sheets] == [s.meta for s in first.sheets]
    assert [d.format() for d in second.diagnostics] == [d.format() for d in first.diagnostics]
    assert any("broken.md:2" in d.format() for d in second.diagnostics)
    # a damaged cache file is ignored, never trusted
    cache = root / "build" / ".cache" / "front-matter.json"
    cache.write_text("{not json", encoding="utf-8")
    third = load_corpus(project)
    assert len(calls) == 7
    assert [s.meta for s in third.sheets] == [s.meta for s in first.sheets]


def test_a_long_lived_reader_validates_again_only_the_sources_that_changed(
    tmp_path: Path, monkeypatch
) -> None:
    """The web catalogue and its workers reload the corpus after every save (SourceMemo)."""
    from recueil.sources import corpus as corpus_module
    from recueil.sources.corpus import SourceMemo

    root = copy_project(tmp_path / "p", [CLASSE_PASSERELLE, GUIDE_EXCLUSIONS], images=True)
    broken = root / "content" / "resources" / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    read: list[str] = []
    real = corpus_module.load_sheet

    def counting(project, path, parse):  # type: ignore[no-untyped-def]
        read.append(path.name)
        return real(project, path, parse)

    monkeypatch.setattr(corpus_module, "load_sheet", counting)
    project, _ = load_project(root)
    memo = SourceMemo("context")
    first = load_corpus(project, memo=memo)
    assert len(read) == 3
    again = load_corpus(project, memo=memo)
    assert len(read) == 3  # nothing changed: nothing read, the broken file included
    assert [d.format() for d in again.diagnostics] == [d.format() for d in first.diagnostics]
    assert [f.rel for f in again.failed] == [f.rel for f in first.failed]
    source = next(p for p in (root / "content").rglob("*.md") if p.name != "broken.md")
    edit(source, 'title: "', 'title: "Nouveau titre, ')
    changed = load_corpus(project, memo=memo)
    assert read[3:] == [source.name]
    assert any(s.title.startswith("Nouveau titre") for s in changed.sheets)
    assert [f.rel for f in changed.failed] == [f.rel for f in first.failed]


def test_a_picto_shared_by_two_sheets_is_a_dependency_of_both(tmp_path: Path) -> None:
    """WeasyPrint serves an image it already has from its cache, without asking the fetcher:
    the second sheet of a theme must still record the theme's picto, or editing the picto
    would leave that sheet's cached render stale."""
    root = copy_project(
        tmp_path / "p",
        [CLASSE_PASSERELLE, "experiences/idf-2021-002-ateliers-langage-pmi.md"],
    )
    project, _ = load_project(root)
    corpus = load_corpus(project)
    renderer = SheetRenderer(project, corpus, None)
    picto = str((root / "styles/pictos/petite-enfance.svg").resolve())
    for sheet in corpus.sheets:  # both in one process, sharing WeasyPrint's image cache
        result, _ = renderer.render(sheet)
        assert result is not None
        assert picto in result.dependencies, sheet.slug


def test_workers_are_replaced_after_a_number_of_sheets_and_every_sheet_completes(
    monkeypatch,
) -> None:
    """A worker renders TASKS_PER_WORKER sheets, then a fresh one takes over (memory)."""
    import os

    from recueil.render import workers

    monkeypatch.setattr(workers, "TASKS_PER_WORKER", 3)
    done: dict[str, int] = {}

    def task(slug: str) -> workers.Outcome:
        return os.getpid(), [], slug.encode()

    def record(slug: str, outcome: workers.Outcome) -> None:
        result, diagnostics, data = outcome
        assert not diagnostics and data == slug.encode()
        done[slug] = result

    slugs = [f"s{n}" for n in range(10)]
    workers.RenderPool(task, 2, 30.0, 0).run(slugs, lambda slug: slug, record)
    assert sorted(done) == sorted(slugs)
    by_worker: dict[int, int] = {}
    for pid in done.values():
        by_worker[pid] = by_worker.get(pid, 0) + 1
    assert max(by_worker.values()) <= 3
    assert len(by_worker) >= 4  # 10 sheets, at most 3 each
    assert os.getpid() not in by_worker


def test_the_pool_runs_idle_steps_while_workers_render_and_loses_no_outcome() -> None:
    """The parent's own work (``idle``) goes on between outcomes, until it says it is done."""
    import time

    from recueil.render import workers

    def task(slug: str) -> workers.Outcome:
        time.sleep(0.2)
        return slug, [], None

    done: list[str] = []
    finished: list[float] = []
    steps: list[float] = []

    def record(slug: str, outcome: workers.Outcome) -> None:
        done.append(outcome[0])
        finished.append(time.monotonic())

    def idle() -> bool:
        steps.append(time.monotonic())
        time.sleep(0.01)
        return len(steps) < 15

    slugs = [f"s{n}" for n in range(6)]
    workers.RenderPool(task, 2, 30.0, 0).run(slugs, lambda slug: slug, record, idle)
    assert sorted(done) == slugs
    assert len(steps) == 15  # called until it returned False, never after
    # the steps ran while the workers rendered (0.15 s of steps, 0.6 s of rendering)
    assert steps[-1] < max(finished)


def test_workers_do_not_outlive_a_killed_build(tmp_path: Path) -> None:
    """SIGKILL gives the parent no chance to stop its workers: the kernel ends them."""
    import signal
    import subprocess
    import sys
    import time

    pids = tmp_path / "pids"
    script = f"""
import os, time
from recueil.render.workers import RenderPool

def task(slug):
    with open({str(pids)!r}, "a") as out:
        out.write(f"{{os.getpid()}}\\n")
    time.sleep(60)
    return None, [], None

RenderPool(task, 2, 120.0, 0).run(["a", "b", "c"], lambda s: s, lambda s, o: None)
"""
    build = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
        time.sleep(0.05)
    workers_ = [int(pid) for pid in pids.read_text().split()]
    assert len(workers_) == 2
    build.send_signal(signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 10
    alive = workers_
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in workers_ if _running(pid)]
    assert not alive


def _running(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_standalone_pdf_is_found_without_reading_it_and_only_while_current(
    root: Path,
) -> None:
    """What the web catalogue serves: the cache's file, its recorded hash and page count."""
    project, _ = load_project(root)
    corpus = load_corpus(project)
    cache = RenderCache(project.build_dir / CACHE_DIR / "renders")
    renderer = SheetRenderer(project, corpus, cache)
    sheet = next(s for s in corpus.sheets if s.slug == "HDF-2022-001")
    found = cache.standalone(renderer.key(sheet))
    assert found is not None
    path, sha, pages = found
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha
    assert pages == len(PdfReader(io.BytesIO(data)).pages) >= 2
    # an image the sheet shows changes: the entry is no longer current for a new look
    image = root / "content/images/hdf-2022-001-passerelle.svg"
    image.write_text(image.read_text().replace("</svg>", "<circle r='1'/></svg>"))
    assert RenderCache(cache.folder).standalone(renderer.key(sheet)) is None


def test_a_key_does_not_depend_on_the_sheets_keyed_before_it() -> None:
    """A renderer keeps the texts of the parts of a key that no sheet changes (its kinds,
    settings and theme combinations): each sheet's key is still the one a renderer made for it
    alone gives, and no two sheets share one."""
    project, _ = load_project(REPO)
    corpus = load_corpus(project)
    shared = SheetRenderer(project, corpus, None)
    together = [(shared.key(s), shared.key(s, "print-shop")) for s in corpus.sheets]
    alone = [
        (fresh.key(s), fresh.key(s, "print-shop"))
        for s in corpus.sheets
        for fresh in [SheetRenderer(project, corpus, None)]
    ]
    assert len(corpus.sheets) >= 40 and together == alone
    assert len({key for pair in together for key in pair}) == 2 * len(together)
