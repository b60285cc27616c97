"""A collection preview's new pages only: the pages whose fingerprint the author has not seen.

The collection preview (serve/preview.py) shows each page as an image named by its fingerprint
(render/page_prints.py: the source page's file and place, and what is stamped on it). After an
edit that keeps the page count, nearly every page is the one the preview already shows; merging
the whole collection again to draw three new pages took most of the second an update cost
(copying 26 sheets' pages and their resources). Once the plan, the frame and the overlay are
settled, the fingerprints are known without merging anything: this writes a small PDF of only
the pages whose fingerprint is new, each stamped as the collection stamps it, and the server
keeps drawing the other pages from the files it already has.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence, Set
from typing import Any

from pypdf import PdfWriter

from recueil.render.increment import LazyReader as PdfReader  # parses only what is copied
from recueil.render.pagecontent import form_of, stamp
from recueil.render.weasy import RenderResult


def changed_pages(
    runs: Sequence[Any],
    prints: Sequence[str],
    known: Set[str],
    renders: Mapping[str, RenderResult],
    frame_documents: Sequence[RenderResult],
    overlay: Sequence[RenderResult],
) -> tuple[bytes, tuple[int, ...]]:
    """The pages of the collection whose fingerprint is not in ``known``, in order, as one
    PDF, and their indices in the collection.

    ``runs`` place the collection's pages in their sources (structure_tree.runs_of); a page in
    no run is a blank page, which carries no stamp (as merge.py leaves it).
    """
    wanted = tuple(i for i, print_ in enumerate(prints) if print_ not in known)
    placed: dict[int, tuple[str, bytes, int]] = {}
    for run in runs:
        sheet = run.key.startswith("sheet:")
        source = renders[run.part] if sheet else frame_documents[int(run.key[6:])]
        for offset in range(run.count):
            placed[run.start + offset] = (run.key, source.pdf, run.first + offset)
    readers: dict[str, Any] = {}
    overlay_pages = _Overlay(overlay)
    writer = PdfWriter()
    blank: tuple[float, float] | None = None  # the frame's page size, as merge.py's blanks
    for index in wanted:
        if index not in placed:
            blank = blank or _size(frame_documents[0])
            writer.add_blank_page(*blank)
            continue
        key, pdf, number = placed[index]
        if key not in readers:
            readers[key] = PdfReader(io.BytesIO(pdf))
        page = writer.add_page(readers[key].pages[number])
        stamped = overlay_pages.page(index)
        if stamped.get_contents() is not None:
            stamp(writer, page, form_of(writer, stamped), f"/RecueilStamp{index}")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue(), wanted


def _size(document: RenderResult) -> tuple[float, float]:
    page = PdfReader(io.BytesIO(document.pdf)).pages[0]
    return float(page.mediabox.width), float(page.mediabox.height)


class _Overlay:
    """The page-number overlay's pages by collection index (one overlay page per page)."""

    def __init__(self, overlay: Sequence[RenderResult]):
        self.starts: list[int] = []
        start = 0
        for document in overlay:
            self.starts.append(start)
            start += document.page_count
        self.overlay = overlay
        self.readers: dict[int, Any] = {}

    def page(self, index: int) -> Any:
        part = max(k for k, start in enumerate(self.starts) if start <= index)
        if part not in self.readers:
            self.readers[part] = PdfReader(io.BytesIO(self.overlay[part].pdf))
        return self.readers[part].pages[index - self.starts[part]]
