"""The language of a passage written in another language, on its structure element.

A sheet is in French, but quotes a programme's English name or a testimony in Occitan; the
author says so with ``lang`` (``*learning by doing*{lang=en}``). A screen reader switches voice
only if the passage's structure element carries ``/Lang`` (PDF/UA-1 7.2, Matterhorn 11-006),
and WeasyPrint 70 writes only the document's ``/Lang``. Its tagging builds one element per box,
in ``weasyprint.pdf.tags._build_box_tree``, without a way to reach the box afterwards; this wraps
that function (once per process, for the pinned WeasyPrint only) so that an element made for a
box whose HTML element has a ``lang`` different from its parent's gets that ``/Lang``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydyf  # type: ignore[import-untyped]

#: the WeasyPrint release whose tagging function this wraps (pyproject.toml pins it)
WEASYPRINT = "70.0"


def install() -> bool:
    """Wrap WeasyPrint's tagging once; False when its version is not the one known here."""
    import weasyprint
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf import tags

    if getattr(tags._build_box_tree, "recueil_lang", False):
        return True
    if weasyprint.__version__ != WEASYPRINT:
        return False
    build = tags._build_box_tree

    def with_lang(box: Any, parent: Any, pdf: Any, *args: Any) -> Iterator[Any]:
        lang = _own_lang(box)
        for element in build(box, parent, pdf, *args):
            if lang and element.get("S") != "/Document" and lang != _lang_in(parent, pdf):
                element["Lang"] = pydyf.String(lang)
                if element.get("S") == "/NonStruct" and isinstance(box, boxes.InlineBox):
                    element["S"] = "/Span"  # an inline passage (em, i, span), as PDF names it
            yield element

    with_lang.recueil_lang = True  # type: ignore[attr-defined]
    tags._build_box_tree = with_lang
    return True


def _own_lang(box: Any) -> str:
    """The ``lang`` written on the box's own HTML element ("" when none, or for the root,
    whose language is the document's)."""
    box = getattr(box, "_box", box)  # an absolutely placed box
    element = getattr(box, "element", None)
    if element is None or getattr(box, "element_tag", None) in ("html", "body"):
        return ""
    return str(element.attrib.get("lang", "")).strip()


def _lang_in(parent: Any, pdf: Any) -> str:
    """The language in effect for ``parent``: its own ``/Lang`` or its nearest ancestor's,
    else the document's."""
    current = parent
    while isinstance(current, dict):
        if "Lang" in current:
            return str(current["Lang"].string)
        reference = current.get("P")
        current = pdf.objects[int(reference.split()[0])] if reference else None
    catalog_lang = pdf.catalog.get("Lang")
    return str(catalog_lang.string) if catalog_lang is not None else ""
