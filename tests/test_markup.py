"""Markdown body → sanitised HTML: golden files, and what the sanitiser must say it removed.

Each ``golden/markup/NAME.md`` is converted as the body of a sheet ``sheets/essai.md`` (slug
ESSAI-1) starting at line 12, in a throw-away project holding ``images/plan.svg`` and
``images/notes.txt``, with a file ``outside.png`` just outside it. The HTML must equal
``NAME.html``; run with ``RECUEIL_REGEN=1`` to rewrite the HTML files after an intended change
(and review the diff). Diagnostics are asserted here, not in golden files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recueil.markup.fragment import VIRTUAL_ROOT, Fragment
from recueil.markup.markdown import MarkupOptions, to_html

GOLDEN = Path(__file__).parent / "golden" / "markup"
REGEN = os.environ.get("RECUEIL_REGEN") == "1"
REL = "sheets/essai.md"
BODY_LINE = 12
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
    '<rect width="40" height="30"/></svg>\n'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp/project/{sheets/, images/plan.svg, images/notes.txt} and tmp/outside.png."""
    root = tmp_path / "project"
    (root / "sheets").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "images" / "plan.svg").write_text(SVG, encoding="utf-8")
    (root / "images" / "notes.txt").write_text("pas une image\n", encoding="utf-8")
    (tmp_path / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return root


def convert(project: Path, body: str, known: frozenset[str] = frozenset()) -> Fragment:
    options = MarkupOptions(
        slug="ESSAI-1",
        source_dir=project / "sheets",
        project_dir=project,
        known_slugs=known or frozenset({"AUTRE-2"}),
    )
    return to_html(body, BODY_LINE, REL, options)


def formatted(fragment: Fragment) -> list[str]:
    return sorted(d.format() for d in fragment.diagnostics)


def at(line: int, level: str, message: str) -> str:
    """A diagnostic on line ``line`` of the body (1-based)."""
    return f"{REL}:{BODY_LINE + line - 1}: {level}: {message}"


ONLY_LINKS = "only http(s), mailto, tel and sheet: links are allowed"
ONLY_FILES = "images must be files of the project (no network, data: or file: URLs)"
HOLDER = "a placeholder is printed in its place"
NO_SITE_ROOT = "site-root paths are not resolved here"
NO_NETWORK = (
    "is not fetched: the build does not use the network (the setting remote_image_hosts lists "
    "no host)"
)
#: What converting each golden input must report (every other input reports nothing).
EXPECTED = {
    "raw-html": [
        at(3, "warning", "element <script> removed (not allowed in sheets)"),
        at(6, "warning", "attribute 'onclick' removed from <p>"),
    ],
    "links": [
        at(
            4,
            "warning",
            "link '#bilan' removed: no heading or anchor of this sheet is called 'bilan' "
            "(its text stays)",
        ),
        at(4, "warning", f"link 'autre.pdf' removed: {ONLY_LINKS}"),
        at(6, "warning", f"link 'javascript:alert(1)' removed: {ONLY_LINKS}"),
    ],
    "bad-images": [
        at(1, "error", f"image 'file:///etc/passwd' refused: {ONLY_FILES}"),
        # missing or out of reach: warnings, a placeholder is printed (issue 17)
        at(3, "warning", f"image '../../outside.png' refused: it is outside the project; {HOLDER}"),
        at(5, "warning", f"image '/etc/hosts' refused: {NO_SITE_ROOT}; {HOLDER}"),
        at(7, "warning", f"image 'https://example.org/photo.png' {NO_NETWORK}; {HOLDER}"),
        at(9, "warning", f"image '../images/absente.svg' does not exist; {HOLDER}"),
        at(11, "warning", f"image '../images/notes.txt' is not an image file; {HOLDER}"),
    ],
}
NAMES = sorted(p.stem for p in GOLDEN.glob("*.md"))


def test_golden_inputs_are_there() -> None:
    assert set(NAMES) >= {
        "tables", "footnotes", "definition-list", "figure", "headings", "testimony",
        "raw-html", "links", "bad-images",
    }  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_golden(name: str, project: Path) -> None:
    body = (GOLDEN / f"{name}.md").read_text(encoding="utf-8")
    fragment = convert(project, body)
    expected_path = GOLDEN / f"{name}.html"
    if REGEN:
        expected_path.write_text(fragment.html + "\n", encoding="utf-8")
    assert expected_path.is_file(), f"no {expected_path.name}: run with RECUEIL_REGEN=1"
    assert fragment.html + "\n" == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_golden_diagnostics(name: str, project: Path) -> None:
    body = (GOLDEN / f"{name}.md").read_text(encoding="utf-8")
    assert formatted(convert(project, body)) == sorted(EXPECTED.get(name, []))


def test_refusals_that_are_reported(project: Path) -> None:
    """The part of the links and bad-images diagnostics that does work today."""
    links = formatted(convert(project, (GOLDEN / "links.md").read_text(encoding="utf-8")))
    assert EXPECTED["links"][0] in links
    images = formatted(convert(project, (GOLDEN / "bad-images.md").read_text(encoding="utf-8")))
    assert set(EXPECTED["bad-images"][1:]) <= set(images)


# ---------------------------------------------------------------- properties of the goldens


def test_table_alignment_is_kept(project: Path) -> None:
    html = convert(project, (GOLDEN / "tables.md").read_text(encoding="utf-8")).html
    assert '<th style="text-align:left">' in html
    assert '<td style="text-align:center">' in html
    assert '<td style="text-align:right">' in html


def test_footnote_ids_and_links_carry_the_sheet_prefix(project: Path) -> None:
    html = convert(project, (GOLDEN / "footnotes.md").read_text(encoding="utf-8")).html
    # ids and fragments go through the same slug (issue 17): 'fn:1' → 'fn-1' on both sides
    assert 'id="ESSAI-1--fn-1"' in html and 'href="#ESSAI-1--fn-1"' in html
    assert 'id="ESSAI-1--fnref-eval"' in html and 'href="#ESSAI-1--fnref-eval"' in html
    assert 'title="Retour au texte"' in html


def test_titled_image_alone_becomes_a_figure(project: Path) -> None:
    fragment = convert(project, (GOLDEN / "figure.md").read_text(encoding="utf-8"))
    src = f'src="{VIRTUAL_ROOT}images/plan.svg"'
    assert fragment.html.count("<figure>") == 1
    assert f'<figure><img alt="Plan de la salle" {src}><figcaption>Légende' in fragment.html
    assert f'<p><img alt="Une image sans titre reste une image" {src}></p>' in fragment.html
    assert 'title="dans le texte"' in fragment.html  # inline: stays an image with its title
    assert fragment.images == ["images/plan.svg"] * 3


def test_duplicate_headings_get_unique_ids(project: Path) -> None:
    html = convert(project, (GOLDEN / "headings.md").read_text(encoding="utf-8")).html
    assert '<h2 id="ESSAI-1--bilan">' in html
    assert '<h2 id="ESSAI-1--bilan-2">' in html
    assert '<h3 id="ESSAI-1--bilan-3">' in html
    assert '<h2 id="ESSAI-1--evaluation-et-suites">' in html


def test_signed_blockquote_is_a_testimony(project: Path) -> None:
    html = convert(project, (GOLDEN / "testimony.md").read_text(encoding="utf-8")).html
    assert html.count('<blockquote class="testimony">') == 1
    assert '<p class="attribution">— Leïla' in html
    assert "<blockquote>\n<p>Une simple citation.</p>" in html


def test_raw_html_lang_span_kept_script_and_handler_removed(project: Path) -> None:
    html = convert(project, (GOLDEN / "raw-html.md").read_text(encoding="utf-8")).html
    assert '<span lang="en">storytelling</span>' in html
    assert "script" not in html and "alert" not in html
    assert "onclick" not in html
    assert '<p class="encadre">' in html


# ---------------------------------------------------------------- links and images


def test_javascript_link_is_removed(project: Path) -> None:
    html = convert(project, "Un [piège](javascript:alert(1)) désarmé.\n").html
    assert "javascript" not in html.lower() and "href" not in html


def test_data_image_is_an_error(project: Path) -> None:
    url = "data:image/png;base64,iVBORw0KGgo="
    fragment = convert(project, f"Texte.\n\n![secret]({url})\n")
    assert "src=" not in fragment.html
    assert formatted(fragment) == [at(3, "error", f"image '{url}' refused: {ONLY_FILES}")]


def test_file_image_never_reaches_the_html(project: Path) -> None:
    html = convert(project, "![secret](file:///etc/passwd)\n").html
    assert "passwd" not in html and "src=" not in html


def test_link_to_a_known_sheet_becomes_a_goto_link(project: Path) -> None:
    html = convert(project, "Voir [l'autre fiche](sheet:AUTRE-2).\n").html
    assert f'href="{VIRTUAL_ROOT}goto/sheet-AUTRE-2"' in html


def test_link_to_an_unknown_sheet_is_an_error(project: Path) -> None:
    fragment = convert(project, "Voir [rien](sheet:NOPE-9).\n")
    assert formatted(fragment) == [at(1, "error", "link to unknown sheet 'NOPE-9'")]


def test_heading_ids_are_unique_even_with_numbered_or_explicit_ids(project: Path) -> None:
    body = "## Bilan\n\n## Bilan\n\n## Bilan 2\n\n## Suites {#bilan}\n"
    html = convert(project, body).html
    ids = [part.split('"', 1)[0] for part in html.split(' id="')[1:]]
    assert len(ids) == 4
    assert len(set(ids)) == len(ids), ids


def test_year_before_a_footnote_reference_is_not_split(project: Path) -> None:
    html = convert(project, "Prévus par les textes depuis 2006[^1].\n\n[^1]: Circulaire.\n").html
    assert "depuis 2006<sup" in html


def test_typography_applies_only_to_french(project: Path) -> None:
    body = 'Il a dit "bonjour" : oui ?\n'
    french = convert(project, body).html
    assert "«\u202fbonjour\u202f»&nbsp;:" in french and "\u202f?" in french
    english = to_html(
        body,
        1,
        REL,
        MarkupOptions(
            slug="ESSAI-1", source_dir=project / "sheets", project_dir=project, language="en"
        ),
    ).html
    assert english == '<p>Il a dit "bonjour" : oui ?</p>'
