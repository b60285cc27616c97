"""Bad input, one problem at a time: the exact diagnostic and its line, from the library and CLI.

Each test breaks one sample sheet in a throw-away project and checks the same diagnostic twice:
from ``load_sheet``/``load_corpus``, and in the output of ``recueil check`` (exit code 1).
Diagnostics read ``path:line:column: level: message`` or ``path:line: level: message``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from recueil.render.sheet_build import load_corpus
from recueil.sources.project import load_project
from recueil.sources.sheet import Sheet, load_sheet

REPO = Path(__file__).resolve().parents[1]
PASSERELLE = "experiences/hdf-2022-001-classe-passerelle.md"
PASSERELLE_REL = "content/" + PASSERELLE
GUIDE = "resources/res-2021-001-guide-exclusions-temporaires.md"
GUIDE_REL = "content/" + GUIDE

#: Lines of the sample sheet PASSERELLE that the expected diagnostics point at.
LANDMARKS = {
    10: "theme: petite-enfance",
    19: "date: 2022-09-05",
    25: "territory:",
    34: "  region: Hauts-de-France",
    37: "  college: Collège Villars",
    39: "  name: École maternelle Les Coquelicots",
    56: "  phone: 03 53 01 22 14",
    59: '  ages: "2-3"',
    83: "  - src: ../images/hdf-2022-001-passerelle.svg",
    88: "---",
}

Limit = Callable[[float], AbstractContextManager[None]]
#: Loading one sheet takes milliseconds and checking a one-sheet project well under a second.
SECONDS = 3.0


def test_sample_sheet_has_not_moved() -> None:
    """The expected line numbers below are those of the sample sheet as it is."""
    lines = (REPO / "content" / PASSERELLE).read_text(encoding="utf-8").split("\n")
    for number, text in LANDMARKS.items():
        assert lines[number - 1] == text, number
    assert lines[0] == "---"


def edit(root: Path, rel: str, old: str, new: str) -> Path:
    """Replace the single occurrence of ``old`` in the project's source ``rel``."""
    path = root / "content" / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def library(root: Path, rel: str) -> tuple[Sheet | None, list[str]]:
    """load_sheet on one source: the sheet (or None) and its diagnostics, formatted."""
    project, problems = load_project(root)
    assert problems == []
    sheet, diagnostics = load_sheet(project, root / "content" / rel)
    return sheet, [d.format() for d in diagnostics]


def no_crash(result: Result) -> None:
    """The command ended through sys.exit, not through an exception or a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


def check(cli: Callable[..., Result], root: Path) -> Result:
    result = cli("check", "--project", root)
    no_crash(result)
    return result


def assert_check_reports(result: Result, expected: list[str], sources: int = 1) -> None:
    """``recueil check`` printed exactly these errors (and no warning), and exited with 1."""
    lines = result.output.splitlines()
    assert sorted(line for line in lines if ": error: " in line or ": warning: " in line) == sorted(
        expected
    ), result.output
    assert f"{sources} source(s) checked: {len(expected)} error(s), 0 warning(s)" in lines
    assert result.exit_code == 1


@dataclass(frozen=True)
class Case:
    """One way to break the sample sheet PASSERELLE, and what must be said about it."""

    old: str
    new: str
    expected: tuple[str, ...]


CASES = {
    "yaml-syntax-error": Case(
        "theme: petite-enfance",
        "theme: petite-enfance: mapping",
        (
            f"{PASSERELLE_REL}:10:22: error: invalid YAML: "
            "mapping values are not allowed in this context",
        ),
    ),
    "unknown-theme": Case(
        "theme: petite-enfance",
        "theme: numerque",
        (
            f"{PASSERELLE_REL}:10:1: error: field 'theme': unknown theme 'numerque' "
            "(not in themes.yaml); did you mean 'numerique'?",
        ),
    ),
    "unknown-field-beside-theme": Case(
        "theme: petite-enfance",
        "theme: petite-enfance\nthematque: numerique",
        (f"{PASSERELLE_REL}:11:1: error: unknown field 'thematque' (did you mean 'theme'?)",),
    ),
    "missing-image": Case(
        "src: ../images/hdf-2022-001-passerelle.svg",
        "src: ../images/absente.svg",
        (
            f"{PASSERELLE_REL}:83:5: error: field 'photos[0].src': "
            "image '../images/absente.svg' does not exist",
        ),
    ),
    "impossible-date": Case(
        "date: 2022-09-05",
        "date: 2022-13-45",
        (f"{PASSERELLE_REL}:19:1: error: field 'date': '2022-13-45' is not a valid calendar date",),
    ),
    "yaml-anchor-and-alias": Case(
        "  college: Collège Villars\nporteur:\n  name: École maternelle Les Coquelicots",
        "  college: &a Collège Villars\nporteur:\n  name: *a",
        (
            f"{PASSERELLE_REL}:37:12: error: "
            "YAML anchors and aliases (&name, *name) are not allowed",
        ),
    ),
    "age-range-reversed": Case(
        'ages: "2-3"',
        'ages: "12-6"',
        (
            f"{PASSERELLE_REL}:59:3: error: field 'public.ages': "
            "age range '12-6' starts after it ends",
        ),
    ),
    "age-range-beyond-25": Case(
        'ages: "2-3"',
        'ages: "6-30"',
        (
            f"{PASSERELLE_REL}:59:3: error: field 'public.ages': "
            "age range '6-30' goes beyond 25, the programme's upper age",
        ),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_broken_field_is_reported_at_its_line(
    name: str, project_copy: Callable[..., Path], cli: Callable[..., Result], limit: Limit
) -> None:
    case = CASES[name]
    root = project_copy(PASSERELLE)
    edit(root, PASSERELLE, case.old, case.new)
    with limit(SECONDS):
        sheet, diagnostics = library(root, PASSERELLE)
    assert sheet is None
    assert diagnostics == list(case.expected)
    with limit(SECONDS):
        result = check(cli, root)
    assert_check_reports(result, list(case.expected))


def test_unclosed_quote_points_at_the_opening_line(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(GUIDE)
    edit(root, GUIDE, 'pour les cités éducatives"\n', "pour les cités éducatives\n")
    sheet, diagnostics = library(root, GUIDE)
    assert sheet is None
    assert len(diagnostics) == 1
    assert "invalid YAML" in diagnostics[0] and "quoted scalar" in diagnostics[0]
    assert diagnostics[0].startswith(f"{GUIDE_REL}:3:"), diagnostics
    assert_check_reports(check(cli, root), diagnostics)


def test_unclosed_quote_is_an_error_not_a_crash(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    """Whatever its line, the unclosed quote is one located 'invalid YAML' error."""
    root = project_copy(GUIDE)
    edit(root, GUIDE, 'pour les cités éducatives"\n', "pour les cités éducatives\n")
    sheet, diagnostics = library(root, GUIDE)
    assert sheet is None
    assert len(diagnostics) == 1
    assert diagnostics[0].startswith(f"{GUIDE_REL}:")
    assert ": error: invalid YAML: while scanning a quoted scalar" in diagnostics[0]
    assert_check_reports(check(cli, root), diagnostics)


def test_missing_required_field(
    project_copy: Callable[..., Path], cli: Callable[..., Result], limit: Limit
) -> None:
    root = project_copy(PASSERELLE)
    path = root / "content" / PASSERELLE
    text = path.read_text(encoding="utf-8")
    start = text.index("chapo: >-\n")
    end = text.index("theme: petite-enfance")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    expected = [f"{PASSERELLE_REL}:2: error: missing required field 'chapo'"]
    with limit(SECONDS):
        sheet, diagnostics = library(root, PASSERELLE)
    assert sheet is None
    assert diagnostics == expected
    with limit(SECONDS):
        result = check(cli, root)
    assert_check_reports(result, expected)


def test_misspelt_field_name(
    project_copy: Callable[..., Path], cli: Callable[..., Result], limit: Limit
) -> None:
    """'thematque:' typed for 'theme:': the unknown field, its hint, and the missing theme."""
    root = project_copy(PASSERELLE)
    edit(root, PASSERELLE, "theme: petite-enfance", "thematque: petite-enfance")
    expected = [
        f"{PASSERELLE_REL}:10:1: error: unknown field 'thematque' (did you mean 'theme'?)",
        f"{PASSERELLE_REL}:2: error: missing required field 'theme'",
    ]
    with limit(SECONDS):
        sheet, diagnostics = library(root, PASSERELLE)
    assert sheet is None
    assert sorted(diagnostics) == sorted(expected)
    with limit(SECONDS):
        result = check(cli, root)
    assert_check_reports(result, expected)


def test_missing_nested_field_absent_points_at_its_parent(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(PASSERELLE)
    edit(root, PASSERELLE, "  region: Hauts-de-France\n", "")
    expected = [f"{PASSERELLE_REL}:25:1: error: missing required field 'territory.region'"]
    sheet, diagnostics = library(root, PASSERELLE)
    assert sheet is None
    assert diagnostics == expected
    assert_check_reports(check(cli, root), expected)


def test_missing_nested_field_left_empty_points_at_its_own_line(
    project_copy: Callable[..., Path],
) -> None:
    root = project_copy(PASSERELLE)
    edit(root, PASSERELLE, "  region: Hauts-de-France", "  region:")
    _, diagnostics = library(root, PASSERELLE)
    assert diagnostics == [
        f"{PASSERELLE_REL}:34:3: error: field 'territory.region' is empty: it is required, "
        "fill it in"
    ]


def test_duplicate_slug_names_the_other_file(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(GUIDE, images=False)
    twin = root / "content" / "resources" / "res-zz-copie.md"
    twin.write_bytes((root / "content" / GUIDE).read_bytes())
    expected = [
        "content/resources/res-zz-copie.md:2: error: field 'slug': 'RES-2021-001' "
        f"is already used by {GUIDE_REL}"
    ]
    project, _ = load_project(root)
    corpus = load_corpus(project)
    assert [d.format() for d in corpus.diagnostics] == expected
    assert [s.rel for s in corpus.sheets] == [GUIDE_REL]
    assert_check_reports(check(cli, root), expected, sources=2)


def test_yaml_implicit_types_stay_strings(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    """NO, 12:30 and 1.10 are what the author typed, not False, 750 or 1.1."""
    root = project_copy(PASSERELLE)
    edit(root, PASSERELLE, "  college: Collège Villars", "  college: NO")
    edit(root, PASSERELLE, "  name: École maternelle Les Coquelicots", "  name: 12:30")
    edit(root, PASSERELLE, "  phone: 03 53 01 22 14", "  phone: 1.10")
    sheet, diagnostics = library(root, PASSERELLE)
    assert diagnostics == []
    assert sheet is not None
    meta = sheet.meta
    assert meta["territory"]["college"] == "NO"
    assert meta["porteur"]["name"] == "12:30"
    assert meta["contact"]["phone"] == "1.10"
    # typed fields are still converted by the schema
    assert meta["territory"]["labelled_year"] == 2019
    assert meta["public"]["ages"] == (2, 3)
    result = check(cli, root)
    assert result.exit_code == 0, result.output
    assert "1 source(s) checked: 0 error(s), 0 warning(s)" in result.output.splitlines()


def test_not_utf8(project_copy: Callable[..., Path], cli: Callable[..., Result]) -> None:
    root = project_copy(PASSERELLE)
    path = root / "content" / PASSERELLE
    raw = path.read_bytes()
    old = "  college: Collège Villars".encode()
    assert raw.count(old) == 1
    path.write_bytes(raw.replace(old, "  college: Collège Villars".encode("latin-1")))
    expected = [f"{PASSERELLE_REL}:37: error: not valid UTF-8 text (save the file as UTF-8)"]
    assert library(root, PASSERELLE) == (None, expected)
    assert_check_reports(check(cli, root), expected)


NO_FRONT_MATTER = "error: missing front matter: the file must start with a '---' line"


def test_no_front_matter(project_copy: Callable[..., Path], cli: Callable[..., Result]) -> None:
    root = project_copy(PASSERELLE)
    path = root / "content" / PASSERELLE
    path.write_text(path.read_text(encoding="utf-8").split("---\n", 2)[2], encoding="utf-8")
    expected = [f"{PASSERELLE_REL}:1: {NO_FRONT_MATTER}"]
    assert library(root, PASSERELLE) == (None, expected)
    assert_check_reports(check(cli, root), expected)


def test_empty_file(project_copy: Callable[..., Path], cli: Callable[..., Result]) -> None:
    root = project_copy(PASSERELLE)
    (root / "content" / PASSERELLE).write_bytes(b"")
    expected = [f"{PASSERELLE_REL}:1: {NO_FRONT_MATTER}"]
    assert library(root, PASSERELLE) == (None, expected)
    assert_check_reports(check(cli, root), expected)


def test_front_matter_not_closed(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(PASSERELLE)
    path = root / "content" / PASSERELLE
    head = path.read_text(encoding="utf-8").split("\n---\n", 1)[0]
    path.write_text(head + "\n", encoding="utf-8")
    expected = [f"{PASSERELLE_REL}:1: error: front matter is not closed by a '---' line"]
    assert library(root, PASSERELLE) == (None, expected)
    assert_check_reports(check(cli, root), expected)


def test_front_matter_only(project_copy: Callable[..., Path], cli: Callable[..., Result]) -> None:
    """Every required section is missing; they are reported on the line after the front matter."""
    root = project_copy(PASSERELLE)
    path = root / "content" / PASSERELLE
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\n---\n") + 5], encoding="utf-8")
    expected = [
        f"{PASSERELLE_REL}:89: error: missing required section '## {title}'"
        for title in ("Contexte et origine", "Objectifs", "Description / déroulé")
    ]
    assert library(root, PASSERELLE) == (None, expected)
    assert_check_reports(check(cli, root), expected)


def test_load_sheet_accepts_a_relative_path(
    project_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project_copy(PASSERELLE)
    monkeypatch.chdir(root)
    project, _ = load_project(Path("."))
    sheet, diagnostics = load_sheet(project, Path("content") / PASSERELLE)
    assert [d.format() for d in diagnostics] == []
    assert sheet is not None and sheet.slug == "HDF-2022-001"


def test_check_on_the_sample_project_is_clean(cli: Callable[..., Result]) -> None:
    result = check(cli, REPO)
    sources = len(list((REPO / "content").rglob("*.md")))
    assert f"{sources} source(s) checked: 0 error(s), 0 warning(s)" in result.output.splitlines()
    assert result.exit_code == 0, result.output
