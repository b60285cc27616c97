"""The schema.org description of a sheet, for its web page (records.jsonld writes it).

The page carries it as ``<script type="application/ld+json">``: a data block, which the
catalogue's Content-Security-Policy (``script-src 'self'``) does not concern since nothing
runs (the browser test checks that no violation is reported).
"""

from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request

from recueil.records.jsonld import script_text
from recueil.records.mapping import collection_link, sheet_notice
from recueil.records.pdf_files import Layout
from recueil.records.scope import parts_of
from recueil.serve.catalogue import Snapshot
from recueil.serve.oai import catalogue_address
from recueil.sources.sheet import Sheet


def sheet_json_ld(request: Request, snapshot: Snapshot, sheet: Sheet) -> Markup:
    """The JSON-LD text of a sheet's page, safe inside its script element."""
    project = snapshot.project
    layout = Layout(project.build_dir, catalogue_address(request, snapshot))
    parts = parts_of(project, snapshot.collections, list(snapshot.sheets.values()))
    links = [collection_link(p.collection, layout) for p in parts
             if any(s.slug == sheet.slug for s in p.sheets)]  # fmt: skip
    notice, _ = sheet_notice(project, sheet, layout, links)
    return Markup(script_text(notice))
