"""One broken sheet fails alone: sheets pointing to it build, collections never lose it silently.

The situation a new user met: the front matter of ARA-2022-004 broken, and HDF-2022-003 (whose
"voir aussi" lists it) refused with "no sheet has the slug 'ARA-2022-004'", while the national
collection was rewritten three sheets short, exit code 1 the only sign.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from pypdf import PdfReader

ARA = "experiences/ara-2022-004-mediatrices-familles-ecole.md"
CAFE = "experiences/hdf-2022-003-cafe-des-parents.md"  # see_also: HDF-2022-001, ARA, OCC
OTHERS = (
    "experiences/hdf-2022-001-classe-passerelle.md",
    "experiences/occ-2023-005-francais-parents.md",
    "resources/res-2021-001-guide-exclusions-temporaires.md",
)
COLLECTION = """\
title: Recueil d'essai
date: 2024-05-02
select:
  kinds: [experience]
group_by: theme
order: title
indexes: [territories]
colophon:
  publisher: Centre d'essai
  publisher_address: 1 rue de l'Essai, 59000 Lille
"""
BAD_DATE = "field 'date': '2022-13-45' is not a valid calendar date"


def _project(project_copy: Callable[..., Path]) -> Path:
    root = project_copy(ARA, CAFE, *OTHERS)
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(COLLECTION, encoding="utf-8")
    return root


def _break(root: Path, rel: str = ARA) -> None:
    path = root / "content" / rel
    text = path.read_text(encoding="utf-8")
    lines = [
        ("date: 2022-13-45" if line.startswith("date:") else line) for line in text.split("\n")
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def test_a_sheet_pointing_to_a_broken_sheet_builds_with_a_warning_naming_it(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = _project(project_copy)
    _break(root)
    result = cli("build", "--project", root, "--quiet")
    assert result.exit_code == 1  # the broken sheet is an error
    lines = result.output.splitlines()
    assert f"content/{ARA}:19:1: error: {BAD_DATE}" in lines
    cafe = (root / "content" / CAFE).read_text(encoding="utf-8").split("\n")
    line = cafe.index("see_also:") + 1
    assert (
        f"content/{CAFE}:{line}: warning: field 'see_also': the sheet 'ARA-2022-004' has errors "
        f"(content/{ARA}) and is not built until they are fixed"
    ) in lines
    assert "no sheet has the slug" not in result.output
    sheets = root / "build" / "sheets"
    assert not (sheets / "ARA-2022-004.pdf").exists()
    cafe = PdfReader(sheets / "HDF-2022-003.pdf")
    text = "\n".join(page.extract_text() for page in cafe.pages)
    assert "Voir aussi" in text


def test_a_collection_is_not_published_with_a_sheet_missing_unless_allowed(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = _project(project_copy)
    first = cli("build", "--project", root, "--quiet")
    assert first.exit_code == 0, first.output
    output = root / "build" / "collections" / "essai.pdf"
    complete = output.read_bytes()
    pages = len(PdfReader(output).pages)

    _break(root)
    refused = cli("build", "--project", root, "--quiet")
    assert refused.exit_code == 1
    assert (
        "collections/essai.yaml: error: not published, 1 sheet(s) missing (the previous PDF is "
        f"kept): ARA-2022-004 (content/{ARA}: {BAD_DATE}); fix them, or build a draft with "
        "--allow-incomplete"
    ) in refused.output.splitlines()
    assert output.read_bytes() == complete  # the good collection is still there, untouched
    assert (root / "build" / "sheets" / "HDF-2022-003.pdf").exists()

    draft = cli("collection", "essai", "--project", root, "--allow-incomplete", "--quiet")
    assert draft.exit_code == 0, draft.output
    assert "warning: published incomplete (--allow-incomplete), 1 sheet(s) missing" in draft.output
    reader = PdfReader(output)
    assert len(reader.pages) < pages
    assert "Version de travail incomplète\u00a0: 1 fiche manque" in reader.pages[0].extract_text()
    title_page = reader.pages[1].extract_text()
    assert "Fiche manquante\u00a0: ARA-2022-004." in " ".join(title_page.split(" "))


def test_a_broken_sheet_outside_the_selection_does_not_hold_a_collection_back(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = _project(project_copy)
    _break(root, OTHERS[2])  # a resource; the collection takes experiences only
    result = cli("collection", "essai", "--project", root, "--quiet")
    assert result.exit_code == 0, result.output
    assert "missing" not in result.output
    assert (root / "build" / "collections" / "essai.pdf").exists()


def test_a_source_too_broken_to_read_its_theme_counts_as_missing(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    """Unparseable front matter: where it belongs cannot be told, so it is not dropped."""
    root = _project(project_copy)
    (root / "collections" / "essai.yaml").write_text(
        COLLECTION.replace("kinds: [experience]", "themes: [parentalite]"), encoding="utf-8"
    )
    path = root / "content" / ARA
    path.write_text(path.read_text(encoding="utf-8").replace("status: ", "status: ["), "utf-8")
    result = cli("collection", "essai", "--project", root, "--quiet")
    assert result.exit_code == 1
    assert "not published, 1 sheet(s) missing" in result.output
    assert f"ARA-2022-004 (content/{ARA}: invalid YAML" in result.output


def test_a_sheet_that_cannot_be_rendered_is_missing_by_the_same_rule(
    project_copy: Callable[..., Path],
) -> None:
    """Issue 17: a render failure used to stop the collection with its own message, a YAML
    error to leave the sheet out silently; both are now 'missing', refused unless allowed."""
    from recueil.collection.collection_build import build_collection
    from recueil.collection.declared import discover_collections
    from recueil.core.diagnostics import error
    from recueil.render.sheet_renderer import SheetRenderer
    from recueil.sources.corpus import load_corpus
    from recueil.sources.project import load_project

    class FailingOne(SheetRenderer):
        def render(self, sheet, variant=""):  # type: ignore[no-untyped-def]
            if sheet.slug == "OCC-2023-005":
                return None, [error(sheet.rel, None, "the worker running this sheet died")]
            return super().render(sheet, variant)

    root = _project(project_copy)
    project, problems = load_project(root)
    assert problems == []
    corpus = load_corpus(project)
    (collection,), problems = discover_collections(project)
    renderer = FailingOne(project, corpus)
    result, diagnostics = build_collection(project, corpus, collection, renderer)
    assert result is None
    messages = [d.format() for d in diagnostics]
    assert (
        "collections/essai.yaml: error: not published, 1 sheet(s) missing (the previous PDF is "
        "kept): OCC-2023-005 (content/experiences/occ-2023-005-francais-parents.md: it could not "
        "be rendered); fix them, or build a draft with --allow-incomplete"
    ) in messages
    draft, diagnostics = build_collection(
        project, corpus, collection, renderer, allow_incomplete=True
    )
    assert draft is not None
    assert "OCC-2023-005" not in draft.plan.sheet_pages
    assert set(draft.plan.sheet_pages) == {"ARA-2022-004", "HDF-2022-001", "HDF-2022-003"}
