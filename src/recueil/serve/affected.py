"""Which sheets a change of files touches: what a preview or a dashboard must render again.

Two records answer it, both kept by the render cache: a sheet's key (its source, its kind's
templates, the settings, its themes, the titles it links to: a template changed → the sheets of
its kind; a theme's colour changed → that theme's sheets) and the files its last render read
(an image or a pictogram changed → the sheets that show it, a stylesheet or a font → those that
use it). A sheet is touched when its key changed or a changed file is one it read.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from recueil.serve.catalogue import Snapshot


def affected_sheets(before: Snapshot, after: Snapshot, changed: Iterable[Path]) -> set[str]:
    """Slugs of the sheets of ``after`` whose render ``changed`` files may have changed."""
    files = {str(Path(p).resolve()) for p in changed}
    touched: set[str] = set()
    for slug, sheet in after.sheets.items():
        old = before.sheets.get(slug)
        if old is None:
            touched.add(slug)  # new, or fixed since the last snapshot
            continue
        key = before.renderer.key(old)
        if after.renderer.key(sheet) != key:
            touched.add(slug)
            continue
        cache = before.renderer.cache
        entry = cache.dependencies(key) if cache is not None else None
        if entry is None or files & {str(Path(d).resolve()) for d in entry}:
            touched.add(slug)  # never rendered (nothing recorded), or it read a changed file
    return touched
