"""The plan of a collection: where every generated part, blank page and sheet lands.

Printed page numbers follow from the plan alone (front matter in roman numerals, the rest in
arabic from the first divider), so the contents and indexes can be written before any page is
merged, from the page counts of the sheets' cached renders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pypdf import PdfWriter

from recueil.collection.definition import Collection, Group

ROMAN = (
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
)


def roman(number: int) -> str:
    """Lower-case roman numeral, as used for front-matter page labels."""
    out = ""
    for value, letters in ROMAN:
        while number >= value:
            out += letters
            number -= value
    return out


@dataclass(frozen=True)
class Slot:
    """One run of pages in the assembled document."""

    source: str  # "frame", "sheet" or "blank"
    ref: str  # frame part id, sheet slug, or "" for a blank page
    count: int
    first: int = 0  # first page of the run inside its source document


@dataclass
class Plan:
    """Where everything lands: slots in order, and the printed numbers they get."""

    slots: list[Slot]
    front_pages: int
    sheet_pages: dict[str, int]
    part_pages: dict[str, int]
    group_pages: dict[str, int]

    def start_of(self, source: str, ref: str) -> int:
        """0-based page index where a frame part or a sheet starts in the assembled file."""
        index = 0
        for slot in self.slots:
            if slot.source == source and slot.ref == ref:
                return index
            index += slot.count
        raise KeyError(ref)

    @property
    def total(self) -> int:
        """Total number of pages."""
        return sum(slot.count for slot in self.slots)


FRONT_PARTS = ("cover", "title", "editorial", "howto", "toc")


def make_plan(
    collection: Collection,
    groups: Sequence[Group],
    sheet_counts: Mapping[str, int],
    part_counts: Mapping[str, int],
    indexes: Sequence[str],
) -> Plan:
    """Lay out parts, blanks and sheets; every divider and sheet on a right page in recto-verso."""
    recto = bool(collection.option("recto_verso", False))
    slots: list[Slot] = []
    position = 0

    def add(source: str, ref: str, count: int) -> None:
        nonlocal position
        slots.append(Slot(source, ref, count))
        position += count

    def start_on_right() -> None:
        if recto and position % 2 == 1:
            add("blank", "", 1)

    for part in FRONT_PARTS:
        if f"part-{part}" in part_counts:
            if part == "title" and recto:
                start_on_right()
            add("frame", f"part-{part}", part_counts[f"part-{part}"])
    start_on_right()
    front = position
    sheet_pages: dict[str, int] = {}
    group_pages: dict[str, int] = {}
    for group in groups:
        divider = f"part-divider-{group.key}"
        if divider in part_counts:
            start_on_right()
            group_pages[group.key] = position - front + 1
            add("frame", divider, part_counts[divider])
        for sheet in group.sheets:
            start_on_right()
            sheet_pages[sheet.slug] = position - front + 1
            add("sheet", sheet.slug, sheet_counts[sheet.slug])
    part_pages: dict[str, int] = {}
    for part in (*(f"index-{name}" for name in indexes), "colophon"):
        ref = f"part-{part}"
        if ref in part_counts:
            part_pages[part] = position - front + 1
            add("frame", ref, part_counts[ref])
    if recto and (position + part_counts["part-back"]) % 2 == 1:
        add("blank", "", 1)
    add("frame", "part-back", part_counts["part-back"])
    return Plan(slots, front, sheet_pages, part_pages, group_pages)


def label_for(index: int, front_pages: int) -> str:
    """Printed number of a page: roman in the front matter, arabic from the first divider."""
    if index < front_pages:
        return roman(index + 1)
    return str(index - front_pages + 1)


def page_labels(writer: PdfWriter, plan: Plan) -> None:
    """Page labels as printed: roman numerals in the front matter, then arabic."""
    if plan.front_pages:
        writer.set_page_label(0, plan.front_pages - 1, style="/r", start=1)  # type: ignore[arg-type]
    writer.set_page_label(plan.front_pages, plan.total - 1, style="/D", start=1)  # type: ignore[arg-type]
