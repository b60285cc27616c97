"""Accessible PDFs (issue 16): tagged standalone sheets, and alternative text as content.

Read from the finished files alone: the structure tree with pypdf, the reading order with
poppler's ``pdfinfo -struct-text`` (skipped where poppler is not installed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from pypdf import PdfReader
from pypdf.generic import ContentStream

from conftest import copy_project, run_cli  # type: ignore[import-not-found]

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
    output = subprocess.run(
        ["pdfinfo", "-struct-text", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    quoted = re.findall(r'"(.*)"', output)
    return re.sub(r"\s+", " ", " ".join(quoted).replace("\u2019", "'"))


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


def test_a_collection_of_tagged_renders_is_consistently_untagged(
    built: tuple[Path, Result], tmp_path: Path
) -> None:
    root, _ = built
    output = tmp_path / "adhoc.pdf"
    result = run_cli("collection", "--project", root, "--slug", SLUG, "--title", "T", "-o", output)
    assert result.exit_code == 0, result.output
    reader = PdfReader(output)
    catalog: Any = reader.trailer["/Root"]
    assert "/StructTreeRoot" not in catalog
    for page in reader.pages:
        assert "/StructParents" not in page
        for annotation in page.get("/Annots", []) or []:
            assert "/StructParent" not in annotation.get_object()


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
