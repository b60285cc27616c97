"""Where a visitor's selection finds and keeps its generated documents: read from the render
cache, kept in the worker's memory, never written to the disk.

A selection's cover, contents, colophon and page-number overlay are laid out for it (its title
and its sheets are the visitor's), and an assembly keeps such documents in the render cache for
the next one. Written there, every selection asked with a new title left some 150 KB in
``build/.cache/renders`` that nothing deletes: the server's own files are kept under
``serve_cache_mb`` (shelf.py), but any visitor could have filled the disk through the render
cache, one URL after another. Here the documents a selection lays out stay in the render
worker's memory, the last :data:`KEPT` of them: what the next selections share (the reading
guide, the same for all; the contents of the same sheets asked under another title) is still
laid out once. What the render cache already holds (written by a build or an author's preview)
is read as before.

Kept for as long as the worker's project state is, less when the files other than the sources
change (styles, fonts, templates: serve/tasks.py makes a new one), since a document kept here
is not checked against the files it used as the render cache's entries are.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from recueil.core.diagnostics import Diagnostic
from recueil.render.cache import RenderCache
from recueil.render.weasy import RenderResult

#: generated documents kept in a render worker's memory (a selection lays out three to five,
#: some 30 KB of PDF each)
KEPT = 24


class VisitorDocuments(RenderCache):
    """The render cache, read only; what is put is kept in memory, the last KEPT documents."""

    def __init__(self, cache: RenderCache, kept: int = KEPT) -> None:
        super().__init__(cache.folder)
        self.hashes = cache.hashes
        self.limit = kept
        self.kept: OrderedDict[str, RenderResult] = OrderedDict()

    def get(self, key: str) -> tuple[RenderResult, list[Diagnostic], bytes | None] | None:
        found = self.kept.get(key)
        if found is None:
            return super().get(key)
        self.kept.move_to_end(key)
        self.hits += 1
        return found, list(found.diagnostics), None

    def put(
        self,
        key: str,
        result: RenderResult,
        standalone: bytes | None = None,
        page: str | None = None,
    ) -> Any:
        self.kept[key] = result
        self.kept.move_to_end(key)
        while len(self.kept) > self.limit:
            self.kept.popitem(last=False)
        return result
