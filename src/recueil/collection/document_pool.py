"""The workers that lay out a collection's generated documents: contents, dividers, indexes,
colophon (the frame) and the page-number overlay.

A small collection's are forked from the build, with its parsed styles. A large one's are
started fresh: by then the build holds the sheets copied so far (170 MB at 1,000 sheets), and
every forked worker would start that large and be counted that large again; laying out its
documents takes tens of seconds, against about a second to start an interpreter. There, a
worker that a document left large is replaced, and the long documents (the contents, the
indexes) are laid out one at a time beside the short ones (the overlay's), so that at most
one of them holds its 100 MB or more at once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recueil.render.weasy import parse_styles_once, render_pdf
from recueil.render.workers import Outcome, RenderPool
from recueil.sources.project import Project

#: collections of this many sheets have their documents laid out by fresh workers
FRESH_WORKERS_FROM = 300
#: ... and such a worker is replaced when a document left it larger than this (the index or
#: the contents of 1,000 sheets: some 100 MB on top of 55 MB; 100 pages of page numbers, 30)
RECYCLE_ABOVE_MB = 120
#: ... and documents longer than this (characters of HTML) are laid out one at a time: the
#: keywords index of 1,000 sheets (370,000) takes some 150 MB to lay out
HEAVY = 100_000
#: time limit for laying out one generated document: far above what 5,000 sheets need; it only
#: keeps a layout bug from hanging a build
DOCUMENT_TIMEOUT = 3600.0


def document_pool(
    documents: Mapping[str, tuple[str, dict[str, Any]]],
    project: Project,
    rel: str,
    jobs: int,
    sheets: Mapping[str, Any],
) -> RenderPool:
    """A pool laying out ``documents`` (name → HTML and WeasyPrint options) for a collection
    of ``sheets``; ``rel`` names the collection's source in diagnostics."""
    task = functools.partial(
        lay_out_document, dict(documents), project.root, project.style_dirs, rel
    )
    if len(sheets) < FRESH_WORKERS_FROM:
        first = next(iter(documents.values()))[0]
        parse_styles_once(first, project.root, project.style_dirs)  # inherited by the forks
        return RenderPool(task, jobs, DOCUMENT_TIMEOUT, 0)

    def heavy(name: str) -> bool:
        return len(documents[name][0]) > HEAVY

    return RenderPool(task, jobs, DOCUMENT_TIMEOUT, 0, True, RECYCLE_ABOVE_MB, heavy)


def lay_out_document(
    documents: Mapping[str, tuple[str, dict[str, Any]]],
    root: Path,
    style_dirs: tuple[Path, ...],
    rel: str,
    name: str,
) -> Outcome:
    """A worker's task: lay out one document (a module's function: fresh workers unpickle it)."""
    html, options = documents[name]
    result = render_pdf(
        html, project_dir=root, style_dirs=style_dirs, rel=rel, options=options, shared_styles=True
    )
    return result, [], None
