"""One link annotation per clickable area, not one per box inside a link.

WeasyPrint gives every box inside an ``<a>`` (each span, the ``::before`` of a dot leader) the
link of the element, and writes one annotation for each: a contents entry of the collection
(the title, the territory, the leader, the page number) became five or six annotations over the
same rectangle, 10,500 in a 400-sheet collection of which some 3,000 are clickable areas of
their own. Each one is parsed, copied, tagged and written again when a collection is assembled,
and listed once more by a screen reader. An annotation whose rectangle lies inside an earlier
one of the same page with the same target adds nothing: it is dropped before the PDF is
written. WeasyPrint tags only the boxes whose annotation was written, so the structure tree
keeps one annotation per link element. A link broken over two lines keeps both rectangles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["drop_nested_links"]

#: rectangles are compared in CSS pixels; a box inside its link's line may be off by rounding
_SLACK = 0.5


def drop_nested_links(
    links: Sequence[tuple[str, str, Any, Any]],
) -> list[tuple[str, str, Any, Any]]:
    """``links`` (WeasyPrint's ``Page.links``: type, target, rectangle, box) without those
    whose rectangle lies inside an earlier kept one with the same type and target.

    WeasyPrint lists a box before the boxes inside it, so the outer area is the one kept.
    """
    kept: list[tuple[str, str, Any, Any]] = []
    areas: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    for link in links:
        link_type, target, rectangle, _ = link
        x1, y1, x2, y2 = rectangle
        inner = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
        same = areas.setdefault((link_type, target), [])
        if any(_inside(inner, outer) for outer in same):
            continue
        same.append(inner)
        kept.append(link)
    return kept


def _inside(
    inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]
) -> bool:
    return (
        inner[0] >= outer[0] - _SLACK
        and inner[1] >= outer[1] - _SLACK
        and inner[2] <= outer[2] + _SLACK
        and inner[3] <= outer[3] + _SLACK
    )
