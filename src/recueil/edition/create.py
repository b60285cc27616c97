"""Creating an edition: build the chosen collections strictly, record everything, publish once.

The stages are the ordinary ones (sheets in workers, collections assembled from the sheets'
renders), run for an Edition: the label goes into the documents and the PDFs are PDF/A. Any
problem anywhere in the project stops the edition (strict mode: a warning is enough), since an
archive silently missing a broken sheet would be worse than no archive. Everything is written
into a staging folder; the manifest, ``CHANGES.md`` and ``SHA256SUMS`` are added; the folder is
sealed and renamed into the archive (archive.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from recueil.collection.assemble import CollectionResult
from recueil.collection.collection_build import (
    Prepared,
    assemble_collection,
    check_references,
    prepare_collection,
)
from recueil.collection.declared import discover_collections
from recueil.collection.definition import Collection, select_sheets
from recueil.collection.plan import label_for
from recueil.core.diagnostics import Diagnostic, Level, error
from recueil.edition.archive import CHANGES, MANIFEST, Archive, ArchiveError, write_file
from recueil.edition.changes import Changes, as_markdown, compare
from recueil.edition.library_records import write_notices
from recueil.edition.pdfa_check import pdfa_problems
from recueil.render.accessibility_check import problems as accessibility_problems
from recueil.render.cache import RenderCache, digest, versions
from recueil.render.sheet_build import Limits, ProgressCallback, build_sheets
from recueil.render.sheet_renderer import SheetRenderer
from recueil.sources.build_folder import output_holding_editions
from recueil.sources.corpus import Corpus, load_corpus
from recueil.sources.edition_label import Edition
from recueil.sources.project import CACHE_DIR, Project
from recueil.sources.sheet import Sheet

MANIFEST_FORMAT = 1
PDF_STANDARD = "PDF/A-2a"
#: accessibility problems reported per file (the rest are counted)
_SHOWN = 5


@dataclass(frozen=True)
class EditionRequest:
    """What to publish, and how to build it."""

    edition: Edition
    #: names of the collections to publish; empty: every declared collection
    collections: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    use_cache: bool = True
    #: the source revision to record (a rebuild records the original's); None: ask git
    source: Mapping[str, Any] | None = None
    #: the previous edition's manifest for CHANGES.md; None: the archive's latest edition
    previous: Mapping[str, Any] | None = None


@dataclass
class Published:
    """A published edition: where it is, its manifest and what changed."""

    folder: Path
    manifest: dict[str, Any]
    changes: Changes | None


def create_edition(
    project: Project,
    request: EditionRequest,
    archive: Archive,
    on_progress: ProgressCallback | None = None,
    project_diagnostics: Sequence[Diagnostic] = (),
    on_wait: Callable[[], None] | None = None,
) -> tuple[Published | None, list[Diagnostic]]:
    """Build and publish an edition; None and the reasons when anything is wrong.

    ``project_diagnostics`` are the problems found loading the project (settings, themes,
    kinds): like every other problem, they stop the edition.

    Raises ArchiveError when the version exists already or a collection name is unknown.
    """
    version = request.edition.version
    holder = output_holding_editions(project)
    if holder is not None and archive.folder.resolve() == project.editions_dir.resolve():
        raise ArchiveError(
            f"editions_dir lies inside {holder}, which `recueil clean` deletes: choose another"
        )
    with archive.lock(on_wait):
        if archive.path(version).exists() or archive.path(version).is_symlink():
            raise ArchiveError(
                f"edition '{version}' already exists ({archive.path(version)}); "
                "editions are never overwritten"
            )
        corpus = load_corpus(project)
        declared, found = discover_collections(project)
        diagnostics = [*project_diagnostics, *found]
        collections = _chosen(declared, request.collections)
        cache = (
            RenderCache(project.build_dir / CACHE_DIR / "renders") if request.use_cache else None
        )
        renderer = SheetRenderer(project, corpus, cache, request.edition)
        diagnostics += corpus.diagnostics
        sheets = _sheets_of(collections, corpus, project, diagnostics)
        if _blocking(diagnostics):
            return None, diagnostics
        with archive.staging(version) as stage:
            outcomes = build_sheets(
                renderer,
                sheets,
                lambda s: stage / "sheets" / f"{s.slug}.pdf",
                on_progress=on_progress,
                strict=True,
                limits=request.limits,
            )
            for outcome in outcomes:
                diagnostics += outcome.diagnostics
                if not outcome.ok and not outcome.diagnostics:
                    diagnostics.append(error(outcome.rel, None, "the sheet was not rendered"))
            if _blocking(diagnostics) or not all(o.ok for o in outcomes):
                return None, diagnostics
            assembled: list[tuple[Prepared, CollectionResult]] = []
            for collection in collections:
                prepared, found = prepare_collection(project, corpus, collection, renderer)
                diagnostics += found
                if prepared is None:
                    continue
                result, found = assemble_collection(
                    project, prepared, cache, request.edition, request.limits.jobs
                )
                diagnostics += found
                if result is not None:
                    write_file(stage / "collections" / f"{collection.name}.pdf", result.pdf)
                    assembled.append((prepared, result))
            for pdf in sorted(stage.rglob("*.pdf")):
                rel = pdf.relative_to(stage).as_posix()
                diagnostics += [
                    error(rel, None, f"not a sound {PDF_STANDARD} document: {problem}")
                    for problem in pdfa_problems(pdf.read_bytes()) + _accessibility(pdf)
                ]
            if _blocking(diagnostics) or len(assembled) < len(collections):
                return None, diagnostics
            records, found = write_notices(project, request.edition, sheets, assembled, stage)
            diagnostics += found
            if _blocking(diagnostics):
                return None, diagnostics
            manifest = make_manifest(project, request, renderer, sheets, assembled, stage)
            manifest["records"] = records
            latest = archive.latest()
            previous = request.previous or (archive.manifest(latest) if latest else None)
            manifest["previous"] = previous["version"] if previous else None
            changes = compare(previous, manifest) if previous else None
            write_file(stage / CHANGES, as_markdown(changes, manifest).encode())
            write_file(stage / MANIFEST, manifest_bytes(manifest))
            folder = archive.publish(stage, version)
        return Published(folder, manifest, changes), diagnostics


def _chosen(declared: list[Collection], names: Sequence[str]) -> list[Collection]:
    if not names:
        return declared
    by_name = {c.name: c for c in declared}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise ArchiveError(f"no collection {', '.join(unknown)} (declared: {known})")
    return [by_name[n] for n in dict.fromkeys(names)]


def _sheets_of(
    collections: list[Collection], corpus: Corpus, project: Project, diagnostics: list[Diagnostic]
) -> list[Sheet]:
    """Every sheet of the chosen collections, in corpus order (all sheets without collections)."""
    if not collections:
        return list(corpus.sheets)
    wanted: set[str] = set()
    for collection in collections:
        problems = check_references(collection, corpus, project)
        diagnostics += problems
        if not problems:
            wanted |= {s.slug for s in select_sheets(collection, corpus.sheets)}
    return [s for s in corpus.sheets if s.slug in wanted]


def _blocking(diagnostics: list[Diagnostic]) -> bool:
    """Editions are strict: an error or a warning stops them."""
    return any(d.level in (Level.ERROR, Level.WARNING) for d in diagnostics)


def _accessibility(pdf: Path) -> list[str]:
    """What level A (and PDF/UA-1) needs that the file breaks, as the accessibility checks
    see it (render/accessibility_check.py): the first problems and how many there are."""
    found = accessibility_problems(pdf)
    if len(found) > _SHOWN:
        return [*found[:_SHOWN], f"and {len(found) - _SHOWN} more accessibility problem(s)"]
    return found


def make_manifest(
    project: Project,
    request: EditionRequest,
    renderer: SheetRenderer,
    sheets: Sequence[Sheet],
    assembled: Sequence[tuple[Prepared, CollectionResult]],
    stage: Path,
) -> dict[str, Any]:
    """Everything needed to tell, years later, what was printed and from what."""
    edition = request.edition
    ranges: dict[str, dict[str, list[int]]] = {s.slug: {} for s in sheets}
    collections = []
    for prepared, result in assembled:
        name = prepared.collection.name
        pdf = stage / "collections" / f"{name}.pdf"
        entries = []
        for group in prepared.groups:
            for sheet in group.sheets:
                first = result.sheet_first_page[sheet.slug]
                last = first + prepared.renders[sheet.slug].page_count - 1
                ranges[sheet.slug][name] = [first + 1, last + 1]
                entries.append({"slug": sheet.slug, "pages": [first + 1, last + 1]})
        labels = [label_for(i, result.plan.front_pages) for i in range(result.plan.total)]
        collections.append(
            {
                "name": name,
                "title": prepared.collection.meta["title"],
                "file": f"collections/{name}.pdf",
                "sha256": hashlib.sha256(result.pdf).hexdigest(),
                "pages": result.plan.total,
                "sheets": entries,
                "page_labels": labels,
                "page_fingerprints": page_fingerprints(renderer, prepared, result, labels),
            }
        )
    sheet_entries = []
    for sheet in sheets:
        render, _ = renderer.render(sheet)
        assert render is not None  # every sheet rendered before the manifest is made
        pdf = stage / "sheets" / f"{sheet.slug}.pdf"
        sheet_entries.append(
            {
                "slug": sheet.slug,
                "title": sheet.title,
                "kind": sheet.kind,
                "source": project.relative(sheet.path),
                "source_sha256": sheet.source_hash,
                "content_sha256": content_hash(renderer, sheet, render.dependencies),
                "file": f"sheets/{sheet.slug}.pdf",
                "sha256": hashlib.sha256(pdf.read_bytes()).hexdigest(),
                "pages": render.page_count,
                "in_collections": ranges[sheet.slug],
            }
        )
    tools = {k: v for k, v in versions().items() if k != "cache"}
    return {
        "format": MANIFEST_FORMAT,
        "version": edition.version,
        "date": edition.date.isoformat(),
        "title": edition.title,
        "previous": None,
        "source": dict(request.source) if request.source else source_revision(project.root),
        "versions": tools,
        "pdf_standard": PDF_STANDARD,
        "collections": collections,
        "sheets": sheet_entries,
    }


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as written: stable key order, UTF-8, one trailing newline."""
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()


def content_hash(renderer: SheetRenderer, sheet: Sheet, dependencies: Sequence[str]) -> str:
    """The sheet's content: its source and the project files it shows (images), not styles."""
    styles = [str(d.resolve()) for d in renderer.project.style_dirs]
    shown = sorted(
        renderer.file_hash(path)
        for path in dependencies
        if not any(path.startswith(folder + "/") for folder in styles)
    )
    return digest(sheet.source_hash, *shown)


def page_fingerprints(
    renderer: SheetRenderer,
    prepared: Prepared,
    result: CollectionResult,
    labels: Sequence[str],
) -> list[str]:
    """One short fingerprint per page of a collection (see changes.py for what they cover)."""
    reader = PdfReader(io.BytesIO(result.pdf))
    sheets = {s.slug: (s, g.key) for g in prepared.groups for s in g.sheets}
    prints: list[str] = []
    index = 0
    for slot in result.plan.slots:
        for offset in range(slot.count):
            if slot.source == "sheet":
                sheet, group = sheets[slot.ref]
                look = renderer.look(sheet, prepared.renders[slot.ref])
                value = digest("sheet", look, str(offset), labels[index], group)
            elif slot.source == "frame":
                value = _page_digest(reader, index)
            else:
                value = digest("blank")
            prints.append(value[:16])
            index += 1
    return prints


def _page_digest(reader: PdfReader, index: int) -> str:
    """A generated page's text and the images it shows."""
    page = reader.pages[index]
    text = " ".join(page.extract_text().split())
    images = sorted(hashlib.sha256(image.data).hexdigest() for image in page.images)
    return digest("frame", text, *images)


def source_revision(root: Path) -> dict[str, Any]:
    """The git revision of the project's sources, and whether they had uncommitted changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--verify", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "path": None}
    status = git("status", "--porcelain", "--untracked-files=normal", "--", ".")
    return {
        "commit": commit,
        "dirty": bool(status),
        "path": (git("rev-parse", "--show-prefix") or "").rstrip("/"),
    }
