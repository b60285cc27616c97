"""A render's bookmarks and named destinations, as the merge needs them (merge.py).

pypdf builds Destination objects for every bookmark and name, and finds each one's page by its
own means: about 3 ms a render, 1.2 s of a 400-sheet collection's assembly, for what WeasyPrint
writes in one plain shape (``/Dest [page /XYZ left top zoom]`` on each bookmark, a flat
``/Names`` array under ``/Dests``). These readers take that shape directly, and hand anything
else (actions, name trees with kids, other fits) to pypdf's reading, whose result they match
(tested on the sample's renders and generated parts).
"""

from __future__ import annotations

from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

#: (name, page number in the source, (left, top))
Mark = tuple[str, int, tuple[float, float]]


class _Unusual(Exception):
    """A shape these readers leave to pypdf."""


def bookmarks(reader: PdfReader) -> list[tuple[str, int]]:
    """The render's bookmarks and their children (not deeper) as (title, page), in order."""
    try:
        return _bookmarks(reader)
    except _Unusual:
        return _pypdf_bookmarks(reader)


def destinations(reader: PdfReader) -> list[Mark]:
    """The render's named destinations: name, page number and position."""
    try:
        return _destinations(reader)
    except _Unusual:
        return _pypdf_destinations(reader)


def _pages(reader: PdfReader) -> dict[int, int]:
    return {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages)}  # type: ignore[union-attr]


def _target(pages: dict[int, int], dest: Any) -> tuple[int, tuple[float, float]] | None:
    """A destination array's page and position (None: a page this document does not have)."""
    if not isinstance(dest, ArrayObject) or len(dest) != 5 or dest[1] != "/XYZ":
        raise _Unusual
    page = list.__getitem__(dest, 0)
    if not isinstance(page, IndirectObject):
        raise _Unusual
    left, top = (float(value or 0) for value in dest[2:4])
    number = pages.get(page.idnum)
    return None if number is None else (number, (left, top))


def _siblings(first: Any) -> list[DictionaryObject]:
    items, seen = [], set()
    node = first
    while node is not None:
        if not isinstance(node, IndirectObject) or node.idnum in seen:
            raise _Unusual  # a direct item or a loop: pypdf knows what to make of it
        seen.add(node.idnum)
        item = node.get_object()
        if not isinstance(item, DictionaryObject) or "/A" in item or "/Dest" not in item:
            raise _Unusual
        if not isinstance(item.get("/Title"), str):
            raise _Unusual
        items.append(item)
        node = item.raw_get("/Next") if "/Next" in item else None
    return items


def _bookmarks(reader: PdfReader) -> list[tuple[str, int]]:
    catalog: Any = reader.trailer["/Root"]
    if "/Outlines" not in catalog:
        return []
    outlines = catalog["/Outlines"].get_object()
    if "/First" not in outlines:
        return []
    pages = _pages(reader)
    found: list[tuple[str, int]] = []
    for item in _siblings(outlines.raw_get("/First")):
        children = _siblings(item.raw_get("/First")) if "/First" in item else []
        for entry in [item, *children]:
            target = _target(pages, entry["/Dest"])
            if target is not None:
                found.append((str(entry["/Title"]), target[0]))
    return found


def _destinations(reader: PdfReader) -> list[Mark]:
    catalog: Any = reader.trailer["/Root"]
    if "/Dests" in catalog:
        raise _Unusual  # the older form, beside the name tree
    names = catalog.get("/Names")
    tree = names.get_object().get("/Dests") if names is not None else None
    if tree is None:
        return []
    tree = tree.get_object()
    if set(tree) != {"/Names"}:
        raise _Unusual  # kids, limits: a real tree
    listed = list(list.__iter__(tree["/Names"].get_object()))
    pages = _pages(reader)
    by_name: dict[str, tuple[int, tuple[float, float]] | None] = {}
    for name, dest in zip(listed[::2], listed[1::2], strict=False):
        if not isinstance(name, str):
            raise _Unusual  # pypdf reads a name that is not text its own way
        by_name[str(name)] = _target(pages, dest.get_object())
    return [(name, t[0], t[1]) for name, t in by_name.items() if t is not None]


def _pypdf_bookmarks(reader: PdfReader) -> list[tuple[str, int]]:
    result: list[tuple[str, int]] = []
    for item in reader.outline:
        children = item if isinstance(item, list) else [item]
        for child in children:
            if isinstance(child, list):
                continue
            page = reader.get_destination_page_number(child)
            if page is not None:
                result.append((str(child.title), page))
    return result


def _pypdf_destinations(reader: PdfReader) -> list[Mark]:
    found: list[Mark] = []
    for name, dest in reader.named_destinations.items():
        page_number = reader.get_destination_page_number(dest)
        if page_number is not None:
            left = float(dest.get("/Left", 0) or 0)
            top = float(dest.get("/Top", 0) or 0)
            found.append((str(name), page_number, (left, top)))
    return found
