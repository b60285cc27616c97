"""One structure tree for an assembled collection, from the trees of the documents it is made of.

pypdf copies pages without their structure: a collection made of tagged sheet renders and a
tagged frame was untagged. The pages' content streams are copied unchanged, so their marked
content keeps its MCIDs; what is lost is the tree that gives those MCIDs a meaning, and the
numbers (``/StructParents``, ``/StructParent``) that lead from pages and links to it. This
module rebuilds them after the collection is written, as an incremental update of its bytes
(render/increment.py): the source documents' elements are copied under one ``Document``, in
the order of the pages, each sheet as a ``Sect`` holding its own elements, the parent tree
renumbered for the collection's pages and links.

Headings form one hierarchy: the generated parts (cover, contents, dividers, indexes,
colophon) keep their H1; when the collection has dividers, a sheet's headings go one level
down (its title is an H2 under its divider's H1). The contents' lists become ``TOC`` and
``TOCI``. Element IDs (table header cells) are prefixed by their document so that they stay
unique. What the assembly stamps (page numbers, running headers) is marked as an artifact by
pagecontent.py; blank pages have no content.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recueil.collection.tree_builder import Run, TreeBuilder, Untagged
from recueil.collection.tree_copies import RunSources, SheetTrees, add_sheet
from recueil.render.increment import IncrementalUpdate, LazyReader

__all__ = ["Run", "runs_of", "tag_assembled", "tag_collection"]


def runs_of(slots: Sequence[Any], parts: Mapping[str, tuple[int, int, int]]) -> list[Run]:
    """The collection's pages as runs of source pages, from the plan's slots (as merge.py
    places them: a sheet's pages from its first, a part's from where it starts in its frame
    document, a blank page from nowhere)."""
    found: list[Run] = []
    index = 0
    for slot in slots:
        if slot.source == "sheet":
            found.append(Run(f"sheet:{slot.ref}", 0, slot.count, index, slot.ref))
        elif slot.source == "frame":
            number, first, _ = parts[slot.ref]
            found.append(Run(f"frame:{number}", first, slot.count, index, slot.ref))
        index += slot.count if slot.source != "blank" else 1
    return found


def tag_assembled(
    pdf: bytes,
    slots: Sequence[Any],
    parts: Mapping[str, tuple[int, int, int]],
    renders: Mapping[str, Any],
    frame: Sequence[Any],
    *,
    grouped: bool,
    title: str,
    trees: Path | None = None,
) -> bytes:
    """``tag_collection`` for an assembly: its plan's slots and parts, the sheets' renders and
    the frame's documents (RenderResults); ``grouped`` when the collection has dividers;
    ``trees``, where the sheets' copies are kept between assemblies (tree_copies.py)."""
    runs = runs_of(slots, parts)
    sources = RunSources(
        {
            run.key: (
                renders[run.part]
                if run.key.startswith("sheet:")
                else frame[int(run.key.removeprefix("frame:"))]
            )
            for run in runs
        }
    )
    shift = 1 if grouped else 0
    return tag_collection(pdf, runs, sources, sheet_shift=shift, title=title, trees=trees)


def tag_collection(
    pdf: bytes,
    runs: Sequence[Run],
    sources: Mapping[str, bytes],
    *,
    sheet_shift: int,
    title: str,
    trees: Path | None = None,
) -> bytes:
    """The collection ``pdf`` with one structure tree made of its sources' trees.

    ``sources`` maps each run's key to the source's bytes; ``sheet_shift`` is how many levels
    a sheet's headings go down. A source without a tree (an untagged render) leaves the whole
    collection untagged, as before: a tree that reaches only part of the content would claim
    what the file is not.
    """
    reader = LazyReader(io.BytesIO(pdf))
    update = IncrementalUpdate(pdf, reader)
    pages = [page.indirect_reference for page in reader.pages]
    builder = TreeBuilder(update, pages, sources, sheet_shift)
    recordings = SheetTrees(trees)
    try:
        for run in runs:
            if run.key.startswith("sheet:"):
                add_sheet(builder, run, sources, recordings)
            else:
                builder.add_run(run)
    except Untagged:
        return pdf
    builder.finish(title)
    return update.write(packed=True)
