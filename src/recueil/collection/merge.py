"""Merging a collection: sheet renders first, then generated pages, stamps and destinations.

The sheets are most of a collection's pages, and copying them does not depend on the generated
parts: their order is fixed before any page number is known. So they are copied while worker
processes lay the frame out (``copy_next_sheet`` is the pool's idle step, assemble.py), on the
core the main process would otherwise leave idle, and the frame's pages are inserted between
them once it is final. The order of operations on the writer never depends on timing (every
sheet is copied, in order, before anything else is added), so the file is the same however
many sheets were copied early.

Memory stays proportional to the output (compact.py): each sheet's objects become bytes once
its pages are copied and its links finished; pages and the resources stamping edits stay live.
What the renders have in common (font programs, pictograms, images) is stored once
(sharing.py), and the file is written with its small objects packed together (packing.py).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence, Set
from pathlib import Path
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import Fit, NameObject, NumberObject, TextStringObject

from recueil.collection import render_marks
from recueil.collection.compact import Spool, serialise_copied, settle_links
from recueil.collection.frame import Frame
from recueil.collection.packing import PackedWriter
from recueil.collection.sharing import Sharing
from recueil.markup.fragment import GOTO
from recueil.render.increment import LazyReader as PdfReader  # parses only what is copied
from recueil.render.pagecontent import form_of, stamp
from recueil.render.weasy import RenderResult

#: a named destination: name, page of the output (its object), left and top
Destination = tuple[str, Any, tuple[float, float]]


class Merger:
    """One collection's output file, built in two stages: sheets, then the rest.

    ``sheets`` are the slugs in the order the collection prints them; ``printable`` marks every
    link printable (PDF/A, editions); what is final waits in a temporary file in
    ``spool_folder`` (compact.Spool).
    """

    def __init__(
        self,
        renders: Mapping[str, RenderResult],
        sheets: Sequence[str],
        printable: bool,
        spool_folder: Path | None = None,
        share_fonts: bool = True,
    ):
        self.writer = PackedWriter()  # written with object streams (packing.py)
        #: fonts and streams the renders have in common, stored once (sharing.py)
        self.sharing = Sharing(self.writer, share_fonts)
        self.spool = Spool(spool_folder)
        self.renders = renders
        self.order = list(sheets)
        self.printable = printable
        # a sheet links only to sheets (goto/sheet-SLUG, markup.py): these are its targets
        self.sheet_anchors = {name for slug in sheets for name in renders[slug].anchors}
        self.pages: dict[str, list[Any]] = {}
        self.destinations: dict[str, list[tuple[str, int, tuple[float, float]]]] = {}
        self.outlines: dict[str, list[tuple[str, int]]] = {}

    def __enter__(self) -> Merger:
        return self

    def __exit__(self, *exc: object) -> None:
        """Remove the spool's file (the output is written by then, or abandoned)."""
        self.spool.close()

    def release(self) -> None:
        """Let go of the output's objects once it is written (at 1,000 sheets, some 100 MB
        that would otherwise stay through the structure tree, made from the written bytes)."""
        self.writer = PackedWriter()
        self.sharing = Sharing(self.writer, False)
        self.pages.clear()
        self.destinations.clear()
        self.outlines.clear()

    def copy_next_sheet(self) -> bool:
        """Copy the next sheet's pages; False once every sheet is copied."""
        if len(self.pages) == len(self.order):
            return False
        slug = self.order[len(self.pages)]
        writer = self.writer
        # one sheet at a time: its parsed objects are freed once its pages are copied
        reader = self.sharing.prepare(PdfReader(io.BytesIO(self.renders[slug].pdf)))
        objects_before = len(writer._objects)
        pages = [writer.add_page(page) for page in reader.pages]
        self.pages[slug] = pages
        self.destinations[slug] = render_marks.destinations(reader)
        self.outlines[slug] = render_marks.bookmarks(reader)
        settle_links(writer)
        for page in pages:
            _finish_links(page, self.sheet_anchors, self.printable)
        self.sharing.release(reader)
        serialise_copied(writer, objects_before, pages, self.spool)
        return True

    def finish(
        self,
        slots: Sequence[Any],
        frame: Frame,
        parts: Mapping[str, Any],
        overlay: Sequence[tuple[RenderResult, int]],
    ) -> PdfWriter:
        """Insert the generated pages and blanks, stamp the pages, declare destinations.

        ``slots`` is the final plan's (assemble.Slot), ``parts`` maps each generated part to
        (frame document, first page, page count), ``overlay`` gives each output page its
        overlay page (overlay.py).
        """
        while self.copy_next_sheet():
            pass
        printed = [slot.ref for slot in slots if slot.source == "sheet"]
        if printed != self.order:
            raise ValueError("the plan's sheets are not the sheets that were copied")
        writer = self.writer
        readers: list[PdfReader | None] = [
            self.sharing.prepare(PdfReader(io.BytesIO(document.pdf)))
            for document in frame.documents
        ]
        first_page = readers[0].pages[0] if readers[0] else None
        assert first_page is not None
        width, height = float(first_page.mediabox.width), float(first_page.mediabox.height)
        # every anchor of what is copied becomes a named destination (see _add_destinations)
        anchors = self.sheet_anchors | {n for d in frame.documents for n in d.anchors}
        # pypdf re-reads the page count on every reader.pages[i]: take each page list once
        frame_pages = [list(reader.pages) if reader else [] for reader in readers]
        frame_destinations: list[list[tuple[str, int, tuple[float, float]]] | None]
        frame_destinations = [None] * len(readers)
        # frame parts left to copy from each frame document: its reader goes with the last one
        remaining = Counter(parts[s.ref][0] for s in slots if s.source == "frame")
        destinations: list[Destination] = []
        stamps = Stamps(self.sharing, overlay)
        index = 0
        for slot in slots:
            if slot.source == "sheet":
                pages = self.pages[slot.ref]
                destinations += [
                    (name, pages[k], position) for name, k, position in self.destinations[slot.ref]
                ]
            elif slot.source == "blank":  # nothing printed, not even a number
                writer.insert_blank_page(width, height, index)
                index += 1
                continue
            else:
                number, first, _ = parts[slot.ref]
                reader = readers[number]
                assert reader is not None
                objects_before = len(writer._objects)
                pages = [
                    writer.insert_page(frame_pages[number][first + k], index + k)
                    for k in range(slot.count)
                ]
                if frame_destinations[number] is None:  # read once per frame document
                    frame_destinations[number] = render_marks.destinations(reader)
                destinations += [
                    (name, pages[k - first], position)
                    for name, k, position in frame_destinations[number] or []
                    if first <= k < first + slot.count
                ]
                settle_links(writer)
                for page in pages:
                    _finish_links(page, anchors, self.printable)
                remaining[number] -= 1
                if not remaining[number]:  # nothing more is copied from this reader
                    self.sharing.release(reader)
                    readers[number], frame_pages[number] = None, []
                serialise_copied(writer, objects_before, pages, self.spool)
            objects_before = len(writer._objects)
            for k, page in enumerate(pages):
                overlay_page = stamps.page(index + k)
                if overlay_page.get_contents() is not None:
                    form = form_of(writer, overlay_page)
                    stamp(writer, page, form, f"/RecueilStamp{index + k}")
            serialise_copied(writer, objects_before, pages, self.spool)
            index += len(pages)
        self.sharing.finish()
        _add_destinations(writer, destinations)
        return writer


class Stamps:
    """The overlay's pages (overlay.OverlayPage), each overlay document read only while its
    pages are used.

    A build's pages come in order, document after document; a finished document's reader,
    and what the writer remembers of it, are released, so that the whole overlay is never
    held parsed at once. (A preview's may come from documents in any order: a document met
    again is read again.)
    """

    def __init__(self, sharing: Sharing, overlay: Sequence[tuple[RenderResult, int]]):
        self.sharing = sharing
        self.overlay = overlay
        self.document: RenderResult | None = None
        self.reader: PdfReader | None = None
        self.pages: list[Any] = []

    def page(self, index: int) -> Any:
        """The overlay page of page ``index`` of the collection."""
        document, number = self.overlay[index]
        if document is not self.document:
            if self.reader is not None:
                self.sharing.release(self.reader)
            self.reader = self.sharing.prepare(PdfReader(io.BytesIO(document.pdf)))
            self.document, self.pages = document, list(self.reader.pages)
        return self.pages[number]


def _add_destinations(writer: PdfWriter, destinations: Sequence[Destination]) -> None:
    """Declare the named destinations (the first of a name wins), in one sorted name array.

    pypdf's add_named_destination_object inserts each name into the sorted array by a linear
    scan: quadratic, 1.3 s for the 4,800 names of 400 sheets. The objects are added in the same
    order and the array is sorted once, so the file is the same.
    """
    from pypdf.generic import Destination as PdfDestination

    seen: set[str] = set()
    entries: list[tuple[TextStringObject, Any]] = []
    array: Any = None
    for name, page, (left, top) in destinations:
        if name in seen:
            continue
        seen.add(name)
        fit = Fit.xyz(left, top, 0)
        target = PdfDestination(TextStringObject(name), page.indirect_reference, fit)
        reference = writer._add_object(target.dest_array)
        if array is None:  # created after the first destination, as pypdf does
            array = writer.get_named_dest_root()
        entries.append((TextStringObject(name), reference))
    entries.sort(key=lambda entry: str(entry[0]))
    for title, reference in entries:
        array.extend([title, reference])


def _finish_links(page: Any, names: Set[str], printable: bool) -> None:
    """Turn goto URIs into internal links (when their target exists) and mark links printable.

    Done as each part is copied, before its objects become bytes (compact.py): the targets
    are known beforehand, as every anchor of the frame and the sheets becomes a destination.
    """
    for annotation in page.get("/Annots", []) or []:
        annotation = annotation.get_object()
        # a tagged render's links point into its structure tree, which is not copied (pypdf
        # drops the pages' /StructParents likewise): the collection is untagged, consistently
        annotation.pop(NameObject("/StructParent"), None)
        if printable:
            annotation[NameObject("/F")] = NumberObject(4)  # PDF/A: annotations print
        action = annotation.get("/A")
        if action is None:
            continue
        action = action.get_object()
        uri = str(action.get("/URI", ""))
        if uri.startswith(GOTO):
            target = uri.removeprefix(GOTO)
            del annotation[NameObject("/A")]
            if target in names:
                annotation[NameObject("/Dest")] = TextStringObject(target)
