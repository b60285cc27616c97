"""Build collections: select and group sheets, render them once, assemble, publish."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recueil.collection.assemble import Assembler, AssemblyError, CollectionResult
from recueil.collection.definition import (
    Collection,
    Group,
    excluded,
    might_select,
    select_sheets,
)
from recueil.collection.grouping import group_sheets, grouping_problem
from recueil.collection.print_options import print_shop_options
from recueil.core.atomic import write_atomic
from recueil.core.cache_prune import mark_used
from recueil.core.diagnostics import Diagnostic, Level, error, warning
from recueil.render.cache import RenderCache, digest, pdf_digest, versions
from recueil.render.print_styles import VARIANT
from recueil.render.sheet_renderer import SheetRenderer
from recueil.render.weasy import RenderResult
from recueil.sources.corpus import Corpus
from recueil.sources.edition_label import Edition
from recueil.sources.project import Project


def adhoc_collection(
    project: Project, title: str, select: dict[str, list[str]], date: dt.date
) -> Collection:
    """A collection declared on the command line, with the default layout."""
    meta: dict[str, Any] = {
        "title": title,
        "date": date,
        "select": {k: v for k, v in select.items() if v},
        "group_by": "theme",
        "colophon": {
            "publisher": project.settings.publisher or project.settings.title,
            "publisher_address": project.settings.publisher_address or "—",
        },
    }
    return Collection("adhoc", "(command line)", MappingProxyType(meta))


def check_references(collection: Collection, corpus: Corpus, project: Project) -> list[Diagnostic]:
    """Slugs named in the selection must exist; the selection must not be empty."""
    diagnostics: list[Diagnostic] = []
    known = corpus.by_slug()
    select = collection.meta.get("select", {})
    for slug in select.get("slugs", []):
        if slug not in known:
            diagnostics.append(
                error(
                    collection.source,
                    _line(project, collection, slug),
                    f"field 'select.slugs': no sheet has the slug '{slug}'",
                )
            )
    kinds = select.get("kinds", [])
    for kind in kinds:
        if kind not in project.kinds:
            diagnostics.append(
                error(
                    collection.source,
                    _line(project, collection, kind),
                    f"field 'select.kinds': unknown kind '{kind}'",
                )
            )
    return diagnostics + _check_layout(collection, corpus, project)


def _check_layout(collection: Collection, corpus: Corpus, project: Project) -> list[Diagnostic]:
    """Exclusions that leave nothing out (a warning), and a grouping field, index fields or a
    template that do not exist (errors)."""
    found: list[Diagnostic] = []

    def report(needle: str, message: str, level: Callable[..., Diagnostic] = error) -> None:
        found.append(level(collection.source, _line(project, collection, needle), message))

    slugs = [s.slug for s in corpus.loaded or corpus.sheets] + [
        f.slug for f in corpus.failed if f.slug
    ]
    for pattern in collection.meta.get("select", {}).get("exclude", []):
        if not any(excluded(slug, [pattern]) for slug in slugs):
            report(pattern, f"field 'select.exclude': '{pattern}' matches no sheet", warning)
    problem = grouping_problem(collection.option("group_by", "theme"), project.kinds)
    if problem is not None:
        report("group_by:", f"field 'group_by': {problem}")
    for index, paths in collection.meta.get("index_fields", {}).items():
        for path in paths:
            top = path.split(".")[0]
            if not any(kind.field(top) for kind in project.kinds.values()):
                report(path, f"field 'index_fields.{index}': no kind has a field '{top}'")
    template = collection.template
    if not any((folder / template).is_file() for folder in project.template_dirs):
        report("template:", f"field 'template': no template '{template}' in templates/")
    return found


def _line(project: Project, collection: Collection, needle: str) -> int | None:
    path = project.root / collection.source
    if not path.is_file():
        return None
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if needle in line:
            return number
    return None


@dataclass
class Prepared:
    """A collection ready to assemble: its groups, the sheets' renders, and its input key."""

    collection: Collection
    groups: list[Group]
    renders: dict[str, RenderResult]
    key: str
    #: "" for the screen PDF, printshop.VARIANT for the printer's
    variant: str = ""
    #: the sheets it goes without (slugs, or paths when unreadable), when allowed to be
    #: incomplete
    missing: tuple[str, ...] = ()
    #: kinds the project has sources of (the reading guide explains their statuses)
    kinds_in_use: tuple[str, ...] = ()


def prepare_collection(
    project: Project,
    corpus: Corpus,
    collection: Collection,
    renderer: SheetRenderer,
    variant: str = "",
    allow_incomplete: bool = False,
) -> tuple[Prepared | None, list[Diagnostic]]:
    """Select and group the sheets and get their renders (reused whenever possible).

    ``variant`` chooses which render of each sheet goes in: the screen one, or the print-shop
    one (laid out once per change too, and cached apart).

    A collection is never published with sheets missing unless ``allow_incomplete`` says so:
    a sheet is missing when its source has errors and the selection could hold it, or when it
    cannot be rendered. Then the collection fails with the list of its missing sheets and their
    reasons (its previous PDF stays); allowed, it is assembled without them, saying so on its
    cover and title page.
    """
    diagnostics = check_references(collection, corpus, project)
    if any(d.level is Level.ERROR for d in diagnostics):
        return None, diagnostics
    chosen = select_sheets(collection, corpus.sheets)
    missing = [
        (f.slug or f.rel, f.describe()) for f in corpus.failed if might_select(collection, f)
    ]
    if not chosen and not missing:
        return None, [_empty(project, collection)]
    renders: dict[str, RenderResult] = {}
    for sheet in chosen:
        result, found = renderer.render(sheet, variant)
        diagnostics += found
        if result is None or any(d.level is Level.ERROR for d in found):
            missing.append((sheet.slug, f"{sheet.slug} ({sheet.rel}: it could not be rendered)"))
            continue
        renders[sheet.slug] = result
    if missing:
        listed = "; ".join(description for _, description in missing)
        if not allow_incomplete:
            diagnostics.append(
                error(
                    collection.source,
                    None,
                    f"not published, {len(missing)} sheet(s) missing (the previous PDF is kept): "
                    f"{listed}; fix them, or build a draft with --allow-incomplete",
                )
            )
            return None, diagnostics
        diagnostics.append(
            warning(
                collection.source,
                None,
                f"published incomplete (--allow-incomplete), {len(missing)} sheet(s) missing: "
                f"{listed}",
            )
        )
        chosen = [s for s in chosen if s.slug in renders]
        if not chosen:
            return None, [*diagnostics, _empty(project, collection)]
    groups = group_sheets(collection, chosen, project.themes, project.kinds)
    in_use = tuple(sorted({s.kind for s in corpus.sheets} | {f.kind or "" for f in corpus.failed}))
    key = digest(
        repr(sorted(versions().items())),
        repr(sorted(collection.meta.items(), key=lambda item: item[0])),
        collection.editorial_markdown,
        collection.reading_guide_markdown,
        repr([(g.key, [s.slug for s in g.sheets]) for g in groups]),
        *(pdf_digest(renders[s.slug]) for s in chosen),
        renderer.template_hash(collection.template),
        renderer.template_hash("overlay.html"),
        *(_tree_hash(folder) for folder in project.style_dirs),
        project.settings.output_key(),
        repr(project.themes),
        repr([(s.slug, dict(s.meta)) for s in chosen]),
        repr(sorted(project.kinds.items())),
        repr(in_use),
        repr(renderer.edition),
        *((f"variant:{variant}",) if variant else ()),
        repr(missing),
    )
    prepared = Prepared(
        collection, groups, renders, key, variant, tuple(n for n, _ in missing), in_use
    )
    return prepared, diagnostics


def _empty(project: Project, collection: Collection) -> Diagnostic:
    line = _line(project, collection, "select:")
    return error(collection.source, line, "the selection is empty: no sheet matches 'select'")


def _kind_labels(project: Project) -> dict[str, str]:
    return {name: kind.label for name, kind in project.kinds.items()}


def _tree_hash(folder: Path) -> str:
    """Hash of every file under a folder (styles: small, read once per collection)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return digest(
        *(f"{p.relative_to(folder)}:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in files)
    )


def assemble_collection(
    project: Project,
    prepared: Prepared,
    cache: RenderCache | None = None,
    edition: Edition | None = None,
    jobs: int = 1,
    preview: bool = False,
    known_pages: frozenset[str] = frozenset(),
) -> tuple[CollectionResult | None, list[Diagnostic]]:
    """Assemble a prepared collection (generated parts reused from ``cache`` when unchanged).

    ``jobs`` worker processes lay out the generated parts and the overlay; ``preview`` makes
    the pages only (Assembler.preview), and only those not in ``known_pages``.
    """
    assembler = Assembler(
        project,
        prepared.collection,
        prepared.groups,
        prepared.renders,
        _kind_labels(project),
        cache,
        print_shop_options(prepared.collection.meta) if prepared.variant == VARIANT else None,
        edition,
        jobs,
        prepared.missing,
        prepared.kinds_in_use,
        preview=preview,
        known_pages=known_pages,
    )
    try:
        assembled = assembler.assemble()
    except AssemblyError as failure:
        return None, [*assembler.diagnostics, error(prepared.collection.source, None, str(failure))]
    if any(d.level is Level.ERROR for d in assembled.diagnostics):
        return None, assembled.diagnostics
    return assembled, assembled.diagnostics


def build_collection(
    project: Project,
    corpus: Corpus,
    collection: Collection,
    renderer: SheetRenderer,
    variant: str = "",
    jobs: int = 1,
    allow_incomplete: bool = False,
    preview: bool = False,
    known_pages: frozenset[str] = frozenset(),
    documents: RenderCache | None = None,
) -> tuple[CollectionResult | None, list[Diagnostic]]:
    """Render (or reuse) every sheet of the collection, then assemble it (for an author's
    preview: the pages only, see Assembler.preview). Its generated documents are looked for
    and kept in ``documents`` (a visitor's selection: serve/visitor_documents.py), else in
    the renderer's cache."""
    prepared, diagnostics = prepare_collection(
        project, corpus, collection, renderer, variant, allow_incomplete
    )
    if prepared is None:
        return None, diagnostics
    cache = documents if documents is not None else renderer.cache
    result, found = assemble_collection(
        project, prepared, cache, renderer.edition, jobs, preview, known_pages
    )
    return result, diagnostics + found


def up_to_date(state: Path, prepared: Prepared, output: Path) -> bool:
    """True when ``output`` was assembled from exactly these inputs and is intact."""
    try:
        recorded = json.loads(state.read_text(encoding="utf-8"))
        return bool(
            recorded["key"] == prepared.key
            and hashlib.sha256(output.read_bytes()).hexdigest() == recorded["output_sha256"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def record(state: Path, prepared: Prepared, pdf: bytes, used: Iterable[Path] = ()) -> None:
    """Remember which inputs produced the collection just written, and the cache entries its
    assembly read or wrote (``used``: their markers, cache_prune.journal)."""
    cache = state.parent.parent  # build/.cache, holding collections/ beside renders/, trees/
    kept = sorted(p.relative_to(cache).as_posix() for p in used if p.is_relative_to(cache))
    data = {"key": prepared.key, "output_sha256": hashlib.sha256(pdf).hexdigest(), "used": kept}
    write_atomic(state, json.dumps(data).encode())


def mark_recorded(state: Path) -> None:
    """Mark used the cache entries the recorded assembly used: the collection is up to date,
    so they are not read, and the build's pruning must not take them (cache_prune.py)."""
    cache = state.parent.parent
    try:
        used = json.loads(state.read_text(encoding="utf-8")).get("used", [])
    except (OSError, ValueError, AttributeError):
        return
    for name in used if isinstance(used, list) else ():
        if isinstance(name, str) and ".." not in name.split("/") and not name.startswith("/"):
            mark_used(cache / name)
