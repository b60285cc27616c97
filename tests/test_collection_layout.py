"""Collections laid out from the project's data: exclusions, pictograms, the reading guide and
its statuses, templates adapted by blocks, French order, and dividers that run on."""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from pypdf import PdfReader

from recueil.collection.assemble import Assembler
from recueil.collection.collection_build import adhoc_collection
from recueil.collection.declared import discover_collections
from recueil.collection.definition import Collection, might_select, select_sheets
from recueil.collection.frame import split_parts
from recueil.collection.grouping import group_sheets
from recueil.collection.indexes import keyword_index
from recueil.collection.plan import make_plan
from recueil.core.collation import french_key
from recueil.render.sheet_build import SheetRenderer
from recueil.render.weasy import render_pdf
from recueil.sources.corpus import FailedSource, load_corpus
from recueil.sources.project import load_project

sys.path.insert(0, str(Path(__file__).parent))
from pdfinspect import outline_pages

REPO = Path(__file__).resolve().parents[1]
#: a one-page resource notice, copied under other slugs and titles
NOTICE = REPO / "content" / "resources" / "res-2024-001-podcast-savoir-nager.md"
COLOPHON = "colophon: {publisher: Centre de ressources, publisher_address: 1 rue de la Paix}\n"


def _notice(root: Path, slug: str, title: str, theme: str = "sport", extra: str = "") -> Path:
    """A copy of the sample notice with another slug, title and theme (and front-matter lines)."""
    text = NOTICE.read_text(encoding="utf-8")
    text = text.replace("slug: RES-2024-001", f"slug: {slug}")
    text = re.sub(r"(?m)^title: .*$", f'title: "{title}"', text)
    text = text.replace("theme: sport", f"theme: {theme}{extra}")
    path = root / "content" / "resources" / f"{slug.lower()}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _collection(root: Path, name: str, body: str) -> None:
    folder = root / "collections"
    folder.mkdir(exist_ok=True)
    text = f"title: Recueil d'essai\ndate: 2024-06-15\n{body}{COLOPHON}"
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


def _build(cli: Callable[..., Result], root: Path, name: str) -> PdfReader:
    result = cli("collection", name, "--project", root, "--quiet")
    assert result.exit_code == 0, result.output
    return PdfReader(root / "build" / "collections" / f"{name}.pdf")


def _text(reader: PdfReader, index: int) -> str:
    return reader.pages[index].extract_text()


def _page_of(reader: PdfReader, title: str) -> int:
    """The page an outline entry points to."""
    return next(page for _, name, page in outline_pages(reader) if name == title)


# French collation


def test_french_key_orders_like_a_french_dictionary() -> None:
    words = ["Usine à chatbots", "zèbre", "Éoliennes", "abricot", "À la porte", "Ecrans", "écrin"]
    assert sorted(words, key=french_key) == [
        "À la porte",
        "abricot",
        "Ecrans",
        "écrin",
        "Éoliennes",
        "Usine à chatbots",
        "zèbre",
    ]


def test_french_key_compares_letters_then_accents_then_case() -> None:
    # letters first: the accent of 'côte' does not put it after 'cotes'
    assert sorted(["cotes", "côte"], key=french_key) == ["côte", "cotes"]
    # same letters: unaccented, then acute, grave, circumflex, from the start of the word
    assert sorted(["côté", "coté", "côte", "cote"], key=french_key) == [
        "cote",
        "coté",
        "côte",
        "côté",
    ]
    assert sorted(["pêche", "péché", "pèche", "peche"], key=french_key)[0] == "peche"
    # same letters and accents: lower case first
    assert sorted(["Été", "été"], key=french_key) == ["été", "Été"]
    # ligatures are spelt out, and come after their spelt-out form
    assert sorted(["ovale", "œuvre", "oeuvre", "odeur"], key=french_key) == [
        "odeur",
        "oeuvre",
        "œuvre",
        "ovale",
    ]
    assert sorted(["Æsope", "Aesop", "Afrique"], key=french_key) == ["Aesop", "Æsope", "Afrique"]
    # spaces and punctuation separate words and come before letters; the order is total
    assert sorted(["Lebrun", "Le bain", "L'école", "Le café"], key=french_key) == [
        "L'école",
        "Le bain",
        "Le café",
        "Lebrun",
    ]
    assert french_key("Le café") != french_key("Le  café")


def test_groups_and_keyword_index_of_the_sample_sort_in_french_order() -> None:
    project, _ = load_project(REPO)
    corpus = load_corpus(project)
    collection = adhoc_collection(project, "Essai", {"kinds": ["experience"]}, dt.date(2024, 1, 1))
    chosen = select_sheets(collection, corpus.sheets)
    groups = {g.key: g for g in group_sheets(collection, chosen, project.themes, project.kinds)}
    assert [s.title[:10] for s in groups["numerique"].sheets] == [
        "Écrans en ",  # casefold sorted it after "Un fab lab"
        "Un fab lab",
    ]
    for group in groups.values():
        titles = [s.title for s in group.sheets]
        assert titles == sorted(titles, key=french_key), group.key
    keywords = [word for word, _ in keyword_index(chosen)]
    assert keywords == sorted(keywords, key=french_key)


def test_contents_list_accented_titles_in_french_order(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(images=False)
    for slug, title in (
        ("RES-2030-001", "Usine à chatbots"),
        ("RES-2030-002", "Éoliennes en cœur de ville"),
        ("RES-2030-003", "Abeilles au collège"),
    ):
        _notice(root, slug, title)
    _collection(root, "ordre", "")
    reader = _build(cli, root, "ordre")
    contents = _text(reader, _page_of(reader, "Sommaire"))
    positions = [contents.index(t) for t in ("Abeilles", "Éoliennes", "Usine")]
    assert positions == sorted(positions), contents  # casefold put "Éoliennes" after "Usine"


# select.exclude


def test_exclude_leaves_out_slugs_and_patterns() -> None:
    project, _ = load_project(REPO)
    corpus = load_corpus(project)
    rules = {"kinds": ["experience"], "exclude": ["HDF-2022-003", "ARA-*", "?DF-2023-1[0-9]*"]}
    collection = Collection("essai", "collections/essai.yaml", {"select": rules})
    everything = select_sheets(
        Collection("tout", "x", {"select": {"kinds": ["experience"]}}), corpus.sheets
    )
    kept = {s.slug for s in select_sheets(collection, corpus.sheets)}
    left_out = {s.slug for s in everything} - kept
    assert "HDF-2022-003" in left_out
    assert {s for s in left_out if s.startswith("ARA-")} == {
        s.slug for s in everything if s.slug.startswith("ARA-")
    }
    assert {s for s in left_out if s.startswith("IDF-2023-1")} == {
        s.slug for s in everything if s.slug.startswith("IDF-2023-1")
    }
    assert left_out and all(
        s == "HDF-2022-003" or s.startswith(("ARA-", "IDF-2023-1")) for s in left_out
    )
    # a source with errors that the exclusion names is not missed by the collection
    broken = FailedSource("x.md", "field 'date': bad", "ARA-2022-999", None, "experience", {})
    assert not might_select(collection, broken)
    named = FailedSource("y.md", "field 'date': bad", "HDF-2022-999", None, "experience", {})
    assert might_select(collection, named)


def test_excluded_broken_sheet_does_not_hold_the_collection_back(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(images=False)
    _notice(root, "RES-2030-001", "Une ressource en bon état")
    broken = _notice(root, "RES-2019-007", "Une ressource abandonnée")
    broken.write_text(broken.read_text(encoding="utf-8").replace("2024-04-23", "2024-13-45"))
    _collection(root, "sans-anciennes", "select:\n  exclude: [RES-2019-*]\n")
    reader = _build(cli, root, "sans-anciennes")
    assert [t for _, t, _ in outline_pages(reader) if t.startswith("Une ")] == [
        "Une ressource en bon état"
    ]


def test_exclusion_problems_are_reported_at_their_line(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(images=False)
    _notice(root, "RES-2030-001", "Une ressource")
    _collection(root, "rien", "select:\n  exclude:\n    - RES-2030-001\n    - ZZZ-*\n")
    _collection(root, "faux", "select:\n  exclude: [RES/2030]\n")
    result = cli("check", "--project", root)
    assert (
        "collections/rien.yaml:6: warning: field 'select.exclude': 'ZZZ-*' matches no sheet"
        in result.output
    )
    assert (
        "collections/faux.yaml:4:13: error: field 'select.exclude[0]': 'RES/2030' is neither a "
        "slug nor a pattern of slugs" in result.output
    )


# pictograms


def test_theme_without_pictogram_warns_and_still_builds(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(images=False)
    themes = root / "themes.yaml"
    themes.write_text(
        themes.read_text(encoding="utf-8")
        + "- code: energie\n  order: 12\n  label: Énergies du quartier\n  short: Énergies\n"
        '  colour: "#2A9D8F"\n',
        encoding="utf-8",
    )
    line = themes.read_text(encoding="utf-8").split("\n").index("- code: energie") + 1
    _notice(root, "RES-2030-001", "Des panneaux solaires sur l'école", theme="energie")
    _notice(root, "RES-2030-002", "Nager l'été", theme="sport")
    check = cli("check", "--project", root)
    assert check.exit_code == 0, check.output
    assert (
        f"themes.yaml:{line}: warning: theme 'energie' has no pictogram "
        "(styles/pictos/energie.svg" in check.output
    )
    _collection(root, "energie", "")
    build = cli("build", "--project", root, "--quiet")
    assert build.exit_code == 0, build.output
    assert f"themes.yaml:{line}: warning: theme 'energie' has no pictogram" in build.output
    assert "Énergies du quartier" in _text(PdfReader(root / "build/sheets/RES-2030-001.pdf"), 0)
    # the band draws the pictogram of a theme that has one, and asks for no other
    project, _ = load_project(root)
    corpus = load_corpus(project)
    renderer = SheetRenderer(project, corpus)
    pictos = {}
    for sheet in corpus.sheets:
        result = renderer.render(sheet)[0]
        assert result is not None
        pictos[sheet.slug] = [Path(f).name for f in result.dependencies if "/pictos/" in f]
    assert pictos == {"RES-2030-001": [], "RES-2030-002": ["sport.svg"]}
    reader = PdfReader(root / "build" / "collections" / "energie.pdf")
    divider = _page_of(reader, "12. Énergies du quartier")
    assert "Énergies du quartier" in _text(reader, divider)
    assert "12. Énergies du quartier" in _text(reader, _page_of(reader, "Mode d'emploi"))


# the reading guide and its statuses


def test_sample_reading_guide_is_project_data_and_prints_as_before() -> None:
    template = (REPO / "templates" / "collection.html").read_text(encoding="utf-8")
    assert "Chaque fiche tient" not in template and "essaimée" not in template
    project, _ = load_project(REPO)
    corpus = load_corpus(project)
    collections, _ = discover_collections(project)
    national = next(c for c in collections if c.name == "rencontre-nationale-2022")
    chosen = select_sheets(national, corpus.sheets)
    groups = group_sheets(national, chosen, project.themes, project.kinds)
    assembler = Assembler(project, national, groups, {}, {})
    editorial = assembler.editorial_html()
    parts = {part: 1 for part in assembler._part_ids()}
    plan = make_plan(national, groups, {s.slug: 1 for s in chosen}, parts, assembler.indexes)
    pieces = split_parts(assembler.frame_html(plan, editorial), 1000)
    howto = next(piece for piece in pieces if 'id="part-howto"' in piece)
    result = render_pdf(howto, project_dir=project.root, style_dirs=project.style_dirs, rel="x")
    assert PdfReader(io.BytesIO(result.pdf)).pages[0].extract_text() == EXPECTED_HOWTO


#: the sample's "Mode d'emploi" page as printed when its text was part of the template
EXPECTED_HOWTO = (
    "en projet\n"
    "en cours\n"
    "terminée\n"
    "reconduite\n"
    "essaimée\n"
    "Mode d’emploi des fiches\n"
    "Chaque fiche tient sur une à quatre pages. Un bandeau de couleur indique sa thématique "
    "et son numéro\u202f; la\n"
    "carte d’identité de l’action réunit le territoire, le porteur, les partenaires, le "
    "public, le calendrier, le budget et\n"
    "un contact. Les renvois «\u202fVoir aussi\u202f» mènent à d’autres fiches du recueil.\n"
    "Les thématiques\n"
    "1. Petite enfance (0-6\xa0ans)\n"
    "2. Parentalité et relations familles-école\n"
    "3. Persévérance scolaire et prévention du décrochage\n"
    "4. Orientation et insertion des 16-25\xa0ans\n"
    "5. Santé, bien-être et santé mentale\n"
    "6. Numérique\n"
    "7. Culture, éducation artistique et lecture\n"
    "8. Sport et activité physique\n"
    "9. Citoyenneté et engagement\n"
    "10. Égalité filles-garçons\n"
    "11. Continuité éducative\xa0: périscolaire et vacances\n"
    "Le statut des actions\n"
    "l’action est préparée, elle n’a pas encore commencé\u202f;\n"
    "l’action se déroule au moment de la rédaction\u202f;\n"
    "l’action a pris fin\u202f;\n"
    "l’action a été renouvelée après une première édition\u202f;\n"
    "l’action a inspiré d’autres territoires."
)


def test_reading_guide_and_statuses_come_from_the_project(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(images=False)
    kind = root / "kinds" / "resource.yaml"
    kind.write_text(
        kind.read_text(encoding="utf-8")
        + "  status:\n    type: enum\n    values: [à jour, à revoir]\n    descriptions:\n"
        "      à jour: la ressource a été relue cette année ;\n"
        "      à revoir: ses chiffres datent.\n",
        encoding="utf-8",
    )
    _notice(root, "RES-2030-001", "Une ressource", extra="\nstatus: à jour")
    (root / "collections").mkdir()
    (root / "collections" / "guide.md").write_text(
        "Lisez d'abord les fiches de **votre région**.\n", encoding="utf-8"
    )
    _collection(root, "avec-guide", "reading_guide: guide.md\n")
    _collection(root, "sans-guide", "")
    guided = _build(cli, root, "avec-guide")
    howto = _text(guided, _page_of(guided, "Mode d'emploi"))
    assert "Lisez d’abord les fiches de votre région." in howto
    assert "Chaque fiche tient" not in howto
    # only the kinds the project has sources of: the resource's statuses, not the experience's
    assert "Le statut des actions" in howto
    assert "la ressource a été relue cette année\u202f;" in howto
    assert "ses chiffres datent." in howto
    assert "essaimée" not in howto
    plain = _build(cli, root, "sans-guide")
    assert "Lisez" not in _text(plain, _page_of(plain, "Mode d'emploi"))


# templates adapted by blocks


def test_a_collection_template_overrides_blocks_of_the_default(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(images=False)
    _notice(root, "RES-2030-001", "Nager l'été")
    (root / "templates" / "mon-recueil.html").write_text(
        '{% extends "collection.html" %}\n'
        "{% block divider %}\n"
        '<section class="part divider" id="part-divider-{{ group.key }}">\n'
        "  <h1>Une partie sur mesure</h1><p>{{ group.label }}</p>\n"
        "  {{ sheet_entries(group) }}\n"
        "</section>\n"
        "{% endblock %}\n"
        "{% block back_cover %}\n"
        '<section class="part back-cover" id="part-back"><p>Quatrième de couverture sur mesure</p>'
        "</section>\n"
        "{% endblock %}\n",
        encoding="utf-8",
    )
    _collection(root, "adapte", "template: mon-recueil.html\n")
    reader = _build(cli, root, "adapte")
    assert _text(reader, len(reader.pages) - 1).strip() == "Quatrième de couverture sur mesure"
    divider = _text(reader, _page_of(reader, "8. Sport et activité physique"))
    assert "Une partie sur mesure\nSport et activité physique\n" in divider
    assert "Nager l’été" in divider
    assert "Recueil d’essai" in _text(reader, 0)  # the cover is the default one
    # a mistake in the project's template is an error at its line, not a crash
    (root / "templates" / "casse.html").write_text(
        '{% extends "collection.html" %}\n{% block back_cover %}\n{{ blurb.text }}\n'
        "{% endblock %}\n",
        encoding="utf-8",
    )
    _collection(root, "casse", "template: casse.html\n")
    broken = cli("collection", "casse", "--project", root, "--quiet")
    assert broken.exit_code == 1
    assert (
        "templates/casse.html:3: error: template error while rendering collections/casse.yaml"
        in (broken.output)
    )
    _collection(root, "inconnu", "template: absent.html\n")
    check = cli("check", "--project", root)
    assert "collections/inconnu.yaml:3: error: field 'template': no template 'absent.html'" in (
        check.output
    )


# long dividers


def test_a_long_divider_is_continued_under_a_suite_heading(
    project_copy: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    root = project_copy(images=False)
    for number in range(1, 41):
        _notice(root, f"RES-2030-{number:03d}", f"Savoir nager, épisode {number:02d}")
    _collection(root, "long", "indexes: []\n")
    reader = _build(cli, root, "long")
    divider = _page_of(reader, "8. Sport et activité physique")
    first_sheet = _page_of(reader, "Savoir nager, épisode 01")
    pages = [_text(reader, index) for index in range(divider, first_sheet)]
    assert len(pages) >= 2, "40 entries should not fit on the divider's first page"
    assert "(suite)" not in pages[0]
    assert "Savoir nager, épisode 01" in pages[0]
    for page in pages[1:]:
        assert "Sport et activité physique (suite)" in page
    assert "Savoir nager, épisode 40" in pages[-1]
