"""The bookmarks of a collection, rebuilt after merging (pypdf starts a new document).

The generated parts get French titles, each group its divider as a parent, and each sheet its
own outline (read from its render) under it, page numbers shifted to where the sheet landed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pypdf import PdfWriter

from recueil.collection.definition import Group
from recueil.collection.plan import Plan
from recueil.sources.sheet import Sheet


def add_outline(
    writer: PdfWriter,
    plan: Plan,
    groups: Sequence[Group],
    outlines: Mapping[str, list[tuple[str, int]]],
) -> None:
    """Bookmarks: each generated part, each group with its sheets, each sheet's headings."""
    titles = {
        "part-cover": "Couverture",
        "part-editorial": "Éditorial",
        "part-howto": "Mode d'emploi",
        "part-toc": "Sommaire",
        "part-index-territories": "Index des territoires",
        "part-index-keywords": "Index des mots-clés",
        "part-colophon": "Colophon",
        "part-back": "Quatrième de couverture",
    }
    for slot_ref in [s.ref for s in plan.slots if s.source == "frame"]:
        if slot_ref.startswith("part-divider-"):
            key = slot_ref.removeprefix("part-divider-")
            group = next(g for g in groups if g.key == key)
            label = f"{group.number}. {group.label}" if group.number else group.label
            parent = writer.add_outline_item(
                title=label, page_number=plan.start_of("frame", slot_ref)
            )
            for sheet in group.sheets:
                _sheet_outline(writer, plan, sheet, outlines[sheet.slug], parent)
        elif slot_ref in titles:
            writer.add_outline_item(
                title=titles[slot_ref], page_number=plan.start_of("frame", slot_ref)
            )
            if slot_ref == "part-toc" and not any(
                s.ref.startswith("part-divider-") for s in plan.slots
            ):
                for group in groups:
                    for sheet in group.sheets:
                        _sheet_outline(writer, plan, sheet, outlines[sheet.slug], None)


def _sheet_outline(
    writer: PdfWriter,
    plan: Plan,
    sheet: Sheet,
    outline: list[tuple[str, int]],
    parent: Any,
) -> None:
    start = plan.start_of("sheet", sheet.slug)
    item = writer.add_outline_item(title=sheet.title, page_number=start, parent=parent)
    for entry in outline[1:]:
        title, page = entry
        writer.add_outline_item(title=title, page_number=start + page, parent=item)
