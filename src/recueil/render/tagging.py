"""Finishing WeasyPrint's structure tree before it is written: page furniture as artifacts.

WeasyPrint 70 tags a document (``pdf_tags``) but leaves two things a PDF/UA reader or validator
objects to. The running footer (a margin box) is marked as content whose structure elements are
kept out of the tree: assistive technology following the tree skips it, but the marked content
belongs to nothing, where PDF/UA wants page furniture marked as an artifact. A decorative image
(``{.decoratif}``, empty alternative text on purpose) becomes a ``Figure`` without ``/Alt``, which
PDF/UA forbids: it is an artifact too.

This runs as WeasyPrint's ``finisher``, on the document's objects before they are serialised:
marking content as an artifact is a change of two items of a page's operator list, not a parse
and rewrite of the finished file. An image without alternative text that is not marked
decorative stays a Figure without ``/Alt``: recueil reports it (a warning, an error in strict
builds and editions), and a check of the file still sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydyf  # type: ignore[import-untyped]

from recueil.markup.html_policy import DECORATIVE
from recueil.render.pdfa import PDFUA_XMP
from recueil.render.tag_notes import html_parents, notes_as_notes, write_id_tree

#: Changes with what this module does to WeasyPrint's tree: part of the cache keys of tagged
#: renders (sheets, frames), so that renders finished otherwise are not reused.
TAGGING_REVISION = (
    "tags:6 furniture artifacts, definition lists, link descriptions, no line spans, notes,"
    " ID tree, passage languages"
)
#: How furniture is marked: pagination artifacts (running footer), and images that say nothing.
PAGINATION = pydyf.Dictionary({"Type": "/Pagination"})


def finish_tags(document: Any, pdf: pydyf.PDF) -> None:
    """WeasyPrint finisher: untreed marked content and decorative figures become artifacts.

    Does nothing to an untagged document.
    """
    if "StructTreeRoot" not in pdf.catalog:
        return
    tree = _Tree(pdf)
    pages = pdf.page_references
    decorative = _decorative_boxes(document)
    artifacts: dict[int, dict[int, Any]] = {}  # page index → MCID → artifact properties
    for element in list(tree.reachable_elements()):
        if element.get("S") != "/Figure" or "Alt" in element:
            continue
        page = pages.index(element["Pg"])
        if _bbox(element) not in decorative.get(page, set()):
            continue
        for mcid in (kid for kid in element["K"] if isinstance(kid, int)):
            artifacts.setdefault(page, {})[mcid] = None
        tree.detach(element)
    _definition_lists(tree, document, pages)
    for page, mcid in tree.unreached_mcids():
        artifacts.setdefault(page, {}).setdefault(mcid, PAGINATION)
    _flatten_spans(tree, pages)
    for page, found in artifacts.items():
        content = tree.obj(tree.obj(pages[page])["Contents"])
        _mark_artifacts(content, found)
        tree.forget(page, found)
    tree.clear_unreached()
    parents = html_parents(document)
    _name_links(tree, document, parents)
    notes_as_notes(tree, document, parents)
    write_id_tree(tree)
    _identify_ua(pdf)


class _Tree:
    """The document's structure tree as pydyf objects, addressed by reference."""

    def __init__(self, pdf: pydyf.PDF):
        self.pdf = pdf
        self.root = self.obj(pdf.catalog["StructTreeRoot"])
        self.nums = self.obj(self.root["ParentTree"])["Nums"]
        self.reached: set[int] = set()
        stack = [self.obj(ref) for ref in self.root["K"]]
        while stack:
            element = stack.pop()
            if element.number in self.reached:
                continue
            self.reached.add(element.number)
            stack.extend(self._element_kids(element))

    def obj(self, reference: bytes | str) -> Any:
        """The object a reference ("12 0 R") names."""
        text = reference.decode() if isinstance(reference, bytes) else reference
        return self.pdf.objects[int(text.split()[0])]

    def _element_kids(self, element: Any) -> Iterator[Any]:
        for kid in element.get("K", ()):
            if isinstance(kid, (bytes, str)):
                target = self.obj(kid)
                if target.get("Type") != "/OBJR":
                    yield target

    def reachable_elements(self) -> Iterator[Any]:
        """Every element reached from the root, in object order (the order of creation)."""
        return (self.pdf.objects[number] for number in sorted(self.reached))

    def unreached_mcids(self) -> Iterator[tuple[int, int]]:
        """(page index, MCID) of marked content whose element is not in the tree."""
        for key, value in zip(self.nums[::2], self.nums[1::2], strict=True):
            if not isinstance(value, pydyf.Array):
                continue  # an annotation's entry
            for mcid, reference in enumerate(value):
                if reference != b"null" and self.obj(reference).number not in self.reached:
                    yield key, mcid

    def detach(self, element: Any) -> None:
        """Take an element (and what it holds) out of the tree."""
        parent = self.obj(element["P"])
        parent["K"][:] = [kid for kid in parent["K"] if kid != element.reference]
        stack = [element]
        while stack:
            current = stack.pop()
            self.reached.discard(current.number)
            stack.extend(self._element_kids(current))

    def point(self, page: int, mcid: int, reference: bytes) -> None:
        """The parent tree maps this MCID of the page to another element."""
        self.nums[2 * self.nums[::2].index(page) + 1][mcid] = reference

    def forget(self, page: int, mcids: dict[int, Any]) -> None:
        """The parent tree no longer maps these MCIDs (they are artifacts now)."""
        index = self.nums[::2].index(page)
        mapping = self.nums[2 * index + 1]
        for mcid in mcids:
            mapping[mcid] = b"null"

    def clear_unreached(self) -> None:
        """Empty the structure elements left outside the tree (written as ``<<>>``): no reader
        meets an element that claims a parent it is not a child of."""
        for number, element in enumerate(self.pdf.objects):
            if (
                number not in self.reached
                and isinstance(element, pydyf.Dictionary)
                and element.get("Type") == "/StructElem"
            ):
                element.clear()


def _mark_artifacts(stream: Any, found: dict[int, Any]) -> None:
    """Turn ``/Tag <</MCID n>> BDC`` into an artifact's marked content in a page's stream."""
    items = stream.stream
    for position, item in enumerate(items):
        if isinstance(item, pydyf.Dictionary) and item.get("MCID") in found:
            properties = found[item["MCID"]]
            items[position - 1] = "/Artifact"
            items[position] = properties if properties is not None else b""
            if properties is None:
                items[position + 1] = b"BMC"


def _flatten_spans(tree: _Tree, pages: tuple[bytes, ...]) -> None:
    """The text of an element is its own marked content, not a ``Span`` per line.

    WeasyPrint wraps each line of text in a ``Span`` element holding one MCID and nothing
    else: more than half of a sheet's elements, which say nothing a reader uses, and which a
    collection copies one by one (structure_tree.py). The MCID goes to the parent instead,
    and the parent tree says so; an HTML ``span`` (which holds elements) stays.
    """
    for element in list(tree.reachable_elements()):
        kids = element.get("K")
        if not kids or (element.get("S") == "/Span" and "Lang" not in element):
            continue  # a passage in another language (passage_lang.py) holds its text
        changed = False
        for position, kid in enumerate(kids):
            if isinstance(kid, int):
                continue
            span = tree.obj(kid)
            if (
                span.get("S") != "/Span"
                or set(span) != {"Type", "S", "K", "Pg", "P"}
                or len(span["K"]) != 1
                or not isinstance(span["K"][0], int)
                or span["Pg"] != element.get("Pg")
            ):
                continue
            mcid = span["K"][0]
            kids[position] = mcid
            tree.point(pages.index(span["Pg"]), mcid, element.reference)
            tree.reached.discard(span.number)
            changed = True
        if changed:
            element["K"] = pydyf.Array(kids)


def _definition_lists(tree: _Tree, document: Any, pages: tuple[bytes, ...]) -> None:
    """A definition list reads as terms and their definitions: ``LI`` (``Lbl`` the term,
    ``LBody`` its definitions), not every term and definition an item of its own.

    WeasyPrint makes each ``dt`` and ``dd`` an ``LI`` holding one ``LBody``, the shape it gives
    an item without a bullet too. The lists of that shape are matched, page by page and in
    the order WeasyPrint creates them (the box tree's, depth first), with the lists of the
    page's boxes that make it; a list is restructured only when it is a ``dl`` whose items
    match one for one, else it is left as WeasyPrint wrote it.
    """
    made: dict[int, list[tuple[Any, list[Any]]]] = {}
    for element in tree.reachable_elements():
        if element.get("S") != "/L" or "Pg" not in element:
            continue
        items = [tree.obj(kid) for kid in element["K"] if isinstance(kid, (bytes, str))]
        if items and all(
            item.get("S") == "/LI"
            and len(item["K"]) == 1
            and not isinstance(item["K"][0], int)
            and tree.obj(item["K"][0]).get("S") == "/LBody"
            for item in items
        ):
            made.setdefault(pages.index(element["Pg"]), []).append((element, items))
    for index, page in enumerate(document.pages):
        lists = list(_plain_lists(page._page_box))
        found = made.get(index, [])
        if len(lists) != len(found):
            continue
        for kinds, (element, items) in zip(lists, found, strict=True):
            if kinds and len(kinds) == len(items) and kinds[0] == "dt":
                _pair_terms(tree, element, items, kinds)


def _plain_lists(box: Any) -> Iterator[list[str]]:
    """In WeasyPrint's order, the lists of a page that it tags as items of one ``LBody``: a
    ``dl`` (its items' tags) and a list whose items have no bullet (no tags: not to change)."""
    box = getattr(box, "_box", box)  # an absolutely placed box
    tag = getattr(box, "element_tag", None) if getattr(box, "element", None) is not None else None
    children = list(getattr(box, "children", ()))
    if tag == "dl":
        kinds = [c.element_tag for c in children if c.element is not None]
        if kinds and set(kinds) <= {"dt", "dd"}:
            yield kinds
    elif tag in ("ul", "ol"):
        items = [c for c in children if c.element is not None and c.element_tag == "li"]
        if items and all(
            "list-item" not in c.style["display"] or c.style["list_style_type"] == "none"
            for c in items
        ):
            yield []
    for child in children:
        yield from _plain_lists(child)


def _pair_terms(tree: _Tree, element: Any, items: list[Any], kinds: list[str]) -> None:
    """Each term's ``LI`` gets its definitions' bodies; their own ``LI`` go."""
    kept: list[Any] = []
    term: Any = None
    for item, kind in zip(items, kinds, strict=True):
        body = tree.obj(item["K"][0])
        if kind == "dt":
            body["S"] = "/Lbl"
            term = item
            kept.append(item)
        else:
            body["P"] = term.reference
            term["K"].append(body.reference)
            tree.reached.discard(item.number)
    element["K"][:] = [item.reference for item in kept]


def _identify_ua(pdf: pydyf.PDF) -> None:
    """A tagged PDF/A render (an edition's sheet) says it is PDF/UA-1 as well: WeasyPrint writes
    one variant's identification, the pdf/ua-1 variant (other sheets) writes its own."""
    if "Metadata" not in pdf.catalog:
        return
    metadata = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]
    packet = b"".join(part for part in metadata.stream if isinstance(part, bytes))
    if b"pdfuaid" in packet or b"</rdf:RDF>" not in packet:
        return
    claim = PDFUA_XMP.encode()
    metadata.stream = [packet.replace(b"</rdf:RDF>", claim + b"</rdf:RDF>", 1)]


def _name_links(tree: _Tree, document: Any, parents: dict[Any, Any]) -> None:
    """Links are Link elements, described by their text.

    WeasyPrint puts the annotation of a link's last fragment under an anonymous box's
    ``NonStruct`` when the link ends a line, and gives each annotation its target as
    ``/Contents`` ("goto/sheet-…", "HDF-2022-003--fn-1"): a reader hears the link's words
    instead, or its title (a footnote's way back), or "Note 1" for a footnote call.
    """
    for element in tree.reachable_elements():
        if element.get("S") == "/Link":
            continue
        for kid in element.get("K", ()):
            if isinstance(kid, (bytes, str)) and tree.obj(kid).get("Type") == "/OBJR":
                element["S"] = "/Link"
    for page in document.pages:
        for box in _descendants(page._page_box):
            annotation = getattr(box, "link_annotation", None)
            if annotation is None or box.element is None:
                continue
            link = _link_element(box.element, parents)
            words = " ".join("".join(link.itertext()).split())
            title = link.attrib.get("title", "").strip()
            if title:
                words = title
            elif words.isdigit():
                words = f"Note {words}"
            if words:
                annotation["Contents"] = pydyf.String(words)


def _link_element(element: Any, parents: dict[Any, Any]) -> Any:
    """The ``a`` element a box belongs to (the box of a ``sup`` inside a link has a link
    annotation of its own)."""
    current = element
    while current is not None and current.tag != "a":
        current = parents.get(current)
    return element if current is None else current


def _bbox(element: Any) -> tuple[float, ...]:
    attributes = element.get("A") or {}
    return tuple(round(float(v), 2) for v in attributes.get("BBox", ()))


def _decorative_boxes(document: Any) -> dict[int, set[tuple[float, ...]]]:
    """Page index → content boxes of the images marked decorative, as WeasyPrint writes a
    Figure's ``/BBox`` (how a Figure is told to come from one of them)."""
    from weasyprint.formatting_structure import boxes  # only where laid out (see weasy.py)

    found: dict[int, set[tuple[float, ...]]] = {}
    for index, page in enumerate(document.pages):
        for box in _descendants(page._page_box):
            element = getattr(box, "element", None)
            if not isinstance(box, boxes.ReplacedBox) or element is None:
                continue
            if DECORATIVE in element.attrib.get("class", "").split():
                x, y = box.content_box_x(), box.content_box_y()
                rect = (x, y, x + box.width, y + box.height)
                found.setdefault(index, set()).add(tuple(round(float(v), 2) for v in rect))
    return found


def _descendants(box: Any) -> Iterator[Any]:
    stack = [box]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(getattr(current, "children", ()))
