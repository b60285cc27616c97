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


def footer_run(page: Any) -> Run | None:
    """The footer run that is the page number: rightmost, or in the left margin on a verso.

    The number ends the footer line, or in recto-verso sits in the outer margin: on a verso left
    of the footer's text, which starts at the 17 mm page margin.
    """
    footer = [r for r in runs(page) if 0 < r.y < 45]
    if not footer:
        return None
    margin = [r for r in footer if r.x < float(page.trimbox[0]) + 14 * 72 / 25.4]
    return margin[0] if margin else max(footer, key=lambda r: r.x)


def footer_number(page: Any) -> str:
    """The page number printed at the outer edge of the footer ('' if none)."""
    run = footer_run(page)
    return run.text.split()[-1] if run is not None else ""


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


def boxes(page: Any) -> dict[str, tuple[float, float, float, float]]:
    """MediaBox, BleedBox and TrimBox of a page as written in the file (None when absent)."""
    found = {}
    for name in ("/MediaBox", "/BleedBox", "/TrimBox"):
        value = page.get(name)
        found[name] = tuple(float(v) for v in value) if value is not None else None
    return found  # type: ignore[return-value]


@dataclass(frozen=True)
class Drawing:
    """What a page paints with paths, in default user space (PDF units, origin bottom-left).

    ``fills`` are filled rectangles (x0, y0, x1, y1), ``strokes`` stroked straight lines
    (x0, y0, x1, y1); clipping is ignored, so a fill reaches as far as it was painted.
    """

    fills: list[tuple[float, float, float, float]]
    strokes: list[tuple[float, float, float, float]]


def drawing(page: Any) -> Drawing:
    """Follow the page's content stream (q/Q/cm, re, m/l, f/S) and collect fills and strokes."""
    from pypdf.generic import ContentStream

    def apply(m: list[float], x: float, y: float) -> tuple[float, float]:
        return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])

    def times(a: list[float], b: list[float]) -> list[float]:
        return [
            a[0] * b[0] + a[1] * b[2],
            a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4],
            a[4] * b[1] + a[5] * b[3] + b[5],
        ]

    ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    saved: list[list[float]] = []
    rects: list[tuple[float, float, float, float]] = []
    lines: list[tuple[float, float, float, float]] = []
    point: tuple[float, float] | None = None
    found = Drawing([], [])
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"q":
            saved.append(ctm)
        elif operator == b"Q":
            ctm = saved.pop() if saved else ctm
        elif operator == b"cm":
            ctm = times([float(v) for v in operands], ctm)
        elif operator == b"re":
            x, y, w, h = (float(v) for v in operands)
            (ax, ay), (bx, by) = apply(ctm, x, y), apply(ctm, x + w, y + h)
            rects.append((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
        elif operator == b"m":
            point = apply(ctm, float(operands[0]), float(operands[1]))
        elif operator == b"l" and point is not None:
            end = apply(ctm, float(operands[0]), float(operands[1]))
            lines.append((*point, *end))
            point = end
        elif operator in (b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"):
            found.fills.extend(rects)
            rects, lines = [], []
        elif operator == b"S":
            found.strokes.extend(lines)
            rects, lines = [], []
        elif operator == b"n":
            rects, lines = [], []
    return found
