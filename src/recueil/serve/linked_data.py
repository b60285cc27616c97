"""The schema.org description of a sheet, for its web page (records.jsonld writes it).

The page carries it as ``<script type="application/ld+json">``: a data block, which the
catalogue's Content-Security-Policy (``script-src 'self'``) does not concern since nothing
runs (the browser test checks that no violation is reported).

The description names the PDF visitors download (``/fiches/SLUG.pdf``, the render cache's
standalone file): its size and pages come from the cache's records, not from opening the PDF
(pypdf takes about 25 ms to count the pages of a tagged sheet, the page itself 2 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup
from starlette.requests import Request

from recueil.records.jsonld import script_text
from recueil.records.mapping import collection_link, sheet_notice
from recueil.records.pdf_files import Layout, PdfFile
from recueil.serve.catalogue import Snapshot
from recueil.serve.oai import catalogue_address
from recueil.sources.sheet import Sheet


@dataclass(frozen=True)
class ServedLayout(Layout):
    """The build's layout, except that a sheet's PDF is the one the catalogue serves."""

    snapshot: Snapshot | None = None

    def sheet(self, slug: str) -> PdfFile:
        sheet = self.snapshot.sheets.get(slug) if self.snapshot is not None else None
        cached = self.snapshot.pdf_file(sheet) if self.snapshot and sheet else None
        url = f"{self.base_url}fiches/{quote(slug)}.pdf" if self.base_url else ""
        if cached is None:
            # not rendered for this snapshot yet: the PDF served will be a new render, so the
            # build folder's file (older, perhaps another size) says nothing true of it
            return PdfFile(url, None, None)
        return PdfFile(url, cached.size, cached.pages)


def sheet_json_ld(request: Request, snapshot: Snapshot, sheet: Sheet) -> Markup:
    """The JSON-LD text of a sheet's page, safe inside its script element."""
    project = snapshot.project
    layout = ServedLayout(project.build_dir, catalogue_address(request, snapshot), "", snapshot)
    member_of = snapshot.memberships().get(sheet.slug, ())
    links = [collection_link(collection, layout) for collection in member_of]
    notice, _ = sheet_notice(project, sheet, layout, links)
    return Markup(script_text(notice))
