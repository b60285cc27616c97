"""Sheets through the command line: build, sheet, new, and what the rendered PDFs contain.

PDFs are read back with pypdf and checked for what a reader and a printer see: the text of the
first page, French spacing, page numbers, document metadata, embedded fonts, A4 pages and links.
Renders are done once per session (a sheet takes about a second).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from recueil.cli.main import main
from recueil.sources.project import load_project

REPO = Path(__file__).resolve().parents[1]
GUIDE = "resources/res-2021-001-guide-exclusions-temporaires.md"  # RES-2021-001
DOSSIER = "resources/res-2021-002-dossier-vacances-apprenantes.md"  # see_also: RES-2021-001
PASSERELLE = "experiences/hdf-2022-001-classe-passerelle.md"  # HDF-2022-001
SAMPLE = (GUIDE, DOSSIER, PASSERELLE)

NBSP, NNBSP = "\u00a0", "\u202f"
A4 = (595.28, 841.89)


def normalise(text: str) -> str:
    """Text compared regardless of typographic spaces, apostrophes and line breaks."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip()


def no_crash(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- recueil build


BREAKAGES = {
    # a front-matter error: the sheet never loads
    "front-matter": ("date: 2021-06-22", "date: 2021-06-31"),
    # a body error: the sheet loads, its body is refused before rendering (a missing image is
    # only a warning since issue 17; a link to a sheet that does not exist is an error)
    "body": ("## À retenir\n", "## À retenir\n\nVoir [la fiche](sheet:INCONNUE-1).\n"),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_build_skips_a_broken_sheet_and_keeps_its_previous_pdf(
    breakage: str, project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(*SAMPLE)
    sheets = root / "build" / "sheets"
    sheets.mkdir(parents=True)
    sentinel = b"%PDF-1.7\n% the last good render of RES-2021-002\n%%EOF\n"
    (sheets / "RES-2021-002.pdf").write_bytes(sentinel)
    source = root / "content" / DOSSIER
    old, new = BREAKAGES[breakage]
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1
    source.write_text(text.replace(old, new), encoding="utf-8")

    result = cli("build", "--project", root)

    no_crash(result)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.output
    assert errors[0].startswith(f"content/{DOSSIER}:"), errors
    assert re.search(r"^2 sheet\(s\) ready \(\d+ pages;", result.output, re.M), result.output
    assert (sheets / "RES-2021-002.pdf").read_bytes() == sentinel
    assert sorted(p.name for p in sheets.iterdir()) == [
        "HDF-2022-001.pdf",
        "RES-2021-001.pdf",
        "RES-2021-002.pdf",
    ]
    for good in ("HDF-2022-001.pdf", "RES-2021-001.pdf"):
        reader = PdfReader(sheets / good)
        assert len(reader.pages) >= 1
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- rendered PDFs


class Renders:
    """The sample sheets rendered once, through ``recueil sheet``."""

    def __init__(self, root: Path, out: Path, results: dict[str, Result]):
        self.root, self.out, self.results = root, out, results

    def reader(self, name: str) -> PdfReader:
        return PdfReader(io.BytesIO((self.out / name).read_bytes()))


@pytest.fixture(scope="session")
def renders(
    session_project: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Renders:
    root = session_project(*SAMPLE)
    out = tmp_path_factory.mktemp("renders")
    runner = CliRunner()
    results = {
        name: runner.invoke(main, ["sheet", "--project", str(root), slug, "-o", str(out / name)])
        for name, slug in (
            ("passerelle.pdf", "HDF-2022-001"),
            ("passerelle-again.pdf", "HDF-2022-001"),
            ("dossier.pdf", "res-2021-002"),  # a slug typed in lower case
        )
    }
    return Renders(root, out, results)


@pytest.fixture(scope="session")
def passerelle(renders: Renders) -> PdfReader:
    result = renders.results["passerelle.pdf"]
    assert result.exit_code == 0, result.output
    return renders.reader("passerelle.pdf")


def test_sheet_command_writes_exactly_the_files_asked_for(renders: Renders) -> None:
    for name, result in renders.results.items():
        no_crash(result)
        assert result.exit_code == 0, (name, result.output)
    assert sorted(p.name for p in renders.out.iterdir()) == [
        "dossier.pdf",
        "passerelle-again.pdf",
        "passerelle.pdf",
    ]
    # nothing but the render cache (and the build lock) is written besides the files asked for
    build = renders.root / "build"
    assert not build.exists() or sorted(p.name for p in build.iterdir()) == [".cache", ".lock"]


def test_slug_in_lower_case_finds_the_sheet(renders: Renders) -> None:
    result = renders.results["dossier.pdf"]
    assert result.exit_code == 0, result.output
    assert "RES-2021-002: " in result.output
    text = normalise(renders.reader("dossier.pdf").pages[0].extract_text())
    assert "Vacances apprenantes : préparer l'été dans les quartiers prioritaires" in text


def test_page_one_shows_title_theme_and_identity(passerelle: PdfReader) -> None:
    project, _ = load_project(REPO)
    raw = passerelle.pages[0].extract_text()
    text = normalise(raw)
    assert "Classe passerelle : préparer en douceur l'entrée à l'école maternelle" in text
    assert normalise(project.theme("petite-enfance").label) in text
    assert "Cité éducative de Denain" in text
    assert "École maternelle Les Coquelicots" in text
    assert "Nord (59), Hauts-de-France" in text
    # 31500 → thousands separated by a narrow no-break space, a no-break space before €
    assert f"31{NNBSP}500{NBSP}€" in raw
    assert f"15{NNBSP}000{NBSP}€" in raw


def test_french_spacing_reaches_the_pdf(passerelle: PdfReader) -> None:
    text = "".join(page.extract_text() for page in passerelle.pages)
    assert f"{NBSP}:" in text  # 'Collège chef de file :', the title
    assert re.search(f"{NNBSP}[;?!]|«{NNBSP}|{NNBSP}»", text)
    assert not re.search(r"\w [;?!:](?:\s|$)", text), "a plain space before ; ? ! or :"


def test_footer_numbers_every_page(passerelle: PdfReader) -> None:
    total = len(passerelle.pages)
    assert total >= 2
    for number, page in enumerate(passerelle.pages, 1):
        text = normalise(page.extract_text())
        assert f"page {number} / {total}" in text
        assert "n° HDF-2022-001" in text


def test_document_metadata(passerelle: PdfReader) -> None:
    meta = passerelle.metadata
    assert meta is not None
    source = yaml.safe_load((REPO / "content" / PASSERELLE).read_text().split("---\n")[1])
    assert normalise(str(meta["/Title"])) == normalise(source["title"])
    assert meta["/Author"] == "Claire Vandamme, chargée de mission (personnage fictif)"
    assert normalise(str(meta["/Subject"])) == normalise(source["chapo"])
    assert meta["/Keywords"] == ", ".join(source["keywords"])
    assert str(meta["/CreationDate"]).startswith("D:20220905")
    assert passerelle.trailer["/Root"]["/Lang"] == "fr"


def _fonts(resources: Any, seen: set[int]) -> Iterator[DictionaryObject]:
    """Every font of a resource dictionary, including those of nested form XObjects."""
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        yield font.get_object()
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if id(xobject) in seen or xobject.get("/Subtype") != "/Form":
            continue
        seen.add(id(xobject))
        yield from _fonts(xobject.get("/Resources"), seen)


def test_every_font_is_embedded_inter(passerelle: PdfReader) -> None:
    fonts = [font for page in passerelle.pages for font in _fonts(page.get("/Resources"), set())]
    assert fonts
    for font in fonts:
        name = str(font["/BaseFont"])
        assert re.fullmatch(r"/[A-Z]{6}\+Inter(-[\w-]+)?", name), name
        if font["/Subtype"] == "/Type0":
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        else:
            descriptor = font["/FontDescriptor"]
        descriptor = descriptor.get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), name


def test_pages_are_a4(passerelle: PdfReader) -> None:
    for page in passerelle.pages:
        box = page.mediabox
        assert float(box.width) == pytest.approx(A4[0], abs=1)
        assert float(box.height) == pytest.approx(A4[1], abs=1)


def test_see_also_opens_the_other_sheets_pdf(renders: Renders) -> None:
    reader = renders.reader("dossier.pdf")
    actions = [
        annotation.get_object()["/A"].get_object()
        for page in reader.pages
        for annotation in page.get("/Annots") or []
        if "/A" in annotation.get_object()
    ]
    remote = [a for a in actions if a["/S"] == "/GoToR"]
    assert [str(a["/F"]) for a in remote] == ["RES-2021-001.pdf"]
    assert not [a for a in actions if "recueil.invalid" in str(a.get("/URI", ""))]


def test_rendering_twice_gives_the_same_bytes(renders: Renders) -> None:
    assert renders.results["passerelle-again.pdf"].exit_code == 0
    first = (renders.out / "passerelle.pdf").read_bytes()
    assert first.startswith(b"%PDF-")
    assert (renders.out / "passerelle-again.pdf").read_bytes() == first


# --------------------------------------------------------------------------- recueil sheet


def test_sheet_with_unknown_slug_is_a_usage_error(
    project_copy: Callable[..., Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    root = project_copy(GUIDE, images=False)
    result = cli("sheet", "--project", root, "NOPE-0000", "-o", tmp_path / "x.pdf")
    no_crash(result)
    assert result.exit_code == 2
    assert "Error: no sheet with slug or path 'NOPE-0000'" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_sheet_with_bad_see_also_says_why(
    project_copy: Callable[..., Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    root = project_copy(GUIDE, DOSSIER, images=False)
    source = root / "content" / DOSSIER
    source.write_text(
        source.read_text(encoding="utf-8").replace("  - RES-2021-001", "  - RES-2099-001"),
        encoding="utf-8",
    )
    result = cli("sheet", "--project", root, "RES-2021-002", "-o", tmp_path / "x.pdf")
    no_crash(result)
    assert result.exit_code == 1
    assert (
        f"content/{DOSSIER}:34: error: field 'see_also': no sheet has the slug 'RES-2099-001'"
        in (result.output.splitlines())
    )
    assert "template error" not in result.output


# --------------------------------------------------------------------------- recueil new


#: Fields ``recueil new`` fills in itself.
FILLED_BY_NEW = ("slug", "title", "date")


def test_new_creates_a_source_with_every_field(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(GUIDE, images=False)
    result = cli("new", "--project", root, "experience", "Le café des parents !")
    no_crash(result)
    assert result.exit_code == 0, result.output
    rel = "content/experiences/le-cafe-des-parents.md"
    assert result.output.strip() == rel
    text = (root / rel).read_text(encoding="utf-8")
    assert text.startswith("---\n")
    lines = text.split("\n")
    assert "kind: experience" in lines
    assert any(line.startswith("slug: le-cafe-des-parents") for line in lines)
    assert any(line.startswith(f"date: {dt.date.today().isoformat()}") for line in lines)
    assert any(line.startswith('title: "Le café des parents !"') for line in lines)
    schema = yaml.safe_load((REPO / "kinds" / "experience.yaml").read_text(encoding="utf-8"))
    for name in schema["fields"]:
        assert any(re.match(rf"{name}:(\s|$)", line) for line in lines), name
    for section in schema["sections"]:
        assert f"## {section['title']}" in lines

    again = cli("new", "--project", root, "experience", "Le café des parents !")
    no_crash(again)
    assert again.exit_code == 2
    assert f"{rel} already exists" in again.output

    check = cli("check", "--project", root)
    no_crash(check)
    assert check.exit_code == 1
    reported = {
        m[1]
        for m in re.finditer(rf"^{re.escape(rel)}:\d+(?::\d+)?: error: (.*)$", check.output, re.M)
    }
    expected: set[str] = set()
    for name, spec in schema["fields"].items():
        if not isinstance(spec, dict) or not spec.get("required") or name in FILLED_BY_NEW:
            continue
        if spec["type"] == "object":
            expected |= {
                f"field '{name}.{sub}' is empty: it is required, fill it in"
                for sub, inner in spec["fields"].items()
                if isinstance(inner, dict) and inner.get("required")
            }
        else:
            expected.add(f"field '{name}' is empty: it is required, fill it in")
    # present but blank (what `new` writes): the message says so, not that the field is missing
    assert {
        "field 'chapo' is empty: it is required, fill it in",
        "field 'porteur.name' is empty: it is required, fill it in",
    } <= expected
    assert reported == expected, check.output
    assert f"2 source(s) checked: {len(expected)} error(s), 0 warning(s)" in check.output
