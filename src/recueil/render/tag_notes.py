"""Footnotes as ``Note`` elements, and the ID tree that element IDs require.

WeasyPrint tags an HTML element by its name: the footnotes Python-Markdown writes (an ``ol`` in
``div.footnote``) become a list, each note an ``LI``. PDF/UA-1 (7.9) wants a note tagged
``Note`` with an ``/ID`` (Matterhorn 19-003), so that assistive technology can announce it as a
note and tie it to its call. A note is found from its way back to the text: the
``footnote-backref`` link, whose annotation the tree holds through a ``Link`` element; the
``LI`` above that link is the note. Its ``/ID`` is the ``li``'s own id (``SLUG--fn-1``), unique
in a sheet; a collection prefixes it with the sheet (collection/tree_parts.py).

ISO 32000-1 (14.7.2) requires an ``/IDTree`` in the structure tree root as soon as one element
has an ``/ID``, and WeasyPrint gives IDs to table header cells without writing one; it is
written here, from every element of the tree that has an ID.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydyf  # type: ignore[import-untyped]

#: the class Python-Markdown gives the link from a footnote back to its call
BACKREF = "footnote-backref"


def html_parents(document: Any) -> dict[Any, Any]:
    """Each element of the laid-out document's HTML → its parent element."""
    parents: dict[Any, Any] = {}
    page_box = document.pages[0]._page_box if document.pages else None
    html = (
        next((b.element for b in page_box.children if b.element is not None), None)
        if page_box is not None
        else None
    )
    for parent in html.iter() if html is not None else ():
        for child in parent:
            parents[child] = parent
    return parents


def notes_as_notes(tree: Any, document: Any, parents: dict[Any, Any]) -> None:
    """Each footnote's ``LI`` becomes a ``Note`` with the note's id; a list that held only
    notes becomes a ``Div`` (a note is not a list item)."""
    ids = dict(_backref_annotations(document, parents))
    if not ids:
        return
    lists: dict[bytes, Any] = {}
    for element in list(tree.reachable_elements()):
        for kid in element.get("K", ()):
            if isinstance(kid, int):
                continue
            target = tree.obj(kid)
            if target.get("Type") != "/OBJR" or target["Obj"] not in ids:
                continue
            item = _enclosing(tree, element, "/LI")
            if item is None:
                continue
            item["S"] = "/Note"
            item["ID"] = pydyf.String(ids[target["Obj"]])
            for part in item["K"]:
                if not isinstance(part, int) and tree.obj(part).get("S") == "/LBody":
                    tree.obj(part)["S"] = "/Div"
            parent = tree.obj(item["P"])
            lists[parent.reference] = parent
    for parent in lists.values():
        kids = [tree.obj(k) for k in parent["K"] if not isinstance(k, int)]
        if parent.get("S") == "/L" and all(k.get("S") == "/Note" for k in kids):
            parent["S"] = "/Div"


def write_id_tree(tree: Any) -> None:
    """The structure tree root's ``/IDTree``: every element ID, sorted, → its element."""
    named = sorted(
        (element["ID"].string, element.reference)
        for element in tree.reachable_elements()
        if isinstance(element.get("ID"), pydyf.String)
    )
    if not named:
        return
    names = pydyf.Array()
    for value, reference in named:
        names.extend([pydyf.String(value), reference])
    tree.root["IDTree"] = pydyf.Dictionary({"Names": names})


def _backref_annotations(document: Any, parents: dict[Any, Any]) -> Iterator[tuple[Any, str]]:
    """(annotation reference, the note's id) for every way back from a footnote."""
    for page in document.pages:
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            stack.extend(getattr(box, "children", ()))
            annotation = getattr(box, "link_annotation", None)
            element = getattr(box, "element", None)
            if annotation is None or element is None:
                continue
            link = element
            while link is not None and link.tag != "a":
                link = parents.get(link)
            if link is None or BACKREF not in link.attrib.get("class", "").split():
                continue
            item = parents.get(link)
            while item is not None and item.tag != "li":
                item = parents.get(item)
            if item is not None and item.attrib.get("id"):
                yield annotation.reference, item.attrib["id"]


def _enclosing(tree: Any, element: Any, role: str) -> Any:
    """The nearest element of ``role`` holding ``element`` (itself included), or None."""
    current = element
    while current is not None and current.get("S") != role:
        parent = current.get("P")
        current = tree.obj(parent) if parent is not None else None
        if current is not None and current.get("Type") == "/StructTreeRoot":
            return None
    return current
