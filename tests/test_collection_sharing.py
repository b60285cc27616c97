"""A collection stores each font program and each image once, read from the finished file.

Sheets are rendered one by one and each render embeds its own font subsets and its own copy of
its images; the collection merges the subsets into one program per font file and keeps one
copy of each image (collection/sharing.py). These tests open the finished PDFs (screen and
print-shop variants) and check that, and that every sheet page still reads exactly as its own
render does (the merged fonts' widths and text maps are right).
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, StreamObject

from recueil.collection.collection_build import build_collection
from recueil.collection.declared import discover_collections
from recueil.collection.print_options import print_shop_options
from recueil.render.print_styles import VARIANT
from recueil.render.sheet_build import SheetRenderer, load_corpus
from recueil.sources.project import load_project

REPO = Path(__file__).resolve().parents[1]
SHEETS = {
    "experiences/occ-2023-005-francais-parents.md": "OCC-2023-005",
    "experiences/ges-2023-104-trente-minutes-sport.md": "GES-2023-104",
    "experiences/hdf-2022-003-cafe-des-parents.md": "HDF-2022-003",
    "experiences/naq-2021-101-bibliotheque-de-rue.md": "NAQ-2021-101",
}
#: the same photograph in two sheets: the collection must hold it once
PHOTO = "\n\n![Une photographie de l'atelier](../images/atelier.png)\n"
COLLECTION = """title: Essai de partage
date: 2023-05-01
select:
  slugs: [OCC-2023-005, GES-2023-104, HDF-2022-003, NAQ-2021-101]
colophon:
  publisher: Centre de ressources
  publisher_address: 1 rue de l'Exemple, 75000 Paris
print_shop:
  bleed_mm: 3
"""


@pytest.fixture(scope="module")
def built(session_project: Any) -> dict[str, Any]:
    """The collection in both variants, with each sheet's own render to compare with."""
    root = session_project(*SHEETS)
    photo = Image.effect_mandelbrot((120, 80), (-2, -1.2, 1, 1.2), 60).convert("RGB")
    photo.save(root / "content" / "images" / "atelier.png")
    for rel in list(SHEETS)[:2]:
        path = root / "content" / rel
        path.write_text(path.read_text(encoding="utf-8") + PHOTO, encoding="utf-8")
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(COLLECTION, encoding="utf-8")
    project, problems = load_project(root)
    assert not problems
    corpus = load_corpus(project)
    collections, problems = discover_collections(project)
    assert not problems
    (collection,) = collections
    assert print_shop_options(collection.meta) is not None
    renderer = SheetRenderer(project, corpus)
    found: dict[str, Any] = {}
    for variant in ("", VARIANT):
        result, diagnostics = build_collection(project, corpus, collection, renderer, variant)
        assert result is not None, [d.format() for d in diagnostics]
        found[variant] = result
    found["renders"] = {sheet.slug: renderer.render(sheet)[0] for sheet in corpus.sheets}
    return found


def _resources(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every resource dictionary the pages use, those of forms and patterns included."""
    seen: set[int] = set()
    stack: list[Any] = [page.get("/Resources") for page in reader.pages]
    while stack:
        value = stack.pop()
        if isinstance(value, IndirectObject):
            if value.idnum in seen:
                continue
            seen.add(value.idnum)
        resources = value.get_object() if value is not None else None
        if not isinstance(resources, DictionaryObject):
            continue
        yield resources
        for kind in ("/XObject", "/Pattern"):
            for entry in (resources.get(kind) or DictionaryObject()).values():
                stack.append(entry.get_object().get("/Resources"))


def _font_programs(reader: PdfReader) -> dict[str, set[int]]:
    """Base font name (subset tag removed) → object numbers of its embedded programs."""
    programs: dict[str, set[int]] = defaultdict(set)
    for resources in _resources(reader):
        for font in (resources.get("/Font") or DictionaryObject()).values():
            font = font.get_object()
            name = str(font["/BaseFont"]).split("+")[-1]
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"]
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in descriptor:
                        programs[name].add(descriptor.raw_get(key).idnum)
    return programs


def _every_stream(reader: PdfReader) -> Iterator[tuple[int, StreamObject]]:
    for number in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(number)
        if isinstance(obj, StreamObject):
            yield number, obj


@pytest.mark.parametrize("variant", ["", VARIANT])
def test_each_font_program_is_stored_once(built: dict[str, Any], variant: str) -> None:
    reader = PdfReader(io.BytesIO(built[variant].pdf))
    programs = _font_programs(reader)
    assert {"Inter", "Inter-Bold", "Inter-Semi-Bold"} <= set(programs)
    assert {name: len(numbers) for name, numbers in programs.items() if len(numbers) > 1} == {}
    # and no other program lies in the file unused: one per font the pages use
    embedded = [
        number
        for number, stream in _every_stream(reader)
        if stream.get("/Subtype") == "/OpenType" or "/Length1" in stream
    ]
    assert sorted(embedded) == sorted(n for numbers in programs.values() for n in numbers)


@pytest.mark.parametrize("variant", ["", VARIANT])
def test_each_image_is_stored_once(built: dict[str, Any], variant: str) -> None:
    reader = PdfReader(io.BytesIO(built[variant].pdf))
    images: dict[str, set[int]] = defaultdict(set)
    for number, stream in _every_stream(reader):
        if stream.get("/Subtype") == "/Image":
            images[hashlib.sha256(stream.get_data()).hexdigest()].add(number)
    assert images, "the photograph is in the collection"
    assert {digest: n for digest, n in images.items() if len(n) > 1} == {}
    # the photograph shows on the pages of both sheets that have it
    first = built[variant].sheet_first_page
    pages_with_images = {
        index
        for index, page in enumerate(reader.pages)
        if any(
            entry.get_object().get("/Subtype") == "/Image"
            or "/Image" in repr(entry.get_object().get("/Resources"))
            for entry in (page["/Resources"].get("/XObject") or DictionaryObject()).values()
        )
    }
    assert len(pages_with_images) >= 2
    assert len({_sheet_of(index, first) for index in pages_with_images}) == 2


def _sheet_of(index: int, first: dict[str, int]) -> str:
    return max((start, slug) for slug, start in first.items() if start <= index)[1]


@pytest.mark.parametrize("variant", ["", VARIANT])
def test_every_sheet_page_reads_as_its_own_render(built: dict[str, Any], variant: str) -> None:
    """Text through the shared fonts' ToUnicode maps: the same as through each render's own."""
    reader = PdfReader(io.BytesIO(built[variant].pdf))
    renders = built["renders"]
    compared = 0
    for slug, start in built[variant].sheet_first_page.items():
        own = PdfReader(io.BytesIO(renders[slug].pdf))
        for offset, page in enumerate(own.pages):
            expected = page.extract_text()
            found = reader.pages[start + offset].extract_text()
            # the collection draws the page number and running header after the page
            assert found.startswith(expected), (slug, offset)
            compared += 1
    assert compared >= len(SHEETS)
    for slug, start in built[variant].sheet_first_page.items():  # and as its words say
        words = " ".join(reader.pages[start].extract_text().split())
        assert f"Fiche retour d’expérience n° {slug}" in words, slug


def _font_bytes(pdf: bytes) -> int:
    reader = PdfReader(io.BytesIO(pdf))
    return sum(
        len(stream._data)
        for _, stream in _every_stream(reader)
        if stream.get("/Subtype") == "/OpenType" or "/Length1" in stream
    )


def test_the_fonts_weigh_less_than_in_the_sheets(built: dict[str, Any]) -> None:
    """What sharing saves, in bytes: the collection's font programs, those of its cover,
    contents and indexes included, weigh less than half of its four sheets' (they weighed
    more than all of them together before)."""
    renders = sum(_font_bytes(render.pdf) for render in built["renders"].values())
    assert _font_bytes(built[""].pdf) < 0.5 * renders
