"""A corpus of Markdown written for another tool (a website) builds without editing its files:
slugs from file names, the corpus's own field names mapped to the kind's, extra fields let
through, collections grouped and indexed by the fields the corpus has."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from pypdf import PdfReader

from recueil.sources.kinds import load_kind

sys.path.insert(0, str(Path(__file__).parent))
from pdfinspect import outline_pages

KIND = """\
name: article
label: Article du site
folder: articles
template: article.html
extra_fields: {extra}
field_map:
  titre: title
  publie_le: date
  centre: resource_centre
  rubrique: theme
  thematiques: keywords
fields:
  title: {{type: string, required: true}}
  date: {{type: date, required: true}}
  resource_centre: {{type: string, required: true}}
  theme: {{type: theme}}
  keywords: {{type: list, items: string}}
  region: {{type: string}}
  ville: {{type: string}}
"""
#: line of 'auteur_site' (a field of the website the kind does not know) in every article
EXTRA_LINE = 9


def _project(project_copy: Callable[..., Path], extra: str = "ignore") -> Path:
    root = project_copy(images=False)
    (root / "kinds" / "article.yaml").write_text(KIND.format(extra=extra), encoding="utf-8")
    (root / "templates" / "article.html").write_text('{% extends "base.html" %}\n')
    return root


def _article(root: Path, name: str, title: str, **fields: str) -> Path:
    """An article as the website wrote it (file name, field names and an extra field)."""
    values = {
        "titre": f'"{title}"',
        "publie_le": "2021-03-02",
        "centre": "Centre de ressources",
        "rubrique": "numerique",
        "thematiques": "[numérique, quartier]",
        "region": "Hauts-de-France",
        "ville": "Lille",
        "auteur_site": "webmestre",
        **fields,
    }
    lines = ["---", *(f"{k}: {v}" for k, v in values.items() if v), "---", "", "Texte.", ""]
    path = root / "content" / "articles" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_sheets_of_a_kind_without_slug_are_named_after_their_files(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = _project(project_copy)
    _article(root, "Éoliennes en cœur de ville", "Des éoliennes en cœur de ville")
    _article(root, "x" * 30 + " — " + "y" * 60, "Un titre de fichier trop long")
    result = cli("build", "--project", root, "--quiet")
    assert result.exit_code == 0, result.output
    built = sorted(p.name for p in (root / "build" / "sheets").glob("*.pdf"))
    assert built == ["Eoliennes-en-coeur-de-ville.pdf", "x" * 30 + "-" + "y" * 33 + ".pdf"]
    reader = PdfReader(root / "build" / "sheets" / "Eoliennes-en-coeur-de-ville.pdf")
    text = reader.pages[0].extract_text()
    assert "Des éoliennes en cœur de ville" in text
    assert "n°\xa0Eoliennes-en-coeur-de-ville" in text


def test_file_names_giving_the_same_slug_are_an_error_naming_both_files(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = _project(project_copy)
    _article(root, "2020/Café crème", "Un café")
    _article(root, "2021/Cafe creme", "Un autre café")
    result = cli("check", "--project", root)
    assert result.exit_code == 1
    assert (
        "content/articles/2021/Cafe creme.md: error: slug 'Cafe-creme' (made from the file name) "
        "is already used by content/articles/2020/Café crème.md: rename one of the two files"
        in result.output
    )


def test_mapped_fields_are_reported_under_the_names_the_sources_use(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = _project(project_copy)
    _article(root, "jardins", "Des jardins", publie_le="2021-13-02", rubrique="numerik")
    result = cli("check", "--project", root)
    assert result.exit_code == 1
    assert (
        "content/articles/jardins.md:3:1: error: field 'publie_le': '2021-13-02' is not a valid "
        "calendar date" in result.output
    )
    assert (
        "content/articles/jardins.md:5:1: error: field 'rubrique': unknown theme 'numerik' "
        "(not in themes.yaml); did you mean 'numerique'?" in result.output
    )


@pytest.mark.parametrize(
    ("extra", "expected", "code"),
    [
        ("error", f":{EXTRA_LINE}:1: error: unknown field 'auteur_site'", 1),
        (
            "warn",
            f":{EXTRA_LINE}:1: warning: unknown field 'auteur_site' ignored (kind 'article': "
            "extra_fields: warn)",
            0,
        ),
        ("ignore", None, 0),
    ],
)
def test_extra_fields_are_errors_warnings_or_ignored_as_the_kind_says(
    project_copy: Callable[..., Path],
    cli: Callable[..., Result],
    extra: str,
    expected: str | None,
    code: int,
) -> None:
    root = _project(project_copy, extra)
    _article(root, "jardins", "Des jardins")
    result = cli("check", "--project", root)
    assert result.exit_code == code, result.output
    if expected is None:
        assert "auteur_site" not in result.output
        assert "0 error(s), 0 warning(s)" in result.output
    else:
        assert f"content/articles/jardins.md{expected}" in result.output


def test_kind_files_check_their_new_keys(tmp_path: Path) -> None:
    path = tmp_path / "article.yaml"
    cases = {
        "extra_fields: sometimes\n": "'extra_fields' must be one of error, warn, ignore",
        "field_map: {titre: titel}\n": (
            "field_map: 'titel' (for 'titre') is not a field of this kind"
        ),
        "field_map: {date: title}\n": "field_map: 'date' is already a field name of this kind",
        "field_map: {titre: title, nom: title}\n": (
            "field_map: 'titre' and 'nom' both map to 'title'"
        ),
    }
    for line, message in cases.items():
        path.write_text(
            f"{line}fields:\n  title: {{type: string, required: true}}\n  date: date\n",
            encoding="utf-8",
        )
        kind, problems = load_kind(path, "kinds/article.yaml")
        assert kind is None and [p.message for p in problems] == [message]
    path.write_text("fields:\n  slug: slug\n", encoding="utf-8")
    assert [p.message for p in load_kind(path, "k")[1]] == ["every kind needs a 'title' field"]
    path.write_text("fields:\n  title: string\n", encoding="utf-8")
    kind, problems = load_kind(path, "k")
    assert kind is not None and not problems  # no 'slug' field: slugs come from file names


def test_a_collection_groups_by_a_field_and_indexes_the_fields_it_names(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = _project(project_copy)
    _article(root, "eoliennes", "Usine à chatbots", thematiques="[Énergie, quartier]")
    _article(root, "jardins", "Des jardins partagés", region="Occitanie", ville="Toulouse")
    _article(root, "lecture", "Lire au parc", region="Île-de-France", ville="Paris")
    _article(root, "sans-region", "Éoliennes en ville", region="", ville="", rubrique="")
    (root / "collections").mkdir()
    (root / "collections" / "site.yaml").write_text(
        "title: Articles du site\ndate: 2024-01-01\ngroup_by: region\n"
        "index_fields:\n  territories: [region, ville]\n  keywords: [keywords]\n"
        "colophon: {publisher: Réseau, publisher_address: Paris}\n",
        encoding="utf-8",
    )
    result = cli("collection", "site", "--project", root, "--quiet")
    assert result.exit_code == 0, result.output
    reader = PdfReader(root / "build" / "collections" / "site.pdf")
    outline = outline_pages(reader)
    parts = [(title, page) for depth, title, page in outline if depth == 0]
    titles = [title for title, _ in parts]
    # one divider per region, in French order, and the articles without a region last
    start = titles.index("1. Hauts-de-France")
    assert titles[start : start + 4] == [
        "1. Hauts-de-France",
        "2. Île-de-France",
        "3. Occitanie",
        "Autres fiches",
    ]
    pages = dict(parts)
    assert "Occitanie" in reader.pages[pages["3. Occitanie"]].extract_text()
    others = reader.pages[pages["Autres fiches"]].extract_text()
    assert "Autres fiches" in others and "Éoliennes en ville" in others
    territories = reader.pages[pages["Index des territoires"]].extract_text()
    assert territories.index("Hauts-de-France") < territories.index("Lille")
    assert territories.index("Lille") < territories.index("Usine à chatbots")
    assert territories.index("Occitanie") < territories.index("Toulouse")
    assert "Éoliennes en ville" not in territories  # no region: not in the territory index
    keywords = reader.pages[pages["Index des mots-clés"]].extract_text()
    # the website's 'thematiques', in French order
    entries = [line.split("\xa0:")[0] for line in keywords.split("\n") if "\xa0:" in line]
    assert entries == ["Énergie", "numérique", "quartier"]


def test_a_collection_cannot_group_by_a_field_no_kind_has(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = _project(project_copy)
    _article(root, "jardins", "Des jardins")
    (root / "collections").mkdir()
    (root / "collections" / "site.yaml").write_text(
        "title: Articles\ndate: 2024-01-01\ngroup_by: rubrique\n"
        "index_fields: {keywords: [mots_cles]}\n"
        "colophon: {publisher: Réseau, publisher_address: Paris}\n",
        encoding="utf-8",
    )
    result = cli("check", "--project", root)
    assert result.exit_code == 1
    assert "collections/site.yaml:3: error: field 'group_by': no kind has a field 'rubrique'" in (
        result.output
    )
    assert (
        "collections/site.yaml:4: error: field 'index_fields.keywords': no kind has a field "
        "'mots_cles'" in result.output
    )
