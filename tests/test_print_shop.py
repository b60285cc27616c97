"""The print-shop variant, checked from the finished PDFs: boxes, crop marks, bleeding
backgrounds, and the same pages, numbers, links and outline as the screen variant."""

from __future__ import annotations

import io
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from recueil.cli.main import main
from recueil.collection.collection_build import build_collection
from recueil.collection.declared import discover_collections
from recueil.collection.definition import select_sheets
from recueil.render.cache import RenderCache
from recueil.render.print_styles import VARIANT
from recueil.render.sheet_build import Limits, SheetRenderer, load_corpus, render_variant_ahead
from recueil.sources.project import load_project

sys.path.insert(0, str(Path(__file__).parent))
from conftest import national_collection  # type: ignore[import-not-found]
from pdfinspect import boxes, drawing, footer_number, internal_links, outline_pages
from test_collection import GOOD, _project_copy, normalise

REPO = Path(__file__).resolve().parents[1]
A4 = (595.276, 841.89)
BLEED = 3 * 72 / 25.4  # 8.504 pt
TOLERANCE = 0.01


@dataclass
class Built:
    """Both variants of the national collection, built by one renderer, and what it laid out."""

    screen: PdfReader
    printed: PdfReader
    screen_bytes: bytes
    printed_bytes: bytes
    screen_again: bytes
    sheets: int
    layouts_after_screen: dict[str, int]
    layouts_after_print: dict[str, int]
    layouts_at_end: dict[str, int]


@pytest.fixture(scope="module")
def built() -> Built:
    project, problems = load_project(REPO)
    assert not problems
    corpus = load_corpus(project)
    collections, problems = discover_collections(project)
    assert not problems
    collection = next(c for c in collections if c.name == "rencontre-nationale-2022")
    renderer = SheetRenderer(project, corpus)
    screen, diagnostics = build_collection(project, corpus, collection, renderer)
    assert screen is not None, [d.format() for d in diagnostics]
    after_screen = dict(renderer.variant_layouts)
    printed, diagnostics = build_collection(project, corpus, collection, renderer, VARIANT)
    assert printed is not None, [d.format() for d in diagnostics]
    after_print = dict(renderer.variant_layouts)
    again, _ = build_collection(project, corpus, collection, renderer)
    assert again is not None
    return Built(
        PdfReader(io.BytesIO(screen.pdf)),
        PdfReader(io.BytesIO(printed.pdf)),
        screen.pdf,
        printed.pdf,
        again.pdf,
        len([s for s in corpus.sheets if s.kind == "experience"]),
        after_screen,
        after_print,
        dict(renderer.variant_layouts),
    )


def close(actual: tuple[float, ...], expected: tuple[float, ...]) -> bool:
    return all(abs(a - e) <= TOLERANCE for a, e in zip(actual, expected, strict=True))


def test_each_sheet_is_laid_out_once_per_variant(built: Built) -> None:
    assert built.layouts_after_screen == {"": built.sheets}
    # the print variant lays each sheet out once, and never the screen variant again
    assert built.layouts_after_print == {"": built.sheets, VARIANT: built.sheets}
    assert built.layouts_at_end == built.layouts_after_print
    assert built.screen_again == built.screen_bytes


def test_a_build_lays_the_print_sheets_out_in_workers(built: Built) -> None:
    """`recueil build` lays the print-shop renders out in workers, several at once, before
    assembling the variant (they were laid out one by one in the build's own process, the
    one-core part of a cold build): none is laid out again, and the file is the same."""
    project, corpus, collection, renderer = national_collection()
    chosen = select_sheets(collection, corpus.sheets)
    render_variant_ahead(renderer, chosen, VARIANT, Limits(jobs=2))
    assert renderer.variant_layouts == {}  # every layout happened in a worker
    assert {slug for slug, variant in renderer.variant_renders if variant == VARIANT} == {
        s.slug for s in chosen
    }
    printed, diagnostics = build_collection(project, corpus, collection, renderer, VARIANT)
    assert printed is not None, [d.format() for d in diagnostics]
    assert renderer.variant_layouts == {}  # nor here
    assert printed.pdf == built.printed_bytes


def test_a_print_sheet_failing_in_its_worker_is_not_laid_out_again(monkeypatch) -> None:
    """A sheet whose worker dies is an error of the collection, not a layout in the build's
    own process (where no time or memory limit applies)."""
    project, corpus, collection, renderer = national_collection()
    chosen = select_sheets(collection, corpus.sheets)
    doomed = chosen[3].slug
    real = SheetRenderer.produce_variant

    def dying(self, sheet, variant):  # type: ignore[no-untyped-def]
        if sheet.slug == doomed:
            os._exit(9)  # the worker dies, as when the kernel kills it
        return real(self, sheet, variant)

    monkeypatch.setattr(SheetRenderer, "produce_variant", dying)
    render_variant_ahead(renderer, chosen, VARIANT, Limits(jobs=2))
    monkeypatch.setattr(SheetRenderer, "produce_variant", real)
    printed, diagnostics = build_collection(project, corpus, collection, renderer, VARIANT)
    assert printed is None
    assert renderer.variant_layouts == {}
    message = next(d.message for d in diagnostics if "not published" in d.message)
    assert f"{doomed} (" in message


def test_boxes_on_every_page(built: Built) -> None:
    width, height = A4
    trim = (0.0, 0.0, width, height)
    bleed = (-BLEED, -BLEED, width + BLEED, height + BLEED)
    assert len(built.printed.pages) == len(built.screen.pages)
    for index, page in enumerate(built.printed.pages):
        found = boxes(page)
        assert close(found["/TrimBox"], trim), (index, found)
        assert close(found["/BleedBox"], bleed), (index, found)
        media = found["/MediaBox"]
        # room for the crop marks outside the bleed, the same on every side
        margin = -media[0]
        assert margin >= BLEED + 5 * 72 / 25.4, (index, media)
        assert close(media, (-margin, -margin, width + margin, height + margin)), (index, media)
        assert "/CropBox" not in page
    for page in built.screen.pages:  # the screen variant is plain A4
        assert close(boxes(page)["/MediaBox"], trim)


def test_crop_marks_outside_the_bleed_on_every_page(built: Built) -> None:
    width, height = A4
    for index, page in enumerate(built.printed.pages):
        marks = [
            line
            for line in drawing(page).strokes
            if max(line[0], line[2]) < -BLEED
            or min(line[0], line[2]) > width + BLEED
            or max(line[1], line[3]) < -BLEED
            or min(line[1], line[3]) > height + BLEED
        ]
        # eight marks, each prolonging a trim line, two at each corner
        assert len(marks) == 8, (index, marks)
        corners = set()
        for x0, y0, x1, y1 in marks:
            if abs(y0 - y1) < TOLERANCE:  # horizontal: on the bottom or top trim line
                assert min(abs(y0), abs(y0 - height)) < TOLERANCE, (index, (x0, y0, x1, y1))
                corners.add(("h", x0 > 0, y0 > 0))
            else:
                assert abs(x0 - x1) < TOLERANCE
                assert min(abs(x0), abs(x0 - width)) < TOLERANCE, (index, (x0, y0, x1, y1))
                corners.add(("v", x0 > 0, y0 > 0))
        assert len(corners) == 8, (index, corners)
    for page in built.screen.pages[:12]:  # nothing of the kind on screen
        assert all(
            -1 <= x <= width + 1 for line in drawing(page).strokes for x in (line[0], line[2])
        )


def bleeding_fills(page: object) -> list[tuple[float, float, float, float]]:
    """Filled areas that reach at least the full bleed beyond the top, left and right edges."""
    width, height = A4
    return [
        fill
        for fill in drawing(page).fills
        if fill[3] >= height + BLEED and (fill[0] <= -BLEED or fill[2] >= width + BLEED)
    ]


def test_edge_backgrounds_extend_into_the_bleed(built: Built) -> None:
    outline = outline_pages(built.printed)
    dividers = [p for d, t, p in outline if d == 0 and re.match(r"\d+\. ", t)]
    sheets = [p for d, _, p in outline if d == 1]
    assert len(dividers) == 11 and len(sheets) == built.sheets
    for page in (0, *dividers, *sheets):  # cover, dividers, first page of every sheet
        assert bleeding_fills(built.printed.pages[page]), page
        assert not bleeding_fills(built.screen.pages[page]), page
    # a page with nothing at its edge does not bleed: the table of contents
    toc = next(p for _, t, p in outline if t == "Sommaire")
    assert not bleeding_fills(built.printed.pages[toc])


def test_same_pages_numbers_links_and_outline_as_the_screen_variant(built: Built) -> None:
    screen, printed = built.screen, built.printed
    assert printed.page_labels == screen.page_labels
    assert outline_pages(printed) == outline_pages(screen)
    assert sorted(printed.named_destinations) == sorted(screen.named_destinations)
    for index, (ours, theirs) in enumerate(zip(printed.pages, screen.pages, strict=True)):
        assert normalise(ours.extract_text()) == normalise(theirs.extract_text()), index
        assert footer_number(ours) == footer_number(theirs), index
        assert [(link.target, link.text) for link in internal_links(printed, index)] == [
            (link.target, link.text) for link in internal_links(screen, index)
        ], index
    assert printed.metadata["/Title"] == screen.metadata["/Title"]


def test_variants_are_cached_apart_and_the_screen_key_is_unchanged(tmp_path: Path) -> None:
    root = _project_copy(tmp_path, ["occ-2023-005", "ges-2023-104"])
    project, _ = load_project(root)
    corpus = load_corpus(project)
    sheet = corpus.sheets[0]
    cache = RenderCache(tmp_path / "cache")
    first = SheetRenderer(project, corpus, cache)
    assert first.key(sheet) == first.key(sheet, "")
    assert first.key(sheet, VARIANT) != first.key(sheet)
    screen, _ = first.render(sheet)
    printed, _ = first.render(sheet, VARIANT)
    assert screen is not None and printed is not None
    assert printed.pdf != screen.pdf and printed.page_count == screen.page_count
    # a later build finds both in the cache and lays nothing out
    second = SheetRenderer(project, corpus, cache)
    assert second.render(sheet, VARIANT)[0] == printed
    assert second.render(sheet)[0] == screen
    assert second.layouts == 0
    # the screen render is the one a project without any print-shop collection gets
    alone = SheetRenderer(project, corpus)
    rendered = alone.render(sheet)[0]
    assert rendered is not None and rendered.pdf == screen.pdf


def test_cli_writes_the_print_variant_beside_the_screen_one(tmp_path: Path) -> None:
    root = _project_copy(tmp_path, ["occ-2023-005", "ges-2023-104"])
    text = GOOD + "print_shop:\n  bleed_mm: 3\n"
    (root / "collections" / "essai.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["collection", "essai", "--project", str(root)])
    assert result.exit_code == 0, result.output
    folder = root / "build" / "collections"
    screen, printed = PdfReader(folder / "essai.pdf"), PdfReader(folder / "essai-imprimeur.pdf")
    assert len(screen.pages) == len(printed.pages)
    assert close(
        boxes(printed.pages[0])["/BleedBox"], (-BLEED, -BLEED, A4[0] + BLEED, A4[1] + BLEED)
    )
    assert close(boxes(screen.pages[0])["/MediaBox"], (0.0, 0.0, *A4))
    assert "essai-imprimeur.pdf" in result.output


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            "print_shop:\n  bleed_mm: 9\n",
            "essai.yaml:9:3: error: field 'print_shop.bleed_mm': 9 is above the maximum 5",
        ),
        (
            "print_shop:\n  bleed_mm: 3 mm\n",
            "essai.yaml:9:3: error: field 'print_shop.bleed_mm': '3 mm' is not a whole number",
        ),
        (
            "print_shop: true\n",
            "essai.yaml:8:1: error: field 'print_shop' must be a mapping of sub-fields",
        ),
        (
            "print_shop:\n  bleed: 3\n",
            "essai.yaml:9:3: error: unknown field 'bleed' in 'print_shop' (did you mean "
            "'bleed_mm'?)",
        ),
        (
            "print_shop:\n  bleed_mm: 3\n  crop_marks: peut-être\n",
            "essai.yaml:10:3: error: field 'print_shop.crop_marks': 'peut-être' is not true or "
            "false",
        ),
    ],
    ids=["bleed-too-large", "bleed-with-unit", "not-a-mapping", "unknown-option", "bad-boolean"],
)
def test_bad_print_options(tmp_path: Path, options: str, expected: str) -> None:
    root = _project_copy(tmp_path, ["occ-2023-005", "ges-2023-104"])
    (root / "collections" / "essai.yaml").write_text(GOOD + options, encoding="utf-8")
    result = CliRunner().invoke(main, ["collection", "essai", "--project", str(root)])
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not (root / "build" / "collections" / "essai-imprimeur.pdf").exists()


def test_a_collection_named_like_a_print_variant_is_refused(tmp_path: Path) -> None:
    root = _project_copy(tmp_path, ["occ-2023-005", "ges-2023-104"])
    folder = root / "collections"
    (folder / "essai.yaml").write_text(GOOD + "print_shop:\n  bleed_mm: 3\n", encoding="utf-8")
    (folder / "essai-imprimeur.yaml").write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--project", str(root), "-q"])
    assert result.exit_code == 1, result.output
    assert (
        "essai-imprimeur.yaml: error: this collection would be written over the print-shop "
        "variant of 'essai'" in result.output
    )
    printed = PdfReader(root / "build" / "collections" / "essai-imprimeur.pdf")
    assert "/BleedBox" in printed.pages[0] and float(printed.pages[0].mediabox[0]) < 0
