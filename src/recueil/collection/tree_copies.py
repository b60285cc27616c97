"""A sheet's structure elements, copied once and replayed with new numbers in later assemblies.

Copying a sheet's tree into a collection (tree_builder.py) reads its render again and rewrites
each element: at 400 sheets, a third of a rebuild after one edit, for 399 sheets whose elements
come out the same, but for their object numbers. A sheet's copy is therefore recorded with
placeholder numbers (:class:`Recorder`): its new objects counted from ``LOCAL``, its pages from
``PAGE``, its links from ``LINK``, the collection's ``Document`` as ``DOCUMENT``. Replaying it
(:func:`replay`) gives each placeholder its number in this collection with one substitution,
and the collection's bytes are those a direct copy writes (tested). Recordings are kept in the
build folder by the render's hash, its slug and the heading shift (:class:`SheetTrees`).

A recording is replayed only when the collection's pages hold as many links as the render's
(the merge keeps them all); otherwise the sheet is copied directly, as a frame part always is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf.generic import IndirectObject, PdfObject, StreamObject

from recueil.collection import tree_parts
from recueil.collection.tree_builder import Run, TreeBuilder
from recueil.core.atomic import write_atomic
from recueil.core.cache_prune import mark_used, note_written
from recueil.render.cache import pdf_digest
from recueil.render.increment import IncrementalUpdate, Written
from recueil.render.weasy import RenderResult

#: changes when what a recording holds, or how it is made, changes
REVISION = "1"
#: placeholders: 13-digit object numbers, which no collection reaches
SPAN = 10**12
LOCAL, PAGE, LINK, DOCUMENT = 1 * SPAN, 2 * SPAN, 3 * SPAN, 4 * SPAN
_PLACEHOLDER = re.compile(rb"(\d{13}) 0 R")
#: strings as pypdf writes them (parentheses inside escaped), and hexadecimal strings
_STRING = re.compile(rb"\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>", re.S)


@dataclass(frozen=True)
class SheetTree:
    """A sheet's recorded copy: everything in placeholder numbers."""

    objects: list[bytes]  # new objects, the first (LOCAL) being the sheet's Sect
    links: list[int]  # links listed on each page of the render, page by page
    arrays: list[bytes | None]  # each page's parent-tree array (None: none)
    linked: list[tuple[int, int]]  # (link placeholder, element placeholder), in order
    ids: dict[str, int]  # element ID → placeholder

    def to_json(self) -> bytes:
        def text(data: bytes) -> str:
            return data.decode("latin-1")  # every byte to one character and back

        return json.dumps(
            {
                "objects": [text(o) for o in self.objects],
                "links": self.links,
                "arrays": [None if a is None else text(a) for a in self.arrays],
                "linked": self.linked,
                "ids": self.ids,
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> SheetTree:
        found = json.loads(data)
        return cls(
            [o.encode("latin-1") for o in found["objects"]],
            [int(n) for n in found["links"]],
            [None if a is None else a.encode("latin-1") for a in found["arrays"]],
            [(int(a), int(b)) for a, b in found["linked"]],
            {str(k): int(v) for k, v in found["ids"].items()},
        )


class _Scratch(IncrementalUpdate):
    """An update of no document: numbers from LOCAL, objects kept to be serialised."""

    def __init__(self) -> None:
        self.data = b""
        self.next = LOCAL
        self.objects: dict[int, PdfObject] = {}
        self.copies: dict[tuple[int, int], IndirectObject] = {}


class Recorder(TreeBuilder):
    """Copies one sheet's run as a collection would, into placeholder numbers."""

    def __init__(self, source: bytes, run: Run, sheet_shift: int):
        scratch = _Scratch()
        pages = [IndirectObject(PAGE + k, 0, None) for k in range(run.count)]
        super().__init__(scratch, pages, {run.key: source}, sheet_shift)
        scratch.objects.clear()  # the builder's own root and document are not the sheet's
        scratch.next = LOCAL
        self.document = IndirectObject(DOCUMENT, 0, None)
        self.link_counts: list[int] = []
        self.arrays: list[Any] = []

    def _map_annotations(self, run: Run, source_pages: list[Any]) -> None:
        """Links get placeholders by their position on the pages, in order."""
        position = 0
        for page in source_pages:
            theirs = tree_parts.listed_annotations(page)
            self.link_counts.append(len(theirs))
            for source_ref in theirs:
                if isinstance(source_ref, IndirectObject):
                    self.copies[source_ref.idnum] = IndirectObject(LINK + position, 0, None)
                position += 1

    def _parent_tree(self, source: Any, source_pages: list[Any], run: Run) -> None:
        self.arrays = self._page_arrays(source, source_pages)

    def record(self, run: Run) -> SheetTree | None:
        """The run copied (None: it holds something a recording does not: a stream)."""
        self.add_run(dataclasses.replace(run, start=0))
        objects = self.update.objects
        numbers = sorted(objects)
        if numbers != list(range(LOCAL, LOCAL + len(numbers))):
            return None
        if any(isinstance(objects[n], StreamObject) for n in numbers):
            return None
        written = [Written(objects[n]).data for n in numbers]
        if not all(replayable(data) for data in written):
            return None
        return SheetTree(
            written,
            self.link_counts,
            [None if a is None else Written(a).data for a in self.arrays],
            [(link.idnum, element.idnum) for link, element in self.links],
            {key: ref.idnum for key, ref in self.ids.items()},
        )


def replayable(data: bytes) -> bool:
    """Whether every placeholder-like reference of an object is a reference, none inside a
    text (an alternative text reading "1000000000000 0 R" would be renumbered)."""
    return len(_PLACEHOLDER.findall(data)) == len(_PLACEHOLDER.findall(_STRING.sub(b"", data)))


def replay(builder: TreeBuilder, run: Run, tree: SheetTree) -> bool:
    """Add a recorded sheet to ``builder``'s tree (False: its links do not fit, nothing done)."""
    pages = builder.pages[run.start : run.start + run.count]
    if len(pages) != len(tree.links) or len(tree.arrays) != len(pages):
        return False
    links: list[IndirectObject] = []
    for page, count in zip(pages, tree.links, strict=True):
        listed = tree_parts.listed_annotations(page.get_object())
        if len(listed) != count or not all(isinstance(a, IndirectObject) for a in listed):
            return False
        links += listed
    base = int(builder.update.next)
    builder.update.next += len(tree.objects)
    document = int(builder.document.idnum)

    def number(placeholder: int) -> int:
        kind, index = divmod(placeholder, SPAN)
        if kind == 1:
            return base + index
        if kind == 2:
            return int(pages[index].idnum)
        if kind == 3:
            return int(links[index].idnum)
        return document

    def renumbered(data: bytes) -> bytes:
        return _PLACEHOLDER.sub(lambda m: b"%d 0 R" % number(int(m[1])), data)

    for k, data in enumerate(tree.objects):
        builder.update.objects[base + k] = Written(renumbered(data))
    builder.kids.append(IndirectObject(base, 0, None))
    builder.ids.update({key: IndirectObject(number(n), 0, None) for key, n in tree.ids.items()})
    arrays = [None if a is None else Written(renumbered(a)) for a in tree.arrays]
    linked = [
        (IndirectObject(number(a), 0, None), IndirectObject(number(e), 0, None))
        for a, e in tree.linked
    ]
    builder.number_run(run, arrays, linked)
    return True


class RunSources(Mapping[str, bytes]):
    """Each run's source PDF (a sheet's render, a frame document), read when it is asked for.

    A sheet's render kept in the cache stays on disk until its tree is copied (reading the
    1,000 renders of a collection at once held some 90 MB), and a replayed tree needs only the
    hash its render was stored with (``digest``), not its bytes."""

    def __init__(self, documents: Mapping[str, RenderResult]):
        self.documents = documents

    def __getitem__(self, key: str) -> bytes:
        return self.documents[key].pdf

    def __iter__(self) -> Iterator[str]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    def digest(self, key: str) -> str:
        """SHA-256 of a source's bytes."""
        return pdf_digest(self.documents[key])


class SheetTrees:
    """Recordings by render and place, in ``folder`` (None: kept for this assembly only)."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    @staticmethod
    def key(render: str, run: Run, sheet_shift: int) -> str:
        """The recording's name: the render's SHA-256, the run and the heading shift."""
        return hashlib.sha256(
            f"{REVISION}\n{render}\n{run.key}\n{sheet_shift}".encode()
        ).hexdigest()

    def get(self, key: str) -> SheetTree | None:
        if self.folder is None:
            return None
        path = self.folder / key[:2] / f"{key}.json"
        try:
            tree = SheetTree.from_json(path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # absent, or not a recording: made again
        mark_used(path)  # what `recueil build` prunes by (cache_prune.py)
        return tree

    def put(self, key: str, tree: SheetTree) -> None:
        if self.folder is None:
            return
        path = self.folder / key[:2] / f"{key}.json"
        try:
            write_atomic(path, tree.to_json())
        except OSError:
            return  # a build folder that cannot be written keeps nothing
        note_written(path)


def add_sheet(
    builder: TreeBuilder, run: Run, sources: Mapping[str, bytes], trees: SheetTrees
) -> None:
    """Add a sheet's run to ``builder``: from its recording, made now when there is none
    (without a folder to keep recordings in, copied directly: the same bytes)."""
    if trees.folder is None:
        builder.add_run(run)
        return
    if isinstance(sources, RunSources):
        render = sources.digest(run.key)
    else:
        render = hashlib.sha256(sources[run.key]).hexdigest()
    key = SheetTrees.key(render, run, builder.sheet_shift)
    tree = trees.get(key)
    if tree is None:
        tree = Recorder(sources[run.key], run, builder.sheet_shift).record(run)
        if tree is not None:
            trees.put(key, tree)
    if tree is None or not replay(builder, run, tree):
        builder.add_run(run)
