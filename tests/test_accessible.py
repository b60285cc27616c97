"""Accessible PDFs (issue 16): tagged standalone sheets, and alternative text as content.

Read from the finished files alone: the structure tree with pypdf, the reading order with
poppler's ``pdfinfo -struct-text`` (skipped where poppler is not installed).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ContentStream, DecodedStreamObject, NameObject

from conftest import REPO, copy_project, run_cli  # type: ignore[import-not-found]
from recueil.render.accessibility_check import problems
from recueil.render.accessibility_check import structure_text as read_structure

CAFE = "experiences/hdf-2022-003-cafe-des-parents.md"  # HDF-2022-003: table, figure, photo
SLUG = "HDF-2022-003"
TITLE = "Le café des parents du collège"
PHOTO_ALT = "Dessin de la salle : à gauche, deux parents assis sur un canapé rouge"


def alone(root: Path) -> Path:
    """The café sheet without its "see also" (the other sheets are not copied)."""
    source = root / "content" / CAFE
    text = source.read_text(encoding="utf-8")
    source.write_text(re.sub(r"\nsee_also:\n(  - .*\n)+", "\n", text), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    root = alone(copy_project(tmp_path_factory.mktemp("accessible"), [CAFE]))
    return root, run_cli("build", "--project", root, "--no-cache", "--quiet")


@pytest.fixture(scope="module")
def sheet(built: tuple[Path, Result]) -> Path:
    root, result = built
    assert result.exit_code == 0, result.output
    return root / "build" / "sheets" / f"{SLUG}.pdf"


def elements(node: Any) -> Iterator[Any]:
    """Every structure element under ``node``, in the tree's order."""
    kids = node.get("/K")
    if kids is None:
        return
    kids = kids.get_object()
    for kid in kids if isinstance(kids, list) else [kids]:
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, dict) and kid.get("/Type") != "/MCR" and "/S" in kid:
            yield kid
            yield from elements(kid)


def roles(pdf: Path) -> list[Any]:
    root: Any = PdfReader(pdf).trailer["/Root"]
    return list(elements(root["/StructTreeRoot"]))


def structure_text(pdf: Path) -> str:
    if shutil.which("pdfinfo") is None:
        pytest.fail("poppler's pdfinfo is not installed: run `make install`", pytrace=False)
    return read_structure(pdf)


def test_a_sheet_is_tagged_in_french_and_shows_its_title(sheet: Path) -> None:
    root: Any = PdfReader(sheet).trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "fr"
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712


def test_its_structure_has_headings_lists_tables_and_described_figures(sheet: Path) -> None:
    found = roles(sheet)
    names = [str(element["/S"]) for element in found]
    assert names.count("/H1") == 1
    assert {"/H2", "/H3", "/P", "/L", "/LI", "/Table", "/TH", "/TD", "/Caption"} <= set(names)
    figures = [element for element in found if element["/S"] == "/Figure"]
    assert len(figures) == 2  # the plan in the body, the photo in front matter
    assert all(str(figure.get("/Alt", "")).strip() for figure in figures)
    alts = [str(figure["/Alt"]) for figure in figures]
    assert any(alt.startswith("Plan vu du dessus de la salle") for alt in alts)
    assert any(alt.startswith(PHOTO_ALT) for alt in alts)  # the photo's alt, not its caption


def test_the_identity_card_reads_as_terms_and_their_definitions(sheet: Path) -> None:
    """Each label of the card is the Lbl of an item whose LBody is its value (WeasyPrint made
    every dt and dd an item of its own)."""
    items = [e for e in roles(sheet) if e["/S"] == "/LI"]
    shapes = [[str(k["/S"]) for k in elements(item) if k["/P"] == item] for item in items]
    assert shapes.count(["/Lbl", "/LBody"]) >= 8  # territoire, porteur, public, budget...
    assert ["/LBody"] not in shapes  # no label or value is an item of its own
    text = structure_text(sheet)
    assert text.find("TERRITOIRE") < text.find("Cité éducative de Roubaix") < text.find("PORTEUR")


def test_footnotes_are_notes_named_in_the_id_tree(sheet: Path) -> None:
    """The café's two footnotes are Note elements (not items of a list) with the note's id,
    each holding its number and its text; the root's ID tree names them and the table
    header cells (which have IDs too)."""
    found = roles(sheet)
    notes = [e for e in found if e["/S"] == "/Note"]
    assert [str(n["/ID"]) for n in notes] == [f"{SLUG}--fn-1", f"{SLUG}--fn-2"]
    assert all(str(n["/P"]["/S"]) == "/Div" for n in notes)  # the list of notes is no list
    assert [next(str(k["/S"]) for k in elements(n) if k["/P"] == n) for n in notes] == [
        "/Lbl",
        "/Lbl",
    ]
    root: Any = PdfReader(sheet).trailer["/Root"]["/StructTreeRoot"]
    names = list(root["/IDTree"]["/Names"])
    named = dict(zip([str(n) for n in names[::2]], names[1::2], strict=True))
    assert names[::2] == sorted(names[::2])
    assert [named[str(n["/ID"])].idnum for n in notes] == [
        n.indirect_reference.idnum for n in notes
    ]
    assert sum(1 for e in found if e["/S"] == "/TH") == sum(1 for k in named if "--fn-" not in k)
    text = structure_text(sheet)
    first = text.find("Circulaire du 25 août 2006")
    assert text.rfind("1.", 0, first) > 0
    assert first < text.find("Rapport d'évaluation non publié")


def test_passages_in_other_languages_are_read_in_them(sheet: Path) -> None:
    """The café's door says "welcome" in the families' languages (``*welcome*{lang=en}``):
    each word is a Span with its /Lang, read in that language; the rest is the document's
    French (no other element says a language)."""
    spoken = [e for e in roles(sheet) if "/Lang" in e]
    assert [(str(e["/S"]), str(e["/Lang"])) for e in spoken] == [
        ("/Span", "en"),
        ("/Span", "es"),
        ("/Span", "tr"),
        ("/Span", "pt"),
    ]
    assert all(len(e["/K"]) == 1 and isinstance(e["/K"][0], int) for e in spoken)
    reader = PdfReader(sheet)
    pages = [page.indirect_reference.idnum for page in reader.pages]
    words = [
        marked_text(reader.pages[pages.index(e.raw_get("/Pg").idnum)])[e["/K"][0]].strip()
        for e in spoken
    ]
    assert words == ["welcome", "bienvenida", "hoş geldiniz", "bem-vindo"], words


def marked_text(page: Any) -> dict[int, str]:
    """The text shown inside each marked-content sequence of a page, by MCID."""
    open_: list[int | None] = []
    found: dict[int, str] = {}

    def before(operator: bytes, operands: Any, *_: Any) -> None:
        if operator in (b"BDC", b"BMC"):
            properties = operands[1] if operator == b"BDC" else None
            mcid = properties.get("/MCID") if isinstance(properties, dict) else None
            open_.append(int(mcid) if mcid is not None else None)
        elif operator == b"EMC" and open_:
            open_.pop()

    def shown(text: str, *_: Any) -> None:
        if open_ and open_[-1] is not None:
            found[open_[-1]] = found.get(open_[-1], "") + text

    page.extract_text(visitor_operand_before=before, visitor_text=shown)
    return found


def test_the_stamped_page_number_is_a_pagination_artifact(sheet: Path) -> None:
    reader = PdfReader(sheet)
    for page in reader.pages:
        stack: list[str] = []
        stamped = False
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator in (b"BDC", b"BMC"):
                stack.append(str(operands[0]))
            elif operator == b"EMC":
                stack.pop()
            elif operator == b"Do" and str(operands[0]).startswith("/RecueilStamp"):
                assert stack == ["/Artifact"], stack
                stamped = True
        assert stamped and not stack


def test_the_structure_reads_in_order_without_page_numbers(sheet: Path) -> None:
    text = structure_text(sheet)
    places = [
        text.find(TITLE),
        text.find("Depuis 2020, un collège de Roubaix"),  # the chapô
        text.find("CARTE D'IDENTITÉ DE L'ACTION"),
        text.find("Contexte et origine"),
    ]
    assert -1 not in places and places == sorted(places), places
    assert not re.search(r"page \d+ / \d+", text)


def test_an_adhoc_collection_is_tagged_with_its_sheet_as_a_section(
    built: tuple[Path, Result], tmp_path: Path
) -> None:
    root, _ = built
    output = tmp_path / "adhoc.pdf"
    result = run_cli("collection", "--project", root, "--slug", SLUG, "--title", "T", "-o", output)
    assert result.exit_code == 0, result.output
    assert problems(output) == []
    reader = PdfReader(output)
    document = next(elements(reader.trailer["/Root"]["/StructTreeRoot"]))  # type: ignore[index]
    assert document["/S"] == "/Document"
    sections = [e for e in elements(document) if e["/P"] == document]
    sheet = [s for s in sections if any(e["/S"] == "/Art" for e in elements(s))]
    assert len(sheet) == 1 and sheet[0]["/S"] == "/Sect"
    numbered = [p for p in reader.pages if "/StructParents" in p]
    assert len(numbered) == len(reader.pages)
    text = structure_text(output)
    assert text.find(TITLE) < text.find("Depuis 2020, un collège de Roubaix")


# --------------------------------------------------------------------------- alternative text


def _with_body(project_copy: Callable[..., Path], image: str) -> tuple[Path, int]:
    """The café sheet with its plan written as ``image``; the project and that image's line."""
    root = alone(project_copy(CAFE))
    source = root / "content" / CAFE
    lines = source.read_text(encoding="utf-8").split("\n")
    number = next(n for n, line in enumerate(lines) if line.startswith("![Plan vu du dessus"))
    lines[number] = image
    source.write_text("\n".join(lines), encoding="utf-8")
    return root, number + 1


NO_ALT = "warning: image '../images/hdf-2022-003-plan.svg' has no alternative text"


def test_an_image_without_alternative_text_is_a_warning_at_its_line(
    project_copy: Callable[..., Path],
) -> None:
    root, line = _with_body(project_copy, "![](../images/hdf-2022-003-plan.svg)")
    build = run_cli("build", "--project", root, "--quiet")
    assert f"content/{CAFE}:{line}: {NO_ALT}" in build.output
    assert build.exit_code == 0  # a warning: the sheet is built
    assert (root / "build" / "sheets" / f"{SLUG}.pdf").is_file()
    strict = run_cli("check", "--project", root, "--strict")
    assert f"content/{CAFE}:{line}: {NO_ALT}" in strict.output
    assert strict.exit_code == 1


def test_a_decorative_image_says_so_and_is_not_reported(
    project_copy: Callable[..., Path],
) -> None:
    root, _ = _with_body(project_copy, "![](../images/hdf-2022-003-plan.svg){.decoratif}")
    check = run_cli("check", "--project", root, "--strict")
    assert "alternative text" not in check.output
    assert check.exit_code == 0, check.output


def test_the_sample_has_no_image_without_alternative_text() -> None:
    check = run_cli("check", "--project", Path(__file__).resolve().parents[1])
    assert "alternative text" not in check.output
    assert check.output.rstrip().endswith("0 warning(s)"), check.output[-500:]


# --------------------------------------------------------------- the whole sample, as a validator


def sample_sources() -> list[str]:
    content = REPO / "content"
    return sorted(
        str(path.relative_to(content))
        for path in content.rglob("*.md")
        if "images" not in path.parts
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole sample project built once: every sheet, every collection."""
    root = copy_project(tmp_path_factory.mktemp("sample"), sample_sources())
    shutil.copy2(REPO / "recueil.yaml", root / "recueil.yaml")
    shutil.copytree(REPO / "collections", root / "collections")
    result = run_cli("build", "--project", root, "--no-cache", "--quiet")
    assert result.exit_code == 0, result.output
    return root


def test_every_sample_sheet_passes_the_checks(sample: Path) -> None:
    sheets = sorted((sample / "build" / "sheets").glob("*.pdf"))
    assert len(sheets) == len(sample_sources())
    found = {sheet.name: problems(sheet) for sheet in sheets}
    assert not {name: found for name, found in found.items() if found}


def test_every_sample_sheet_reads_without_its_footer(sample: Path) -> None:
    """Title first; the footer ("Retour d'expérience n° X", repeated on every page) and the
    stamped page numbers are not read: the sheet's number is read once, in the band."""
    for sheet in sorted((sample / "build" / "sheets").glob("*.pdf")):
        text = structure_text(sheet)
        title = str(PdfReader(sheet).metadata.title)
        assert text.find(title.replace("\u2019", "'")[:40]) < 200, (sheet.name, text[:300])
        assert text.count(f"n° {sheet.stem}") == 1, (sheet.name, text.count(f"n° {sheet.stem}"))
        assert not re.search(r"page \d+ / \d+", text), sheet.name


def test_links_are_described_by_their_words(sample: Path) -> None:
    contents = [
        str(annotation.get_object().get("/Contents", ""))
        for sheet in (sample / "build" / "sheets").glob("*.pdf")
        for page in PdfReader(sheet).pages
        for annotation in page.get("/Annots", []) or []
    ]
    assert len(contents) > 40
    assert not [c for c in contents if "recueil.invalid" in c or "--fn" in c or not c.strip()]
    assert "Note 1" in contents and "Retour au texte" in contents


def test_a_decorative_image_is_an_artifact(project_copy: Callable[..., Path]) -> None:
    root, _ = _with_body(project_copy, "![](../images/hdf-2022-003-plan.svg){.decoratif}")
    assert run_cli("build", "--project", root, "--quiet").exit_code == 0
    pdf = root / "build" / "sheets" / f"{SLUG}.pdf"
    figures = [e for e in roles(pdf) if e["/S"] == "/Figure"]
    assert [str(f["/Alt"])[: len(PHOTO_ALT)] for f in figures] == [PHOTO_ALT]  # the photo only
    assert problems(pdf) == []


# ------------------------------------------------------------- the checks fail on a broken file


def _broken(sheet: Path, tmp_path: Path, damage: Callable[[PdfWriter], None]) -> list[str]:
    writer = PdfWriter(clone_from=sheet)
    damage(writer)
    output = tmp_path / "broken.pdf"
    writer.write(output)
    return problems(output)


def test_the_checks_see_what_a_validator_sees(sheet: Path, tmp_path: Path) -> None:
    assert problems(sheet) == []

    def no_alt(writer: PdfWriter) -> None:
        catalog: Any = writer.root_object
        for element in elements(catalog["/StructTreeRoot"]):
            if element["/S"] == "/Figure":
                del element["/Alt"]

    assert "a Figure without /Alt [13-004]" in _broken(sheet, tmp_path, no_alt)

    def h3_for_h2(writer: PdfWriter) -> None:
        catalog: Any = writer.root_object
        for element in elements(catalog["/StructTreeRoot"]):
            if element["/S"] == "/H2":
                element[NameObject("/S")] = NameObject("/H3")
                return

    assert any("[14-003]" in p for p in _broken(sheet, tmp_path, h3_for_h2))

    def unmarked_line(writer: PdfWriter) -> None:
        page = writer.pages[0]
        line = DecodedStreamObject()
        line.set_data(b"0 0 m 100 100 l S")  # a stroke outside any marked content
        contents = page["/Contents"].get_object()
        page[NameObject("/Contents")] = ArrayObject(
            [
                *(contents if isinstance(contents, list) else [page.raw_get("/Contents")]),
                writer._add_object(line),
            ]
        )

    found = _broken(sheet, tmp_path, unmarked_line)
    assert found == ["page 1: 'S' painted outside marked content (first of stream) [01-005]"]

    def note_without_id(writer: PdfWriter) -> None:
        catalog: Any = writer.root_object
        for element in elements(catalog["/StructTreeRoot"]):
            if element["/S"] == "/Note":
                del element["/ID"]
                return

    assert "a Note without /ID [19-003]" in _broken(sheet, tmp_path, note_without_id)

    def no_id_tree(writer: PdfWriter) -> None:
        catalog: Any = writer.root_object
        del catalog["/StructTreeRoot"]["/IDTree"]

    assert f"the ID '{SLUG}--fn-1' is not in the /IDTree, or names another element" in (
        _broken(sheet, tmp_path, no_id_tree)
    )

    def no_struct_parent(writer: PdfWriter) -> None:
        for page in writer.pages:
            for annotation in page.get("/Annots", []) or []:
                del annotation.get_object()["/StructParent"]
                return

    assert any("[28-011]" in p for p in _broken(sheet, tmp_path, no_struct_parent))


def test_an_untagged_file_fails_the_checks(built: tuple[Path, Result], tmp_path: Path) -> None:
    root, _ = built
    output = tmp_path / "plain.pdf"
    writer = PdfWriter(clone_from=root / "build" / "sheets" / f"{SLUG}.pdf")
    catalog: Any = writer.root_object
    for key in ("/StructTreeRoot", "/MarkInfo", "/Lang"):
        del catalog[key]
    writer.write(output)
    found = problems(output)
    assert "not tagged: no /StructTreeRoot (ISO 7.1)" in found
    assert "no /Lang on the catalog [11-001]" in found


def test_every_sample_collection_passes_the_checks(sample: Path) -> None:
    """The three collections and the print-shop variant of one: one structure tree each."""
    collections = sorted((sample / "build" / "collections").glob("*.pdf"))
    assert [c.name for c in collections] == [
        "pack-seminaire-cpo.pdf",
        "rencontre-nationale-2022-imprimeur.pdf",
        "rencontre-nationale-2022.pdf",
        "ressources-documentaires.pdf",
    ]
    assert {c.name: problems(c) for c in collections} == {c.name: [] for c in collections}


def test_a_collection_reads_without_its_stamped_footers(sample: Path) -> None:
    """The frame's pages are stamped with the collection's title and a number, the sheets'
    with their theme: none of it is read; the title is read on the cover, the title page and
    the colophon, and the sheets' headings sit one level under their divider's."""
    pdf = sample / "build" / "collections" / "rencontre-nationale-2022.pdf"
    reader = PdfReader(pdf)
    title = str(reader.metadata.title)
    text = structure_text(pdf)
    assert 0 <= text.find(title) < 200  # on the cover, read first
    assert text.count(title) == 3, text.count(title)
    found = list(elements(reader.trailer["/Root"]["/StructTreeRoot"]))  # type: ignore[index]
    sheets = [e for e in found if e["/S"] == "/Art"]
    headings = {str(h["/S"]) for s in sheets for h in elements(s) if str(h["/S"])[1] == "H"}
    assert "/H1" not in headings and "/H2" in headings
    assert {"/TOC", "/TOCI"} <= {str(e["/S"]) for e in found}
    named = [e for e in found if "/ID" in e]
    ids = [str(e["/ID"]) for e in named]  # "sheet:SLUG:ID" in a sheet
    notes = sorted(str(e["/ID"]) for e in named if e["/S"] == "/Note")
    slugs = {i.split(":")[1] for i in ids if i.startswith("sheet:")}
    sheet_notes = sorted(  # the notes of each sheet's own PDF, prefixed with the sheet
        f"sheet:{slug}:{e['/ID']}"
        for slug in slugs
        for e in roles(sample / "build" / "sheets" / f"{slug}.pdf")
        if e["/S"] == "/Note"
    )
    assert len(notes) >= 10 and notes == sheet_notes
    assert [str(e["/Lang"]) for e in found if "/Lang" in e] == ["en", "es", "tr", "pt"]
    assert len(set(ids)) == len(ids)


def test_an_edition_is_tagged_pdf_ua_throughout(sample: Path) -> None:
    """An edition's sheets and collections (PDF/A-2a) pass the same checks, and say PDF/UA-1
    in their XMP beside the PDF/A claim, with the extension schema PDF/A asks for."""
    result = run_cli("edition", "create", "2023", "--project", sample, "--title", "Essai")
    assert result.exit_code == 0, result.output
    edition = sample / "build" / "editions" / "2023"
    files = sorted(edition.glob("collections/*.pdf")) + sorted(edition.glob("sheets/*.pdf"))
    assert len(files) > 3 + 30  # the collections, and the sheets an edition publishes
    assert {f.name: problems(f) for f in files} == {f.name: [] for f in files}
    xmp = PdfReader(files[0]).trailer["/Root"]["/Metadata"].get_data()  # type: ignore[index]
    assert b"<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>" in xmp
