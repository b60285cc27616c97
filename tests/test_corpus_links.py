"""Markdown written by others builds (issue 17): links inside a sheet, and character references.

Headings get ASCII ids ('Quelques éléments' → 'quelques-elements'); a link to one is normalised
the same way, so a link written with the heading's accents, capitals or percent-encoding finds
it. A link to an anchor the sheet does not have is a warning (from ``recueil check`` too) and
loses its target, its text staying; footnotes and explicit ``{#id}`` keep working. Character
references such as ``&#39;`` get the French typography like the characters they stand for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from pypdf import PdfReader

from conftest import copy_project, run_cli  # type: ignore[import-not-found]
from pdfinspect import internal_links  # type: ignore[import-not-found]

R = "content/resources"
SHEET = """---
slug: {slug}
title: Fiche reprise
resource_type: guide
resource_centre: Centre de ressources
date: 2024-03-12
theme: perseverance
abstract: Une fiche reprise d'un site existant.
---

## Texte

{body}
"""
#: Line of the first body line in SHEET.
BODY_LINE = 13

CASES = {
    "ACCENTS": (
        "Voir [le contexte](#quelques-éléments-de-contexte) puis "
        "[la suite](#Quelques-%C3%A9l%C3%A9ments-de-contexte).\n\n"
        "## Quelques éléments de contexte\n\nTexte du contexte."
    ),
    "NOWHERE": "Voir [ailleurs](#nulle-part) et [rien](#).\n\n## Un titre\n\nTexte.",
    "FOOTNOTES": (
        "Une note[^1] et [une ancre](#mon-ancre).\n\n## Un titre {#Mon-Ancre}\n\nTexte.\n\n"
        "[^1]: La note."
    ),
    "APOSTROPHES": (
        "Texte de l&#39;école, &quot;entre guillemets&quot; et l&rsquo;équipe &amp; les "
        "parents.\n\nCode : `l&#39;école`.\n\n"
        '![Plan](../images/plan.svg "La salle d&#39;accueil")'
    ),
    "ENTITIES": "Retour à [l&#39;été](#l-ete-des-ecoles).\n\n## L&#39;été des écoles\n\nTexte.",
}


@dataclass
class Built:
    root: Path
    build: Result
    check: Result

    def pdf(self, slug: str) -> Path:
        return self.root / "build" / "sheets" / f"{slug}.pdf"


def rel(slug: str) -> str:
    return f"{R}/{slug.lower()}.md"


def lines(result: Result, slug: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(rel(slug))]


def text(pdf: Path) -> str:
    """The page's text, every run of spaces (no-break ones included) as one space."""
    return " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = copy_project(tmp_path_factory.mktemp("links") / "project", [], images=False)
    (root / R).mkdir(parents=True)
    (root / "content" / "images").mkdir()
    (root / "content" / "images" / "plan.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" '
        'height="30"/></svg>\n',
        encoding="utf-8",
    )
    for slug, body in CASES.items():
        (root / rel(slug)).write_text(SHEET.format(slug=slug, body=body), encoding="utf-8")
    check = run_cli("check", "--project", root)
    return Built(root, run_cli("build", "--project", root, "-j", "1"), check)


def destinations(pdf: Path) -> list[str]:
    """Where the internal links of the sheet's first page lead (named destinations), after
    checking that each names a place of the document."""
    reader = PdfReader(pdf)
    names = reader.named_destinations
    found = []
    for annotation in reader.pages[0].get("/Annots", []) or []:
        annotation = annotation.get_object()
        assert "/URI" not in annotation.get("/A", {}), annotation  # no link left to the web
        if "/Dest" in annotation:
            assert str(annotation["/Dest"]) in names
            found.append(str(annotation["/Dest"]))
    assert len(internal_links(reader, 0)) == len(found)  # and each leads to a page
    return found


def test_a_link_written_with_the_headings_accents_finds_it(built: Built) -> None:
    assert built.build.exit_code == 0, built.build.output
    assert lines(built.build, "ACCENTS") == []
    assert lines(built.check, "ACCENTS") == []
    assert destinations(built.pdf("ACCENTS")) == ["ACCENTS--quelques-elements-de-contexte"] * 2


def test_a_link_to_a_missing_anchor_is_a_warning_and_keeps_its_text(built: Built) -> None:
    expected = [
        f"{rel('NOWHERE')}:{BODY_LINE}: warning: link '#' removed: it names no anchor (its "
        "text stays)",
        f"{rel('NOWHERE')}:{BODY_LINE}: warning: link '#nulle-part' removed: no heading or "
        "anchor of this sheet is called 'nulle-part' (its text stays)",
    ]
    assert sorted(lines(built.check, "NOWHERE")) == expected  # found before any rendering
    assert built.check.exit_code == 0, built.check.output
    assert sorted(lines(built.build, "NOWHERE")) == expected
    assert built.pdf("NOWHERE").is_file(), built.build.output
    assert "Voir ailleurs et rien." in text(built.pdf("NOWHERE"))
    assert destinations(built.pdf("NOWHERE")) == []
    assert "WeasyPrint" not in built.build.output


def test_check_strict_fails_on_a_missing_anchor(built: Built) -> None:
    strict = run_cli("check", "--strict", "--project", built.root)
    assert strict.exit_code == 1
    assert lines(strict, "NOWHERE") == lines(built.check, "NOWHERE")


def test_footnotes_and_explicit_ids_keep_working(built: Built) -> None:
    assert lines(built.build, "FOOTNOTES") == []
    # the footnote's call, the anchor, the way back from the footnote
    assert destinations(built.pdf("FOOTNOTES")) == [
        "FOOTNOTES--fn-1",
        "FOOTNOTES--mon-ancre",
        "FOOTNOTES--fnref-1",
    ]
    assert "La note." in text(built.pdf("FOOTNOTES"))


def test_character_references_get_the_french_typography(built: Built) -> None:
    assert lines(built.build, "APOSTROPHES") == []
    printed = text(built.pdf("APOSTROPHES"))
    assert "Texte de l’école, « entre guillemets » et l’équipe & les parents." in printed
    assert "Code : l&#39;école" in printed  # code keeps what was typed
    assert "La salle d’accueil" in printed  # a figure's caption, from the image's title


def test_a_heading_with_character_references_gets_its_plain_id(built: Built) -> None:
    assert lines(built.build, "ENTITIES") == []
    assert "L’été des écoles" in text(built.pdf("ENTITIES"))
    assert destinations(built.pdf("ENTITIES")) == ["ENTITIES--l-ete-des-ecoles"]
