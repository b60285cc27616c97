"""Which notices an export holds: the sheets, their collections, and the links between them.

An export is all the sheets and declared collections of a project, one collection and its
sheets, or an edition's (the caller, which knows editions, passes their sheets, collections and
page ranges: this stage does not read the archive). A sheet's notice links (461) to every
collection of the same export that holds it, and each collection's notice (463) to its sheets
in printed order, so the links of an export never point outside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from recueil.collection.definition import Collection, select_sheets
from recueil.collection.grouping import group_sheets
from recueil.core.diagnostics import Diagnostic
from recueil.records.mapping import collection_link, collection_notice, sheet_notice
from recueil.records.notice import Notice
from recueil.records.pdf_files import Layout
from recueil.sources.project import Project
from recueil.sources.sheet import Sheet


@dataclass(frozen=True)
class Part:
    """A collection of the export, with its sheets in printed order."""

    collection: Collection
    sheets: tuple[Sheet, ...]
    #: first and last page of each sheet in the collection, when known (an edition's)
    pages: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Scope:
    """What to export."""

    sheets: tuple[Sheet, ...]
    parts: tuple[Part, ...] = ()
    #: the edition's label ("Édition 2023", UNIMARC 205), "" outside an edition
    edition: str = ""


def parts_of(
    project: Project, collections: Sequence[Collection], sheets: Sequence[Sheet]
) -> list[Part]:
    """Each collection with the sheets it selects, in the order it prints them."""
    found = []
    for collection in collections:
        chosen = select_sheets(collection, sheets)
        groups = group_sheets(collection, chosen, project.themes, project.kinds)
        found.append(Part(collection, tuple(s for g in groups for s in g.sheets)))
    return found


def project_scope(
    project: Project,
    sheets: Sequence[Sheet],
    collections: Sequence[Collection],
    only: str | None = None,
) -> Scope:
    """Every sheet and collection of a project, or (``only``) one collection and its sheets.

    Raises KeyError when ``only`` names no declared collection.
    """
    parts = parts_of(project, collections, sheets)
    if only is None:
        return Scope(tuple(sheets), tuple(parts))
    part = next((p for p in parts if p.collection.name == only), None)
    if part is None:
        raise KeyError(only)
    return Scope(part.sheets, (part,))


def make_notices(
    project: Project, scope: Scope, layout: Layout
) -> tuple[list[Notice], list[Diagnostic]]:
    """The notices of the sheets then of the collections, and the warnings about them."""
    notices: list[Notice] = []
    diagnostics: list[Diagnostic] = []
    holders: dict[str, list[Part]] = {}
    for part in scope.parts:
        for sheet in part.sheets:
            holders.setdefault(sheet.slug, []).append(part)
    for sheet in scope.sheets:
        links = [
            collection_link(part.collection, layout, _position(part, sheet.slug))
            for part in holders.get(sheet.slug, [])
        ]
        notice, found = sheet_notice(project, sheet, layout, links, scope.edition)
        notices.append(notice)
        diagnostics += found
    for part in scope.parts:
        notice, found = collection_notice(
            project, part.collection, part.sheets, layout, part.pages, scope.edition
        )
        notices.append(notice)
        diagnostics += found
    return notices, diagnostics


def _position(part: Part, slug: str) -> str:
    first, last = part.pages.get(slug, (0, 0))
    if not first:
        return ""
    return f"p. {first}" if first == last else f"p. {first}-{last}"
