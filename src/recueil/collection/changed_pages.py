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

import hashlib
import io
from collections import OrderedDict
from collections.abc import Mapping, Sequence, Set
from typing import Any

from pypdf import PdfWriter

from recueil.render.increment import LazyReader as PdfReader  # parses only what is copied
from recueil.render.pagecontent import form_of, stamp
from recueil.render.weasy import RenderResult

#: parsed sources kept from one preview update to the next, by content: the worker process
#: lives on, and after an edit every source but the edited sheet is the one read last time
#: (parsing their objects was half the time these pages took to write)
_READERS: OrderedDict[bytes, Any] = OrderedDict()
#: sources kept: a collection's sheets and frame documents, with room for a second collection
KEPT_READERS = 80


def changed_pages(
    runs: Sequence[Any],
    prints: Sequence[str],
    known: Set[str],
    renders: Mapping[str, RenderResult],
    frame_documents: Sequence[RenderResult],
    overlay: Sequence[tuple[RenderResult, int]],
) -> tuple[bytes, tuple[int, ...]]:
    """The pages of the collection whose fingerprint is not in ``known``, in order, as one
    PDF, and their indices in the collection.

    ``runs`` place the collection's pages in their sources (structure_tree.runs_of); a page in
    no run is a blank page, which carries no stamp (as merge.py leaves it). ``overlay`` is the
    overlay page of each page (overlay.py).
    """
    wanted = tuple(i for i, print_ in enumerate(prints) if print_ not in known)
    placed: dict[int, tuple[str, bytes, int]] = {}
    for run in runs:
        sheet = run.key.startswith("sheet:")
        source = renders[run.part] if sheet else frame_documents[int(run.key[6:])]
        for offset in range(run.count):
            placed[run.start + offset] = (run.key, source.pdf, run.first + offset)
    readers: dict[str, Any] = {}
    writer = PdfWriter()
    blank: tuple[float, float] | None = None  # the frame's page size, as merge.py's blanks
    for index in wanted:
        if index not in placed:
            blank = blank or _size(frame_documents[0])
            writer.add_blank_page(*blank)
            continue
        key, pdf, number = placed[index]
        if key not in readers:
            readers[key] = reader_of(pdf)
        page = writer.add_page(readers[key].pages[number])
        document, number = overlay[index]
        stamped = reader_of(document.pdf).pages[number]
        if stamped.get_contents() is not None:
            stamp(writer, page, form_of(writer, stamped), f"/RecueilStamp{index}")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue(), wanted


def reader_of(pdf: bytes) -> Any:
    """A parsed PDF, the one parsed before when the same bytes were (the last KEPT_READERS).

    Copying a page into a writer clones its objects and leaves the reader as it was, so one
    reader serves any number of writers."""
    key = hashlib.blake2b(pdf, digest_size=16).digest()
    reader = _READERS.pop(key, None) or PdfReader(io.BytesIO(pdf))
    _READERS[key] = reader
    while len(_READERS) > KEPT_READERS:
        _READERS.popitem(last=False)
    return reader


def _size(document: RenderResult) -> tuple[float, float]:
    page = reader_of(document.pdf).pages[0]
    return float(page.mediabox.width), float(page.mediabox.height)
