"""Checking an edition's PDF/A-2a claim structurally, where veraPDF is not installed.

The claim itself is made while rendering and assembling (``render/pdfa.py``); an edition is not
published until every file it holds passes this check and the accessibility checks
(render/accessibility_check.py), which verify what level A adds to level U: the structure tree,
every painted thing marked as content or artifact, the language, figures described.
"""

from __future__ import annotations

import io
import re
from typing import Any
from xml.etree import ElementTree

from pypdf import PdfReader
from pypdf.generic import ArrayObject

from recueil.render.pdfa import PDFA_CONFORMANCE, PDFA_PART

_PDFAID = re.compile(rb"pdfaid:part(?:>|=\")(\d)")
_CONFORMANCE = re.compile(rb"pdfaid:conformance(?:>|=\")([ABU])")


def pdfa_problems(pdf: bytes) -> list[str]:
    """What breaks the PDF/A-2a claim structurally (empty when the structure is sound).

    Checked: the XMP claim (part 2, conformance A), a structure tree with its parent tree and
    ``/MarkInfo /Marked true`` (ISO 19005-2, 6.8), an sRGB output intent with its ICC
    profile, every font embedded, a title in the information dictionary and the XMP, the
    document language, a file identifier, no encryption, no JavaScript or launch actions,
    no external streams, printable annotations. This is not a validator (veraPDF is): it
    catches what recueil itself could get wrong when assembling.
    """
    problems: list[str] = []
    reader = PdfReader(io.BytesIO(pdf))
    if reader.is_encrypted:
        return ["the document is encrypted"]
    root: Any = reader.trailer["/Root"]
    metadata = root.get("/Metadata")
    xmp = metadata.get_object().get_data() if metadata is not None else b""
    part = _PDFAID.search(xmp)
    conformance = _CONFORMANCE.search(xmp)
    if part is None or part.group(1) != PDFA_PART.encode():
        problems.append("XMP metadata does not claim pdfaid:part 2")
    if conformance is None or conformance.group(1) != PDFA_CONFORMANCE.encode():
        problems.append(f"XMP metadata does not claim pdfaid:conformance {PDFA_CONFORMANCE}")
    tree = root.get("/StructTreeRoot")
    if tree is None or "/ParentTree" not in tree.get_object():
        problems.append("not tagged: no structure tree with a parent tree")
    if not (root.get("/MarkInfo") or {}).get("/Marked"):
        problems.append("/MarkInfo /Marked is not true")
    found: Any = root.get("/OutputIntents")
    intents = found.get_object() if found is not None else ArrayObject()
    if not any(
        i.get_object().get("/S") == "/GTS_PDFA1" and "/DestOutputProfile" in i.get_object()
        for i in intents
    ):
        problems.append("no PDF/A output intent with an ICC profile")
    info: Any = reader.metadata or {}
    title = info.get("/Title")
    if not title:
        problems.append("no document title")
    elif str(title) not in _xmp_titles(xmp):
        problems.append("the title of the information dictionary is not the XMP dc:title")
    if not root.get("/Lang"):
        problems.append("no document language")
    if "/ID" not in reader.trailer:
        problems.append("no file identifier")
    if "/Names" in root and "/JavaScript" in root["/Names"]:
        problems.append("JavaScript in the name tree")
    if "/OpenAction" in root or "/AA" in root:
        problems.append("automatic actions")
    for number, page in enumerate(reader.pages, 1):
        problems += [f"page {number}: {p}" for p in _page_problems(page)]
    return problems


def _xmp_titles(xmp: bytes) -> list[str]:
    """Every dc:title value of an XMP packet (an unreadable packet has none)."""
    start, end = xmp.find(b"<x:xmpmeta"), xmp.rfind(b"</x:xmpmeta>")
    try:
        tree = ElementTree.fromstring(xmp[start : end + len(b"</x:xmpmeta>")])
    except ElementTree.ParseError:
        return []
    dc = "{http://purl.org/dc/elements/1.1/}title"
    return [item.text or "" for title in tree.iter(dc) for item in title.iter() if item.text]


def _page_problems(page: Any) -> list[str]:
    problems: list[str] = []
    for annotation in page.get("/Annots", []) or []:
        annotation = annotation.get_object()
        if not int(annotation.get("/F", 0)) & 4:
            problems.append("an annotation is not printable")
        action = annotation.get("/A")
        kind = action.get_object().get("/S") if action is not None else None
        if kind in ("/JavaScript", "/Launch"):
            problems.append(f"forbidden action {kind}")
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else {}
    fonts = resources.get("/Font")
    for name, font in (fonts.get_object() if fonts is not None else {}).items():
        if not _embedded(font.get_object()):
            problems.append(f"font {name} is not embedded")
    xobjects = resources.get("/XObject")
    for name, xobject in (xobjects.get_object() if xobjects is not None else {}).items():
        if "/F" in xobject.get_object():
            problems.append(f"XObject {name} refers to an external file")
    return problems


def _embedded(font: Any) -> bool:
    if font.get("/Subtype") == "/Type3":
        return True
    descendants = font.get("/DescendantFonts")
    if descendants is not None:
        return all(_embedded(d.get_object()) for d in descendants.get_object())
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    descriptor = descriptor.get_object()
    return any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
