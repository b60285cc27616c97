"""Where a notice's PDF is: its file on disk (for its size and pages) and its public address.

A record describes a published file: a build's (``build/sheets/SLUG.pdf``, served by the web
catalogue at ``fiches/SLUG.pdf``) or an edition's (``editions/VERSION/sheets/SLUG.pdf``). The
caller says which by choosing the layout; the edition stage and the command line pass an
edition's folder, so this module never needs to know what an edition is.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote


@dataclass(frozen=True)
class PdfFile:
    """One PDF as a record sees it: its address, size and pages (None when unknown)."""

    url: str = ""
    size: int | None = None
    pages: int | None = None


@dataclass(frozen=True)
class Layout:
    """Where the PDFs of sheets and collections are, on disk and on the web."""

    #: the folder holding sheets/ and collections/ (a build folder or an edition's)
    folder: Path
    #: the public address of the web catalogue ("" when unknown), ending with '/'
    base_url: str = ""
    #: the path of ``folder`` under the catalogue's address: "" for a build, where sheets are
    #: at fiches/ and collections at recueils/; "editions/VERSION/" for an edition
    web_folder: str = ""

    def sheet(self, slug: str) -> PdfFile:
        """The PDF of a sheet."""
        return self._file("sheets", "fiches", slug)

    def collection(self, name: str) -> PdfFile:
        """The PDF of a collection."""
        return self._file("collections", "recueils", name)

    def sheet_page(self, slug: str) -> str:
        """The web page of a sheet ("" when the address is unknown)."""
        return f"{self.base_url}fiches/{quote(slug)}" if self.base_url else ""

    def collection_page(self, name: str) -> str:
        """The web page of a collection ("" when the address is unknown)."""
        return f"{self.base_url}recueils/{quote(name)}" if self.base_url else ""

    def _file(self, folder: str, served: str, name: str) -> PdfFile:
        path = self.folder / folder / f"{name}.pdf"
        size, pages = pdf_facts(path)
        if not self.base_url:
            url = ""
        elif self.web_folder:
            url = f"{self.base_url}{self.web_folder}{folder}/{quote(name)}.pdf"
        else:
            url = f"{self.base_url}{served}/{quote(name)}.pdf"
        return PdfFile(url, size, pages)


def with_slash(url: str) -> str:
    """An address to put paths after: '' stays '', anything else ends with '/'."""
    return url if not url or url.endswith("/") else url + "/"


_FACTS: dict[tuple[str, int, int], int | None] = {}
_FACTS_LOCK = threading.Lock()


def pdf_facts(path: Path) -> tuple[int | None, int | None]:
    """Size in bytes and number of pages of a PDF, (None, None) when there is none.

    Pages are counted once per version of a file (its size and modification time), since the
    web catalogue asks for them on every harvest.
    """
    try:
        info = os.stat(path)
    except OSError:
        return None, None
    key = (str(path), info.st_size, info.st_mtime_ns)
    with _FACTS_LOCK:
        if key in _FACTS:
            return info.st_size, _FACTS[key]
    from pypdf import PdfReader  # here: the web server lists records without reading PDFs
    from pypdf.errors import PyPdfError

    try:
        pages: int | None = len(PdfReader(path).pages)
    except (OSError, PyPdfError, ValueError):
        pages = None  # being replaced, or not a PDF: the size alone is still true
    with _FACTS_LOCK:
        if len(_FACTS) > 10_000:
            _FACTS.clear()
        _FACTS[key] = pages
    return info.st_size, pages
