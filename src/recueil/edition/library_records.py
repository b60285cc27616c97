"""An edition's library records: every notice of its sheets and collections, in every format.

Written into ``records/`` of the staging folder once the PDFs are there (the notices give
their sizes and pages) and before the manifest, which lists them; ``SHA256SUMS`` covers them
like every other file. They depend only on the sources, the settings and the edition (no
clock), so a rebuild writes them byte for byte again. The PDFs' addresses are those of the
edition in the web catalogue (``editions/VERSION/sheets/SLUG.pdf`` under ``pdf_base_url``),
and each sheet's notice gives its pages in each collection of the edition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recueil.collection.assemble import CollectionResult
from recueil.collection.collection_build import Prepared
from recueil.core.diagnostics import Diagnostic
from recueil.edition.archive import write_file
from recueil.records.export import FORMATS, export
from recueil.records.pdf_files import Layout, with_slash
from recueil.records.scope import Part, Scope, make_notices
from recueil.sources.edition_label import Edition
from recueil.sources.project import Project
from recueil.sources.sheet import Sheet

#: the folder of an edition holding its records
RECORDS_DIR = "records"


def edition_scope(
    edition: Edition,
    sheets: Sequence[Sheet],
    assembled: Sequence[tuple[Prepared, CollectionResult]],
) -> Scope:
    """The edition's sheets and collections, with each sheet's pages in each collection."""
    parts = []
    for prepared, result in assembled:
        ordered = tuple(s for group in prepared.groups for s in group.sheets)
        pages = {}
        for sheet in ordered:
            first = result.sheet_first_page[sheet.slug] + 1
            pages[sheet.slug] = (first, first + prepared.renders[sheet.slug].page_count - 1)
        parts.append(Part(prepared.collection, ordered, pages))
    return Scope(tuple(sheets), tuple(parts), edition.label)


def write_notices(
    project: Project,
    edition: Edition,
    sheets: Sequence[Sheet],
    assembled: Sequence[tuple[Prepared, CollectionResult]],
    stage: Path,
) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """Write ``records/notices.*`` into the staging folder; their manifest entries."""
    layout = Layout(
        stage, with_slash(project.settings.pdf_base_url), f"editions/{edition.version}/"
    )
    notices, diagnostics = make_notices(project, edition_scope(edition, sheets, assembled), layout)
    entries = []
    for name, known in FORMATS.items():
        data, found = export(notices, name)
        diagnostics += [d for d in found if d not in diagnostics]
        rel = f"{RECORDS_DIR}/{known.file_name}"
        write_file(stage / rel, data)
        entries.append(
            {
                "file": rel,
                "format": name,
                "notices": len(notices),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return entries, diagnostics
