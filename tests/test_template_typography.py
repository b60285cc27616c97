"""Every text a template puts on a page gets French typography: its own words and bare values."""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import Markup
from pypdf import PdfReader

from recueil.markup.typography import TypographyOptions
from recueil.render.template import make_environment

NB, NN = "\u00a0", "\u202f"
#: what a French proofreader marks in extracted text: straight apostrophes and quotes, plain
#: spaces before high punctuation, three dots
FAULT = re.compile(r"\w'\w|\"|\w [:;!?](?=\s)|\.\.\.")


def render(tmp_path: Path, source: str, **values: object) -> str:
    (tmp_path / "t.html").write_text(source, encoding="utf-8")
    env = make_environment((tmp_path,), "fr", TypographyOptions())
    return env.get_template("t.html").render(**values)


def test_literal_text_of_a_template_is_typeset(tmp_path: Path) -> None:
    out = render(
        tmp_path, "<h2>Carte d'identité de l'action</h2>\n<p>Budget : voir plus bas...</p>"
    )
    assert out == f"<h2>Carte d’identité de l’action</h2>\n<p>Budget{NB}: voir plus bas…</p>"


def test_values_printed_as_text_are_typeset_and_markup_is_left_alone(tmp_path: Path) -> None:
    out = render(
        tmp_path,
        "<span>{{ label }}</span><div>{{ body }}</div><i>{{ 'n° ' ~ number }}</i>",
        label="Fiche retour d'expérience",
        body=Markup("<p>Déjà composé : l'auteur l'a voulu</p>"),
        number=12,
    )
    assert out == (
        "<span>Fiche retour d’expérience</span>"
        "<div><p>Déjà composé : l'auteur l'a voulu</p></div>"
        f"<i>n°{NB}12</i>"
    )


def test_tags_attributes_styles_scripts_code_and_comments_are_never_touched(
    tmp_path: Path,
) -> None:
    source = (
        '<a href="{{ url }}" title=\'{{ label }}\' style="--theme: {{ colour }}">lien</a>'
        "<style>p::before { content: 'a : b'; }</style>"
        "<script>if (a < b) { x = 'l'un'; }</script>"
        "<code>x = 'y' ; z</code><!-- l'ancien : gabarit -->"
        '<meta content="D:{{ date }}">'
    )
    values = {"url": "https://exemple.org/l'a?x=1", "label": "l'action", "colour": "#E07A5F",
              "date": "20221003"}  # fmt: skip
    out = render(tmp_path, source, **values)
    assert out == (
        "<a href=\"https://exemple.org/l&#39;a?x=1\" title='l&#39;action' "
        'style="--theme: #E07A5F">lien</a>'
        "<style>p::before { content: 'a : b'; }</style>"
        "<script>if (a < b) { x = 'l'un'; }</script>"
        "<code>x = 'y' ; z</code><!-- l'ancien : gabarit -->"
        '<meta content="D:20221003">'
    )


def test_entities_in_template_text_are_typeset_as_the_characters_they_stand_for(
    tmp_path: Path,
) -> None:
    out = render(tmp_path, "<p>fiche&nbsp;n°&nbsp;3 l&#39;école &amp; suite ?</p>")
    assert out == f"<p>fiche{NB}n°{NB}3 l’école &amp; suite{NN}?</p>"


def test_a_template_in_another_language_is_left_as_written(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>It's {{ x }} : ok</p>", encoding="utf-8")
    env = make_environment((tmp_path,), "en", TypographyOptions())
    assert env.get_template("t.html").render(x="l'x") == "<p>It's l&#39;x : ok</p>"


def test_sheets_of_every_kind_print_no_typographic_fault(project_copy, cli) -> None:
    """Before: 151 faults in the 40 sample sheets, all in template words ("CARTE D'IDENTITÉ")."""
    root = project_copy(
        "experiences/hdf-2022-001-classe-passerelle.md",
        "resources/res-2022-003-dossier-sante-mentale.md",
        "syntheses/syn-2021-001-seminaire-cpo.md",
        "resources/res-2022-004-article-metier-cpo.md",
    )
    result = cli("build", "--project", root, "--quiet")
    assert result.exit_code == 0, result.output
    pdfs = sorted((root / "build" / "sheets").glob("*.pdf"))
    assert len(pdfs) == 4
    faults, texts = [], []
    for pdf in pdfs:
        for number, page in enumerate(PdfReader(pdf).pages, 1):
            text = page.extract_text()
            texts.append(text)
            faults += [f"{pdf.name} p.{number}: {m.group()!r}" for m in FAULT.finditer(text)]
    assert faults == []
    assert "CARTE D’IDENTITÉ DE L’ACTION" in "\n".join(texts)
    assert "Fiche retour d’expérience" in "\n".join(texts)
