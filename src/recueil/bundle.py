"""Build collections: select and group sheets, render them once, assemble, publish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .assemble import Assembler, CollectionResult
from .build import Corpus, SheetRenderer
from .collection import COLLECTIONS_DIR, Collection, group_sheets, load_collection, select_sheets
from .diagnostics import Diagnostic, Level, error
from .project import Project
from .render import RenderResult


def discover_collections(project: Project) -> tuple[list[Collection], list[Diagnostic]]:
    """Every ``collections/*.yaml`` of the project, validated."""
    folder = project.root / COLLECTIONS_DIR
    found: list[Collection] = []
    diagnostics: list[Diagnostic] = []
    codes = tuple(t.code for t in project.themes)
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        collection, problems = load_collection(project.root, path, codes)
        diagnostics += problems
        if collection is not None:
            found.append(collection)
    return found, diagnostics


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
    return diagnostics


def _line(project: Project, collection: Collection, needle: str) -> int | None:
    path = project.root / collection.source
    if not path.is_file():
        return None
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if needle in line:
            return number
    return None


def build_collection(
    project: Project, corpus: Corpus, collection: Collection, renderer: SheetRenderer
) -> tuple[CollectionResult | None, list[Diagnostic]]:
    """Render (or reuse) every sheet of the collection, then assemble it."""
    diagnostics = check_references(collection, corpus, project)
    if diagnostics:
        return None, diagnostics
    chosen = select_sheets(collection, corpus.sheets)
    if not chosen:
        line = _line(project, collection, "select:")
        return None, [
            error(collection.source, line, "the selection is empty: no sheet matches 'select'")
        ]
    kind_labels = {name: kind.label for name, kind in project.kinds.items()}
    groups = group_sheets(collection, chosen, project.themes, kind_labels)
    renders: dict[str, RenderResult] = {}
    for sheet in chosen:
        result, found = renderer.render(sheet)
        diagnostics += found
        if result is None or any(d.level is Level.ERROR for d in found):
            diagnostics.append(
                error(collection.source, None, f"sheet {sheet.slug} could not be rendered")
            )
            continue
        renders[sheet.slug] = result
    if len(renders) < len(chosen):
        return None, diagnostics
    assembler = Assembler(project, collection, groups, renders, kind_labels)
    assembled = assembler.assemble()
    diagnostics += assembled.diagnostics
    if any(d.level is Level.ERROR for d in assembled.diagnostics):
        return None, diagnostics
    return assembled, diagnostics


def collection_output(project: Project, collection: Collection) -> Path:
    """Where a declared collection is written."""
    return project.build_dir / "collections" / f"{collection.name}.pdf"
