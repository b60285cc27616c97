"""The checks a PDF/UA validator makes, over a finished file: what recueil claims, verified.

No veraPDF here (Java, not in the registries this project reaches): these are the machine-checkable
rules of the Matterhorn Protocol that recueil's documents can break, read from the file alone
with pypdf (and poppler's ``pdfinfo -struct-text`` for the reading order). Each problem is a
sentence naming the page or element and the checkpoint. ``problems`` returns none for a good
file; tests run it over every sample sheet and collection.

Checked, with the Matterhorn Protocol 1.02 checkpoint or the ISO 14289-1 (PDF/UA-1) clause as
veraPDF names its rules: marked and tagged (ISO 7.1; /MarkInfo, /StructTreeRoot); every
marked-content sequence with an MCID belongs to an element of the tree and the parent tree maps
it back to that element (the "content is tagged" rule, and the parent tree ISO 32000 14.7.4.4
wants); nothing painted (text, image, path, form) outside marked content [01-005]; no artifact
inside tagged content [01-003] and no tagged content inside an artifact [01-004]; ``/Lang``
[11-001]; XMP metadata with ``pdfuaid:part`` 1 and ``dc:title`` [06-001, 06-002, 06-003];
``DisplayDocTitle`` true [07-001, 07-002]; headings start at H1 and skip no level [14-002,
14-003]; every Figure has ``/Alt`` [13-004]; a table has header cells (recueil's own rule:
15-001 and 15-002 are human checks); an LI is a child of an L (16-xxx are human checks; this is
the part a machine sees); a link annotation is held by a Link element through an OBJR, its
``/StructParent`` leads back to that element, and it has ``/Contents`` [28-011, 28-012, ISO
7.18.5]; a page with annotations has ``/Tabs /S`` (ISO 7.18.3); a Note has an ``/ID`` [19-003],
no two elements share an ID [19-004], and the ``/IDTree`` maps each ID to its element (ISO
32000-1, 14.7.2).

Not checked (human judgement, or nothing recueil writes): whether artifacts are really furniture
and content really content [01-001, 01-002], the appropriateness of structure types [01-006],
role maps [02-xxx] (recueil uses standard types only), fonts [31-xxx] (WeasyPrint embeds and
maps every font; ``pdffonts`` would tell), the quality of alternative texts, the reading order
beyond what the tests assert with ``structure_text``, colour and contrast, forms, and optional
content.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject, IndirectObject

#: operators that paint: text showing, XObjects, paths, shadings, inline images
_PAINTING = {
    b"Tj",
    b"TJ",
    b"'",
    b'"',
    b"Do",
    b"f",
    b"F",
    b"f*",
    b"S",
    b"s",
    b"B",
    b"B*",
    b"b",
    b"b*",
    b"sh",
    b"BI",
    b"EI",
}
_HEADING = re.compile(r"^/H([1-6])$")


@dataclass
class _Walk:
    """What the structure tree says: elements in order, the MCIDs and annotations they own."""

    elements: list[Any] = field(default_factory=list)
    #: (page object number, MCID) → the element owning it
    owned: dict[tuple[int, int], Any] = field(default_factory=dict)
    #: annotation object number → the element owning it
    annotations: dict[int, Any] = field(default_factory=dict)


def problems(path: Path | str, *, claim_ua: bool = True) -> list[str]:
    """Every rule of those checked here that the PDF breaks (empty: none)."""
    reader = PdfReader(str(path))
    catalog: Any = reader.trailer["/Root"]
    found = list(_catalog_problems(reader, catalog, claim_ua))
    if "/StructTreeRoot" not in catalog:
        return found
    walk = _walk(catalog["/StructTreeRoot"])
    found += _element_problems(walk)
    found += _id_problems(walk, catalog["/StructTreeRoot"])
    parent_tree = _number_tree(catalog["/StructTreeRoot"].get("/ParentTree"))
    for number, page in enumerate(reader.pages, start=1):
        found += [f"page {number}: {p}" for p in _page_problems(reader, page, walk, parent_tree)]
    return found


def _catalog_problems(reader: PdfReader, catalog: Any, claim_ua: bool) -> Iterator[str]:
    if "/StructTreeRoot" not in catalog:
        yield "not tagged: no /StructTreeRoot (ISO 7.1)"
    if not (catalog.get("/MarkInfo") or {}).get("/Marked"):
        yield "/MarkInfo /Marked is not true (ISO 7.1)"
    if not str(catalog.get("/Lang", "")).strip():
        yield "no /Lang on the catalog [11-001]"
    if not (catalog.get("/ViewerPreferences") or {}).get("/DisplayDocTitle"):
        yield "/ViewerPreferences /DisplayDocTitle is not true [07-001, 07-002]"
    metadata = catalog.get("/Metadata")
    xmp = metadata.get_object().get_data().decode("utf-8", "replace") if metadata else ""
    if "<dc:title>" not in xmp:
        yield "no dc:title in the XMP metadata [06-001, 06-003]"
    if claim_ua and not re.search(r"pdfuaid:part(>|=\")1", xmp):
        yield "no pdfuaid:part 1 in the XMP metadata [06-002]"


def _kids(node: Any) -> list[Any]:
    kids = node.get("/K")
    if kids is None:
        return []
    kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
    return list(kids) if isinstance(kids, list) else [kids]


def _number(item: Any) -> int:
    return item.idnum if isinstance(item, IndirectObject) else id(item)


def _walk(root: Any) -> _Walk:
    walk = _Walk()
    stack: list[tuple[Any, Any]] = [(kid, None) for kid in reversed(_kids(root))]
    while stack:
        item, parent = stack.pop()
        if isinstance(item, int):  # an MCID of the parent, on the parent's page
            page = parent.get("/Pg")
            walk.owned[(_number(page), int(item)) if page else (-1, int(item))] = parent
            continue
        target = item.get_object()
        kind = target.get("/Type")
        if kind == "/MCR":
            page = target.get("/Pg") or parent.get("/Pg")
            walk.owned[(_number(page) if page else -1, int(target["/MCID"]))] = parent
        elif kind == "/OBJR":
            walk.annotations[_number(target.raw_get("/Obj"))] = parent
        elif "/S" in target:
            walk.elements.append(target)
            stack.extend((kid, target) for kid in reversed(_kids(target)))
    return walk


def _element_problems(walk: _Walk) -> Iterator[str]:
    level = 0
    for element in walk.elements:
        role = str(element["/S"])
        heading = _HEADING.match(role)
        if heading:
            current = int(heading[1])
            if level == 0 and current != 1:
                yield f"the first heading is {role}, not H1 [14-002]"
            elif current > level + 1:
                yield f"heading {role} after H{level}: a level is skipped [14-003]"
            level = current
        if role == "/Figure" and not str(element.get("/Alt", "")).strip():
            yield "a Figure without /Alt [13-004]"
        if role == "/Table" and not _has_header(element):
            yield "a Table without TH (header cells)"
        if role == "/LI" and str(element.get("/P", {}).get("/S", "")) != "/L":
            yield "an LI outside an L"
        if role == "/Note" and not str(element.get("/ID", "")).strip():
            yield "a Note without /ID [19-003]"


def _id_problems(walk: _Walk, root: Any) -> Iterator[str]:
    """Element IDs are unique [19-004] and the root's /IDTree maps each to its element (ISO
    32000-1, 14.7.2: required as soon as one element has an ID)."""
    seen: dict[str, Any] = {}
    for element in walk.elements:
        if "/ID" not in element:
            continue
        value = str(element["/ID"])
        if value in seen:
            yield f"the ID {value!r} names two elements [19-004]"
        seen[value] = element
    if not seen:
        return
    tree = _name_tree(root.get("/IDTree"))
    for value, element in seen.items():
        named = tree.get(value)
        if named is None or named.get_object() is not element:
            yield f"the ID {value!r} is not in the /IDTree, or names another element"


def _has_header(table: Any) -> bool:
    stack = list(_kids(table))
    while stack:
        kid = stack.pop()
        if isinstance(kid, int):
            continue
        target = kid.get_object()
        if target.get("/S") == "/TH":
            return True
        if "/S" in target:
            stack.extend(_kids(target))
    return False


def _name_tree(node: Any) -> dict[str, Any]:
    """A name tree (the ID tree) as a dict of references."""
    found: dict[str, Any] = {}
    if node is None:
        return found
    node = node.get_object()
    names = list(node.get("/Names") or [])
    for key, value in zip(names[::2], names[1::2], strict=True):
        found[str(key)] = value
    for kid in node.get("/Kids") or []:
        found.update(_name_tree(kid))
    return found


def _number_tree(node: Any) -> dict[int, Any]:
    """A number tree (the parent tree) as a dict."""
    found: dict[int, Any] = {}
    if node is None:
        return found
    node = node.get_object()
    nums = node.get("/Nums") or []
    for key, value in zip(nums[::2], nums[1::2], strict=True):
        found[int(key)] = value
    for kid in node.get("/Kids") or []:
        found.update(_number_tree(kid))
    return found


def _page_problems(
    reader: PdfReader, page: Any, walk: _Walk, parent_tree: dict[int, Any]
) -> Iterator[str]:
    page_number = _number(page.indirect_reference)
    mapping = parent_tree.get(int(page.get("/StructParents", -1)))
    mapping = mapping.get_object() if mapping is not None else None
    if page.get("/Annots"):
        if page.get("/Tabs") != "/S":
            yield "annotations but no /Tabs /S (ISO 7.18.3)"
        for annotation in page["/Annots"]:
            yield from _annotation_problems(annotation, walk, parent_tree)
    content = page.get_contents()
    if content is None:
        return
    owned = _Owned(page_number, mapping, walk)
    yield from _content_problems(reader, content, page.get("/Resources"), owned, [], 0)


@dataclass
class _Owned:
    """What a page's marked content must agree with: the tree's owners and the parent tree."""

    page_number: int
    mapping: Any
    walk: _Walk


def _content_problems(
    reader: PdfReader, content: Any, resources: Any, owned: _Owned, stack: list[str], depth: int
) -> Iterator[str]:
    """Problems of a content stream; a form drawn outside marked content is read in place
    (WeasyPrint draws some tagged text inside transparency groups)."""
    unmarked = ""
    for operands, operator in ContentStream(content, reader).operations:
        if operator in (b"BDC", b"BMC"):
            tag = str(operands[0])
            properties = operands[1] if operator == b"BDC" else None
            if isinstance(properties, DictionaryObject) and "/MCID" in properties:
                yield from _mcid_problems(int(properties["/MCID"]), tag, owned, stack)  # type: ignore[call-overload]
                stack.append("/MCID")
            else:
                if tag == "/Artifact" and "/MCID" in stack:
                    yield "an artifact inside tagged content [01-003]"
                stack.append(tag)
        elif operator == b"EMC":
            if stack:
                stack.pop()
        elif "/Artifact" in stack or "/MCID" in stack:
            continue
        elif operator == b"Do" and depth < 8 and _form(resources, operands[0]) is not None:
            form = _form(resources, operands[0])
            inner = form.get("/Resources") or resources
            yield from _content_problems(reader, form, inner, owned, stack, depth + 1)
        elif (operator in _PAINTING or operator == b"INLINE IMAGE") and not unmarked:
            unmarked = operator.decode()
            yield f"'{unmarked}' painted outside marked content (first of stream) [01-005]"


def _form(resources: Any, name: Any) -> Any:
    xobjects = (resources or {}).get("/XObject") or {}
    target = xobjects.get(name)
    target = target.get_object() if target is not None else None
    return target if target is not None and target.get("/Subtype") == "/Form" else None


def _mcid_problems(mcid: int, tag: str, owned: _Owned, stack: list[str]) -> Iterator[str]:
    if "/Artifact" in stack:
        yield f"tagged content (MCID {mcid}) inside an artifact [01-004]"
    owner = owned.walk.owned.get((owned.page_number, mcid))
    mapping = owned.mapping
    if owner is None:
        yield f"marked content {tag} MCID {mcid} belongs to no element of the tree (untagged)"
    elif (
        mapping is None
        or mcid >= len(mapping)
        or (_number(mapping[mcid]) != _number(owner.indirect_reference))
    ):
        yield f"the parent tree does not map MCID {mcid} to its element"


def _annotation_problems(
    annotation: Any, walk: _Walk, parent_tree: dict[int, Any]
) -> Iterator[str]:
    target = annotation.get_object()
    if target.get("/Subtype") != "/Link":
        return
    if not str(target.get("/Contents", "")).strip():
        yield "a link annotation without /Contents [28-012]"
    owner = walk.annotations.get(_number(annotation))
    if "/StructParent" not in target:
        yield "a link annotation without /StructParent [28-011]"
    elif owner is None or str(owner.get("/S")) != "/Link":
        yield "a link annotation held by no Link element of the tree [28-011]"
    else:
        entry = parent_tree.get(int(target["/StructParent"]))
        if entry is None or _number(entry) != _number(owner.indirect_reference):
            yield "a link annotation's /StructParent does not lead to its Link [28-011]"


def structure_text(path: Path | str) -> str:
    """The text of the structure tree in its order, as poppler reads it (``pdfinfo
    -struct-text``), spaces collapsed; what a screen reader following the tree would say."""
    if shutil.which("pdfinfo") is None:
        raise RuntimeError("poppler's pdfinfo is not installed (make install)")
    output = subprocess.run(
        ["pdfinfo", "-struct-text", str(path)], capture_output=True, text=True, check=True
    ).stdout
    quoted = re.findall(r'"(.*)"', output)
    return re.sub(r"\s+", " ", " ".join(quoted).replace("\u2019", "'"))
