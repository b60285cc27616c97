"""Collections checked from the finished PDF alone: numbers, labels, outline, links, recto-verso."""

from __future__ import annotations

import io
import re
import shutil
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from recueil.cli.main import main
from recueil.collection.collection_build import build_collection
from recueil.collection.declared import discover_collections
from recueil.collection.definition import isbn13_valid, load_collection
from recueil.collection.onepass import onepass_html
from recueil.render.sheet_build import SheetRenderer, load_corpus
from recueil.render.weasy import render_pdf
from recueil.sources.project import load_project

sys.path.insert(0, str(Path(__file__).parent))
from pdfinspect import footer_number, footer_run, internal_links, outline_pages, runs

REPO = Path(__file__).resolve().parents[1]
MM = 72 / 25.4


def normalise(text: str) -> str:
    """Compare text regardless of typographic spaces, apostrophes, quotes and line breaks."""
    text = unicodedata.normalize("NFC", text)
    for odd, plain in (("\u2019", "'"), ("\u00a0", " "), ("\u202f", " "), ("\u2011", "-")):
        text = text.replace(odd, plain)
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def national() -> tuple[PdfReader, list, object]:
    """The sample project's printed collection, built once for this module."""
    project, problems = load_project(REPO)
    assert not problems
    corpus = load_corpus(project)
    collections, problems = discover_collections(project)
    assert not problems
    collection = next(c for c in collections if c.name == "rencontre-nationale-2022")
    renderer = SheetRenderer(project, corpus)
    result, diagnostics = build_collection(project, corpus, collection, renderer)
    assert result is not None, [d.format() for d in diagnostics]
    sheets = [s for s in corpus.sheets if s.kind == "experience"]
    assert renderer.layouts == len(sheets)  # each sheet laid out exactly once
    return PdfReader(io.BytesIO(result.pdf)), sheets, project


def test_page_numbers_on_the_outer_edge_in_recto_verso(national) -> None:
    """Rectos (odd numbers) carry their number on the right half, versos on the left half."""
    reader, _, _ = national
    numbered = 0
    for index, page in enumerate(reader.pages):
        run = footer_run(page)
        if run is None or not re.fullmatch(r"\d+|[ivxlc]+", run.text.strip()):
            continue
        numbered += 1
        width = float(page.trimbox[2])
        if index % 2 == 0:
            assert run.x > width / 2 + 200, (index, run)
        else:
            assert run.x < width / 2 - 200, (index, run)
        # in the outer margin, beyond the footer's own text (which starts at the 17 mm margin)
        assert run.x < 17 * MM or run.x > width - 17 * MM, (index, run)
    assert numbered > 0.7 * len(reader.pages)  # all but cover, title, back cover and blanks


def test_page_numbers_stay_on_the_right_without_recto_verso(tmp_path: Path) -> None:
    root = _project_copy(tmp_path, ["occ-2023-005", "ges-2023-104", "hdf-2022-003"])
    (root / "collections" / "essai.yaml").write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(main, ["collection", "essai", "--project", str(root)])
    assert result.exit_code == 0, result.output
    reader = PdfReader(root / "build" / "collections" / "essai.pdf")
    assert not (root / "build" / "collections" / "essai-imprimeur.pdf").exists()
    numbers = [footer_run(page) for page in reader.pages]
    verso = [run for index, run in enumerate(numbers) if run is not None and index % 2 == 1]
    assert verso and all(run.x > 595.28 / 2 for run in verso)


def first_page_of(reader: PdfReader, texts: list[str], label: str, slug: str) -> int:
    """The first page whose footer names the sheet (the kind label, n°, slug)."""
    marker = normalise(f"{label} n° {slug}")
    return next(i for i, text in enumerate(texts) if marker in text)


def test_every_sheet_number_agrees_everywhere(national) -> None:
    reader, sheets, project = national
    texts = [normalise(page.extract_text()) for page in reader.pages]
    labels = reader.page_labels
    outline = outline_pages(reader)
    toc_pages = [p for _, title, p in outline if title == "Sommaire"]
    toc_start = toc_pages[0]
    divider_starts = [p for depth, title, p in outline if depth == 0 and re.match(r"\d+\. ", title)]
    toc_range = range(toc_start, divider_starts[0])
    index_start = next(p for _, title, p in outline if title == "Index des territoires")
    index_end = next(p for _, title, p in outline if title == "Index des mots-clés")
    label = project.kinds["experience"].label
    assert len(sheets) >= 24
    for sheet in sheets:
        page = first_page_of(reader, texts, label, sheet.slug)
        assert normalise(sheet.title) in texts[page], sheet.slug
        printed = footer_number(reader.pages[page])
        assert printed.isdigit(), (sheet.slug, printed)
        assert labels[page] == printed
        # recto-verso: every sheet starts on a right-hand (odd) page
        assert page % 2 == 0 and int(printed) % 2 == 1, (sheet.slug, page, printed)
        # table of contents
        toc_links = [
            link for p in toc_range for link in internal_links(reader, p) if link.target == page
        ]
        assert toc_links, f"no TOC link to {sheet.slug}"
        assert any(link.text.split()[-1] == printed for link in toc_links), toc_links
        # its theme divider
        theme = project.theme(sheet.meta["theme"])
        divider = next(p for d, t, p in outline if d == 0 and t.endswith(theme.label))
        divider_links = [link for link in internal_links(reader, divider) if link.target == page]
        assert any(link.text.split()[-1] == printed for link in divider_links)
        # territory index
        index_links = [
            link
            for p in range(index_start, index_end)
            for link in internal_links(reader, p)
            if link.target == page
        ]
        assert any(link.text.split()[-1] == printed for link in index_links), index_links
        # outline entry: the sheet's title, under its theme, on that page
        entries = [(d, p) for d, t, p in outline if t == sheet.title]
        assert entries == [(1, page)], (sheet.slug, entries)


def test_running_header_on_every_sheet_page_but_the_first(national) -> None:
    """The theme's short name heads a sheet's following pages and nothing else.

    A running element stays in force until another replaces it: the first page of a sheet,
    which has its own band, and the dividers, blanks and back cover after a sheet once showed
    the previous page's header.
    """
    reader, sheets, project = national
    texts = [normalise(page.extract_text()) for page in reader.pages]
    label = project.kinds["experience"].label
    expected: dict[int, list[str]] = {}
    for sheet in sheets:
        marker = normalise(f"{label} n° {sheet.slug}")
        pages = [i for i, text in enumerate(texts) if marker in text]
        assert len(pages) >= 2, sheet.slug
        short = project.theme(sheet.meta["theme"]).short.upper()
        expected |= {page: [] if page == pages[0] else [short] for page in pages}
    for index, page in enumerate(reader.pages):
        top = float(page.mediabox.height) - 13 * MM
        shown = [run.text.strip() for run in runs(page) if run.y > top]
        assert shown == expected.get(index, []), (index, shown)


def test_dividers_and_labels(national) -> None:
    reader, _, _ = national
    outline = outline_pages(reader)
    dividers = [(t, p) for d, t, p in outline if d == 0 and re.match(r"\d+\. ", t)]
    assert [t.split(".")[0] for t, _ in dividers] == [str(n) for n in range(1, 12)]
    for _, page in dividers:
        assert page % 2 == 0  # right-hand page
        assert reader.page_labels[page] == footer_number(reader.pages[page])
    labels = reader.page_labels
    first_arabic = labels.index("1")
    assert all(re.fullmatch(r"[ivxlc]+", label) for label in labels[:first_arabic])
    assert labels[first_arabic:] == [str(n) for n in range(1, len(labels) - first_arabic + 1)]
    # every printed number equals its page label
    for index, page in enumerate(reader.pages):
        printed = footer_number(page)
        if printed:
            assert printed == labels[index], index
    assert len(reader.pages) % 2 == 0  # the back cover is a verso


def test_document_metadata(national) -> None:
    reader, _, _ = national
    info = reader.metadata
    assert info["/Title"] == "Cités éducatives : des actions qui font réseau"
    assert info["/CreationDate"] == "D:20221010"
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    text = normalise(reader.pages[-2].extract_text() + reader.pages[-3].extract_text())
    assert "ISBN 978-2-9585474-0-0" in text
    assert "Dépôt légal : octobre 2022" in text
    assert "Achevé d'imprimer le 30 septembre 2022" in text


def test_cross_sheet_links_jump_inside_the_collection(national) -> None:
    reader, sheets, project = national
    texts = [normalise(page.extract_text()) for page in reader.pages]
    label = project.kinds["experience"].label
    starts = {s.slug: first_page_of(reader, texts, label, s.slug) for s in sheets}
    referring = [s for s in sheets if s.meta.get("see_also")]
    assert referring
    for sheet in referring:
        start = starts[sheet.slug]
        pages = range(start, start + 6)
        targets = {link.target for p in pages for link in internal_links(reader, p)}
        for ref in sheet.meta["see_also"]:
            assert starts[ref] in targets, (sheet.slug, ref)
    # no link is left pointing at the virtual goto address
    for page in reader.pages:
        for annotation in page.get("/Annots", []) or []:
            action = annotation.get_object().get("/A")
            if action is not None:
                assert "goto/" not in str(action.get_object().get("/URI", ""))


def test_page_numbers_match_one_pass_oracle() -> None:
    """WeasyPrint's own target-counter() numbering of the same sheets agrees with ours."""
    project, _ = load_project(REPO)
    corpus = load_corpus(project)
    chosen = [s for s in corpus.sheets if s.kind == "experience"][:6]
    renderer = SheetRenderer(project, corpus)
    oracle = render_pdf(
        onepass_html(renderer, chosen, "oracle"),
        project_dir=project.root,
        style_dirs=project.style_dirs,
        rel="oracle",
    )
    collections, _ = discover_collections(project)
    base = next(c for c in collections if c.name == "rencontre-nationale-2022")
    meta = dict(base.meta)
    meta.update(
        select={"slugs": [s.slug for s in chosen]},
        group_by="none",
        order="explicit",
        recto_verso=False,
    )
    adhoc = type(base)("oracle", base.source, meta)
    result, diagnostics = build_collection(project, corpus, adhoc, renderer)
    assert result is not None, diagnostics
    reader = PdfReader(io.BytesIO(result.pdf))
    ours = {
        s.slug: int(footer_number(reader.pages[result.sheet_first_page[s.slug]])) for s in chosen
    }
    theirs = {s.slug: oracle.anchors[f"sheet-{s.slug}"] for s in chosen}
    first = chosen[0].slug
    assert {k: v - ours[first] for k, v in ours.items()} == {
        k: v - theirs[first] for k, v in theirs.items()
    }
    # the oracle's TOC, computed by WeasyPrint, prints the same relative numbers
    toc = PdfReader(io.BytesIO(oracle.pdf)).pages[0].extract_text()
    numbers = [int(n) for n in re.findall(r"(\d+)\s*$", toc, flags=re.M)]
    assert [n - numbers[0] for n in numbers] == [ours[s.slug] - ours[first] for s in chosen]


def test_isbn_validation() -> None:
    assert isbn13_valid("978-2-9585474-0-0")
    assert isbn13_valid("9782958547400")
    assert not isbn13_valid("978-2-9585474-0-6")
    assert not isbn13_valid("123")


def _project_copy(tmp_path: Path, slugs: list[str]) -> Path:
    root = tmp_path / "project"
    for name in ("kinds", "templates", "styles"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "themes.yaml", root / "themes.yaml")
    (root / "content" / "experiences").mkdir(parents=True)
    shutil.copytree(REPO / "content" / "images", root / "content" / "images")
    for source in sorted((REPO / "content" / "experiences").glob("*.md")):
        if source.name.split("-")[0:3] and any(source.name.startswith(s.lower()) for s in slugs):
            shutil.copy(source, root / "content" / "experiences" / source.name)
    (root / "collections").mkdir()
    return root


GOOD = """title: Essai
date: 2023-05-01
select:
  slugs: [OCC-2023-005, GES-2023-104]
colophon:
  publisher: Centre de ressources
  publisher_address: 1 rue de l'Exemple, 75000 Paris
"""


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t.replace("OCC-2023-005", "OCC-2099-999"),
            "essai.yaml:4: error: field 'select.slugs': no sheet has the slug 'OCC-2099-999'",
        ),
        (
            lambda t: t.replace(
                "select:\n  slugs: [OCC-2023-005, GES-2023-104]", "select:\n  themes: [numerque]"
            ),
            "essai.yaml:4:12: error: field 'select.themes[0]': unknown theme 'numerque' (not in "
            "themes.yaml); did you mean 'numerique'?",
        ),
        (
            lambda t: t.replace(
                "select:\n  slugs: [OCC-2023-005, GES-2023-104]", "select:\n  themes: [numerique]"
            ),
            "essai.yaml:3: error: the selection is empty: no sheet matches 'select'",
        ),
        (
            lambda t: t + "  isbn: 978-2-9585474-0-6\n",
            "essai.yaml:8:3: error: field 'colophon.isbn': '978-2-9585474-0-6' is not a valid "
            "ISBN-13",
        ),
        (
            lambda t: t + "editorial: missing.md\n",
            "essai.yaml:8:1: error: field 'editorial': file 'missing.md' does not exist",
        ),
    ],
    ids=["unknown-slug", "unknown-theme", "empty-selection", "bad-isbn", "missing-editorial"],
)
def test_bad_collection_files(tmp_path: Path, edit, expected: str) -> None:
    root = _project_copy(tmp_path, ["occ-2023-005", "ges-2023-104"])
    (root / "collections" / "essai.yaml").write_text(edit(GOOD), encoding="utf-8")
    result = CliRunner().invoke(main, ["collection", "essai", "--project", str(root)])
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not (root / "build" / "collections" / "essai.pdf").exists()


def test_adhoc_collection_from_the_command_line(tmp_path: Path) -> None:
    root = _project_copy(tmp_path, ["occ-2023-005", "ges-2023-104", "hdf-2022-003"])
    output = tmp_path / "adhoc.pdf"
    result = CliRunner().invoke(
        main,
        [
            "collection",
            "--project",
            str(root),
            "--region",
            "Occitanie",
            "--region",
            "Grand Est",
            "--title",
            "Sud et Est",
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    reader = PdfReader(output)
    assert reader.metadata["/Title"] == "Sud et Est"
    titles = [t for _, t, _ in outline_pages(reader)]
    text = normalise(" ".join(page.extract_text() for page in reader.pages))
    assert "n° OCC-2023-005" in text and "n° GES-2023-104" in text
    assert "n° HDF-2022-003" not in text
    assert "Index des territoires" in titles


@pytest.mark.parametrize(
    ("editorial", "settings", "expected"),
    [
        (
            b"Bonjour.\n\nL'\xe9quipe du centre de ressources\n",  # saved as Latin-1
            "",
            "collections/edito.md:3: error: not valid UTF-8 text (save the file as UTF-8)",
        ),
        (
            b"Un \xe9ditorial tr\xe8s long.\n" * 200,
            "max_file_bytes: 4000\n",
            "collections/edito.md: error: file is 4,800 bytes, above the limit of 4,000 "
            "(setting max_file_bytes)",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "",
            "collections/edito.md: error: not a text file (it contains NUL bytes)",
        ),
    ],
    ids=["latin-1", "too-large", "binary"],
)
def test_bad_editorials(tmp_path: Path, editorial: bytes, settings: str, expected: str) -> None:
    """An editorial is read like a source: size cap, UTF-8, no binary; the error names the
    editorial file (and the line of the first bad byte), and there is no traceback."""
    root = _project_copy(tmp_path, ["occ-2023-005", "ges-2023-104"])
    if settings:
        (root / "recueil.yaml").write_text(settings, encoding="utf-8")
    (root / "collections" / "edito.md").write_bytes(editorial)
    (root / "collections" / "essai.yaml").write_text(
        GOOD + "editorial: edito.md\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["collection", "essai", "--project", str(root)])
    assert result.exit_code == 1, result.output
    assert expected in result.output.splitlines()
    assert "Traceback" not in result.output
    assert not (root / "build" / "collections" / "essai.pdf").exists()


def test_an_editorial_in_utf8_with_a_bom_and_crlf_is_read(tmp_path: Path) -> None:
    root = _project_copy(tmp_path, ["occ-2023-005"])
    (root / "collections" / "edito.md").write_bytes(
        "\ufeffPremière ligne.\r\n\r\nDeuxième ligne.\r\n".encode()
    )
    (root / "collections" / "essai.yaml").write_text(
        GOOD + "editorial: edito.md\n", encoding="utf-8"
    )
    collection, problems = load_collection(root, root / "collections" / "essai.yaml", ())
    assert problems == []
    assert collection is not None
    assert collection.editorial_markdown == "Première ligne.\n\nDeuxième ligne.\n"
