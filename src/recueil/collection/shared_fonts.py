"""One font program per font file in a collection, however many renders it is gathered from.

Each render's subset of a font (font_subsets.py) is replaced, as the render is copied, by a
font dictionary of the collection shared with the other renders: its program is written once,
at the end, merged from the subsets that brought glyphs no earlier one had.

Widths and text cannot always be merged as the outlines can. WeasyPrint writes a glyph's width
rounded at the size it was first set in (741 or 742 thousandths of an em for Inter's "U") and
makes up for the rounding in the content stream; a glyph can stand for different text (the
space glyph for a space or a no-break space). A render is therefore shown with a *variant* of
the shared font whose /W and ToUnicode agree with its own on every glyph both use; a render
that agrees with none starts a new variant. Variants are a few small dictionaries; they all
point to the one program. So every page is drawn, positioned and extracted exactly as in its
own render.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from recueil.collection.compact import Deferred
from recueil.collection.font_subsets import (
    FIXED_PITCH,
    Subset,
    font_descriptor,
    merged_program,
    read_subset,
    to_unicode_cmap,
    union_box,
    widths_array,
)


@dataclass
class Variant:
    """A font dictionary of the collection: one /W and one ToUnicode, shared by renders."""

    reference: IndirectObject  # a Deferred dictionary until SharedFonts.finish
    first: Subset
    widths: dict[int, float] = field(default_factory=dict)
    text: dict[int, str] = field(default_factory=dict)
    box: list[float] | None = None
    fixed: bool = True

    def agrees(self, subset: Subset) -> bool:
        """Whether ``subset`` gives every glyph it shares with this variant the same width
        and text."""
        widths, text = self.widths, self.text
        return all(widths[g] == w for g, w in subset.widths.items() if g in widths) and all(
            text[g] == t for g, t in subset.text.items() if g in text
        )

    def add(self, subset: Subset) -> None:
        self.widths.update(subset.widths)
        self.text.update(subset.text)
        self.box = union_box(self.box, subset.descriptor.get("/FontBBox", [0, 0, 0, 0]))
        self.fixed = self.fixed and bool(int(subset.descriptor.get("/Flags", 0)) & FIXED_PITCH)


@dataclass
class Group:
    """The subsets of one font file: the ones whose glyphs make the program, and variants."""

    contributors: list[Subset] = field(default_factory=list)
    glyphs: set[int] = field(default_factory=set)
    variants: list[Variant] = field(default_factory=list)


class SharedFonts:
    """The collection's shared fonts, as renders are copied into ``writer``."""

    def __init__(self, writer: PdfWriter):
        self.writer = writer
        self.groups: dict[tuple[str, str, bytes], Group] = {}

    def share(self, font: Any) -> IndirectObject | None:
        """The shared font dictionary to show a render's ``font`` with (None: keep its own)."""
        subset = read_subset(font)
        if subset is None:
            return None
        group = self.groups.setdefault(subset.group, Group())
        if not group.contributors or set(subset.widths) - group.glyphs:
            group.contributors.append(subset)
            group.glyphs |= set(subset.widths)
        else:
            subset.program = None  # every glyph it has is in a contributor already
        for variant in group.variants:
            if variant.agrees(subset):
                break
        else:
            variant = Variant(self.writer._add_object(Deferred()).indirect_reference, subset)
            group.variants.append(variant)
        variant.add(subset)
        return variant.reference

    def finish(self) -> None:
        """Write each group's program once, and every variant's dictionaries around it."""
        writer = self.writer
        for group in self.groups.values():
            first = group.contributors[0]
            data = merged_program(group.contributors)
            program = DecodedStreamObject()
            program.set_data(data)
            stream: StreamObject = program.flate_encode()
            if first.file_key == "/FontFile3":
                stream[NameObject("/Subtype")] = NameObject("/OpenType")
            else:
                stream[NameObject("/Length1")] = NumberObject(len(data))
            program_reference = writer._add_object(stream)
            for number, variant in enumerate(group.variants):
                _write_variant(writer, variant, program_reference, _tag(first, number))


def _write_variant(writer: PdfWriter, variant: Variant, program: IndirectObject, tag: str) -> None:
    subset = variant.first
    name = f"/{tag}+{subset.name}"
    assert variant.box is not None
    descriptor = font_descriptor(subset.descriptor, variant.box, variant.fixed, name)
    descriptor[NameObject(subset.file_key)] = program
    cid_font = DictionaryObject(
        {k: v for k, v in subset.cid_font.items() if k not in ("/W", "/FontDescriptor")}
    )
    cid_font[NameObject("/BaseFont")] = NameObject(name)
    cid_font[NameObject("/W")] = widths_array(variant.widths)
    cid_font[NameObject("/FontDescriptor")] = writer._add_object(descriptor)
    cmap = DecodedStreamObject()
    cmap.set_data(to_unicode_cmap(variant.text))
    font = writer.get_object(variant.reference)
    assert isinstance(font, Deferred)
    font.update(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/BaseFont"): NameObject(name),
            NameObject("/Encoding"): NameObject("/Identity-H"),
            NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
            NameObject("/ToUnicode"): writer._add_object(cmap.flate_encode()),
        }
    )


def _tag(subset: Subset, number: int) -> str:
    """Six capital letters naming one variant (ISO 32000-1, 9.6.4: a subset's tag)."""
    digest = hashlib.sha256(f"{subset.tag}+{subset.name}/{number}".encode()).digest()
    return "".join(chr(65 + byte % 26) for byte in digest[:6])
