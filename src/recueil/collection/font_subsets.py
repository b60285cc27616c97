"""Font subsets of the sheets' renders, read from their PDFs and merged into one program.

Every render embeds its own subset of each font it uses, so a collection of 400 sheets held
400 subsets of Inter Regular: five times the size of a one-pass rendering, where WeasyPrint
embeds each font once. The subsets can be merged because of how WeasyPrint 70 makes them
(weasyprint/pdf/fonts.py): HarfBuzz keeps the original glyph ids (RETAIN_GIDS, and CIDs are
glyph ids through Identity-H and /CIDToGIDMap /Identity), and desubroutinises CFF charstrings,
so glyph g is the same self-contained outline in every subset of one font file, and a page's
content stream stays right whichever subset holding its glyphs it is shown with.

This module reads what a collection needs of a subset (:func:`read_subset`) and builds the
merged program (:func:`merged_program`): glyphs are taken, by id, from the subsets that used
them. Two subsets belong together when they have the same name and come from the same font file
(same ``head`` version, revision and dates, same ``name`` table): a project that changes a font
between two cached renders gets two programs, never one with mixed outlines.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
)

#: what a merged subset is embedded as: FontFile3 with /Subtype /OpenType (CFF outlines in an
#: OpenType wrapper), or FontFile2 (TrueType outlines)
FONT_FILES = ("/FontFile3", "/FontFile2")
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]*)>")
#: the FixedPitch flag of a font descriptor (ISO 32000-1, table 123)
FIXED_PITCH = 1


@dataclass
class Subset:
    """One render's subset of a font: what the collection keeps of it to share it.

    ``widths`` and ``text`` are its /W and ToUnicode by glyph id; ``program`` is the font file
    stream of the render (kept only while it may still bring glyphs no other subset had).
    """

    name: str  # base font name without the subset tag
    tag: str
    file_key: str  # FontFile3 or FontFile2
    identity: bytes  # same identity: same font file (see module docstring)
    widths: dict[int, float]
    text: dict[int, str]
    #: the direct entries of its CIDFont and descriptor dictionaries, for the merged ones
    cid_font: DictionaryObject
    descriptor: DictionaryObject
    #: the font program, decoded; None once the collection knows it brings no new glyph
    program: bytes | None = field(repr=False)

    @property
    def group(self) -> tuple[str, str, bytes]:
        """What subsets sharing one merged program have in common."""
        return self.name, self.file_key, self.identity


def read_subset(font: Any) -> Subset | None:
    """The subset a Type0 font dictionary of a render embeds, or None when it is not mergeable.

    Mergeable: Identity-H encoding, one CIDFont with an identity CID-to-glyph map, no CIDSet
    (it would have to list the merged glyphs), an embedded OpenType or TrueType program, and a
    ToUnicode CMap of single characters (what WeasyPrint writes). Anything else (Type 3 bitmap
    fonts, fonts with missing glyphs and their own encoding CMap) is copied as it was.
    """
    try:
        return _read(font)
    except (KeyError, ValueError, TypeError, IndexError, struct.error, UnicodeDecodeError):
        return None


def _read(font: Any) -> Subset | None:
    if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
        return None
    descendants = font["/DescendantFonts"].get_object()
    if len(descendants) != 1:
        return None
    cid_font = descendants[0].get_object()
    descriptor = cid_font["/FontDescriptor"].get_object()
    if cid_font.get("/CIDToGIDMap", "/Identity") != "/Identity" or "/CIDSet" in descriptor:
        return None
    keys = [key for key in FONT_FILES if key in descriptor]
    if len(keys) != 1:
        return None
    program = descriptor[keys[0]].get_object()
    if keys[0] == "/FontFile3" and program.get("/Subtype") != "/OpenType":
        return None
    data = program.get_data()
    base = str(font["/BaseFont"]).lstrip("/")
    tag, _, name = base.rpartition("+")
    cmap = font["/ToUnicode"].get_object().get_data()
    if b"bfrange" in cmap:
        return None
    text = {
        int(glyph, 16): bytes.fromhex(chars.decode()).decode("utf-16-be")
        for glyph, chars in _BFCHAR.findall(cmap)
    }
    return Subset(
        name,
        tag,
        keys[0],
        _identity(data),
        _widths(cid_font.get("/W", ArrayObject()).get_object()),
        text,
        _direct(cid_font),
        _direct(descriptor),
        data,
    )


def _direct(dictionary: DictionaryObject) -> DictionaryObject:
    """The entries that are not references: kept without keeping the render's reader alive."""
    return DictionaryObject(
        {k: v for k, v in dict.items(dictionary) if not isinstance(v, IndirectObject)}
    )


def _widths(array: Sequence[Any]) -> dict[int, float]:
    """A /W array as glyph id → width (both of its forms: c [w...] and c_first c_last w)."""
    widths: dict[int, float] = {}
    index = 0
    while index < len(array):
        first = int(array[index])
        following = array[index + 1].get_object()
        if isinstance(following, list):
            widths.update((first + k, float(w)) for k, w in enumerate(following))
            index += 2
        else:
            width = float(array[index + 2])
            widths.update((glyph, width) for glyph in range(first, int(following) + 1))
            index += 3
    return widths


def _identity(data: bytes) -> bytes:
    """What tells one font file from another in its subsets: head and name, from the sfnt.

    head's version, revision, units per em and dates, and the whole name table, all of which
    HarfBuzz's subsetter copies unchanged (its checksum and bounding box it may change).
    """
    tables: dict[bytes, bytes] = {}
    count = struct.unpack(">H", data[4:6])[0]
    for number in range(count):
        tag, _, offset, length = struct.unpack(">4sIII", data[12 + 16 * number : 28 + 16 * number])
        tables[tag] = data[offset : offset + length]
    head = tables[b"head"]
    return hashlib.sha256(head[:8] + head[18:36] + tables.get(b"name", b"")).digest()


def merged_program(subsets: Sequence[Subset]) -> bytes:
    """One font program holding the glyphs every subset used, each from a subset that used it.

    The subset reaching the highest glyph id is the base (its glyph order covers every id the
    others use, as glyph ids are kept); each other glyph used is copied into it with its
    advance, and a TrueType composite glyph with its components. A glyph two subsets both
    drew must be the same outline: otherwise the subsets were not of one font file after all,
    and merging them would print wrong letters, so it is an error, never a silent choice.

    The bounding boxes (head, hhea, the CFF FontBBox) are kept as the subsets have them,
    those of the whole font (WeasyPrint's subsets are not recomputed either), a box holding
    every glyph: computing them again drew every glyph of every subset, about half of the
    merging (0.47-0.66 -> 0.24-0.37 s for a 10-sheet selection), for a smaller box no
    reader uses.
    """
    fonts = [
        TTFont(io.BytesIO(s.program or b""), recalcTimestamp=False, recalcBBoxes=False)
        for s in subsets
    ]
    order = [font.getGlyphOrder() for font in fonts]
    base_index = max(range(len(fonts)), key=lambda i: (len(order[i]), -i))
    base, names = fonts[base_index], order[base_index]
    done = {names[glyph] for glyph in subsets[base_index].widths}
    truetype = "glyf" in base
    if not truetype:
        _same_private(fonts)
    for font, subset, own in zip(fonts, subsets, order, strict=True):
        if font is base:
            continue
        for glyph in sorted(subset.widths):
            if glyph >= len(own) or own[glyph] != names[glyph]:
                raise ValueError(f"subsets of {subset.name} do not share their glyph order")
            if truetype:
                _copy_truetype(base, font, own[glyph], done)
            elif own[glyph] in done:
                _check_same(base, font, own[glyph], subset.name)
            else:
                _copy_cff(base, font, own[glyph])
                done.add(own[glyph])
    output = io.BytesIO()
    base.save(output)
    return output.getvalue()


def _charstrings(font: Any) -> Any:
    return font["CFF "].cff.topDictIndex[0].CharStrings


def _same_private(fonts: Sequence[Any]) -> None:
    """CFF widths are stored relative to the Private dict's: it must be the same in all."""
    values = {
        (getattr(p, "nominalWidthX", 0), getattr(p, "defaultWidthX", 0))
        for p in (font["CFF "].cff.topDictIndex[0].Private for font in fonts)
    }
    if len(values) != 1:
        raise ValueError("CFF subsets with different width defaults cannot share a program")


def _copy_cff(base: Any, font: Any, name: str) -> None:
    _charstrings(base)[name] = _bytecode(font, name)
    base["hmtx"][name] = font["hmtx"][name]


def _bytecode(font: Any, name: str) -> Any:
    charstring = _charstrings(font)[name]
    if charstring.bytecode is None:
        charstring.compile()
    return charstring


def _check_same(base: Any, font: Any, name: str, family: str) -> None:
    if _bytecode(base, name).bytecode != _bytecode(font, name).bytecode:
        raise ValueError(f"two subsets of {family} draw glyph {name} differently")


def _copy_truetype(base: Any, font: Any, name: str, done: set[str]) -> None:
    """Copy glyph ``name`` (and the components it is built of) unless the base has it."""
    glyph = font["glyf"][name]
    if name in done:
        mine = base["glyf"][name]
        drawn = glyph.numberOfContours and mine.numberOfContours
        if drawn and glyph.compile(font["glyf"]) != mine.compile(base["glyf"]):
            raise ValueError(f"two subsets draw TrueType glyph {name} differently")
        return
    if glyph.isComposite():
        for component in glyph.getComponentNames(font["glyf"]):
            _copy_truetype(base, font, component, done)
    base["glyf"][name] = glyph
    base["hmtx"][name] = font["hmtx"][name]
    done.add(name)


def font_descriptor(
    first: DictionaryObject, box: Sequence[float], fixed: bool, name: str
) -> DictionaryObject:
    """A descriptor for a merged font: the first subset's entries, the subsets' union box.

    WeasyPrint's box is (0, descent, widest advance, ascent) of what each render used; the
    FixedPitch flag stays only when every subset had it.
    """
    descriptor = DictionaryObject(
        {key: value for key, value in first.items() if key not in (*FONT_FILES, "/CIDSet")}
    )
    descriptor[NameObject("/FontBBox")] = ArrayObject([_number(v) for v in box])
    flags = int(first.get("/Flags", 0))
    if not fixed:
        flags &= ~FIXED_PITCH
    descriptor[NameObject("/Flags")] = NumberObject(flags)
    descriptor[NameObject("/FontName")] = NameObject(name)
    return descriptor


def union_box(box: Sequence[float] | None, other: Sequence[Any]) -> list[float]:
    """The smallest box holding two (the first may be None: then the second)."""
    values = [float(v) for v in other]
    if box is None:
        return values
    low = [min(box[0], values[0]), min(box[1], values[1])]
    return [*low, max(box[2], values[2]), max(box[3], values[3])]


def to_unicode_cmap(text: dict[int, str]) -> bytes:
    """A ToUnicode CMap of glyph ids, written as WeasyPrint writes its own (bfchar by 100)."""
    lines = [
        b"/CIDInit /ProcSet findresource begin",
        b"12 dict begin",
        b"begincmap",
        b"/CIDSystemInfo",
        b"<< /Registry (Adobe)",
        b"/Ordering (UCS)",
        b"/Supplement 0",
        b">> def",
        b"/CMapName /Adobe-Identity-UCS def",
        b"/CMapType 2 def",
        b"1 begincodespacerange",
        b"<0000> <ffff>",
        b"endcodespacerange",
    ]
    items = sorted(text.items())
    for start in range(0, len(items), 100):
        batch = items[start : start + 100]
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines += [f"<{g:04x}> <{t.encode('utf-16-be').hex()}>".encode() for g, t in batch]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def widths_array(widths: dict[int, float]) -> ArrayObject:
    """A /W array: each run of consecutive glyph ids as ``first [w1 w2 ...]``."""
    array = ArrayObject()
    run: ArrayObject | None = None
    for glyph in sorted(widths):
        if run is None or glyph - 1 not in widths:
            run = ArrayObject()
            array += [NumberObject(glyph), run]
        width = widths[glyph]
        run.append(NumberObject(int(width)) if width == int(width) else FloatObject(width))
    return array


def _number(value: float) -> NumberObject | FloatObject:
    return NumberObject(int(value)) if value == int(value) else FloatObject(value)
