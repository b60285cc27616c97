"""Reading facts back from finished PDFs: text per page and by position, links, outline, labels.

Tests check collections from the PDF alone, the way a reader or a print shop would see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader


@dataclass(frozen=True)
class Run:
    """A piece of text and where it starts on the page (PDF units, origin bottom-left)."""

    text: str
    x: float
    y: float


_RUNS: dict[int, tuple[Any, list[Run]]] = {}


def runs(page: Any) -> list[Run]:
    """Text runs of a page with their positions (extracted once per page object)."""
    cached = _RUNS.get(id(page))
    if cached is not None and cached[0] is page:
        return cached[1]
    found: list[Run] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        found.append(Run(text, x, y))

    page.extract_text(visitor_text=visit)
    _RUNS[id(page)] = (page, found)
    return found


def text_in(page: Any, rect: tuple[float, float, float, float]) -> str:
    """Text whose start lies inside ``rect`` (x0, y0, x1, y1), in reading order."""
    x0, y0, x1, y1 = sorted(rect[::2])[0], sorted(rect[1::2])[0], max(rect[::2]), max(rect[1::2])
    inside = [r for r in runs(page) if x0 - 1 <= r.x <= x1 + 1 and y0 - 3 <= r.y <= y1 + 3]
    return " ".join(r.text.strip() for r in sorted(inside, key=lambda r: (-r.y, r.x)))


def footer_number(page: Any) -> str:
    """The page number printed at the bottom right of a page ('' if none)."""
    footer = [r for r in runs(page) if 0 < r.y < 45]
    if not footer:
        return ""
    rightmost = max(footer, key=lambda r: r.x)
    return rightmost.text.split()[-1]


@dataclass(frozen=True)
class Link:
    """An internal link: where it is, what text it covers, and the page it leads to."""

    page: int
    rect: tuple[float, float, float, float]
    text: str
    target: int


def internal_links(reader: PdfReader, page_index: int) -> list[Link]:
    """Every link annotation of a page that jumps inside the document."""
    names = reader.named_destinations
    page = reader.pages[page_index]
    links: list[Link] = []
    for annotation in page.get("/Annots", []) or []:
        annotation = annotation.get_object()
        dest = annotation.get("/Dest")
        if dest is None:
            continue
        if isinstance(dest, str):
            target = reader.get_destination_page_number(names[str(dest)])
        else:
            target = reader.get_page_number(dest[0].get_object())
        rect = tuple(float(v) for v in annotation["/Rect"])
        links.append(Link(page_index, rect, text_in(page, rect), target))  # type: ignore[arg-type]
    return links


def outline_pages(reader: PdfReader) -> list[tuple[int, str, int]]:
    """Outline entries as (depth, title, page index), depth-first."""
    result: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                result.append((depth, str(item.title), reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return result
