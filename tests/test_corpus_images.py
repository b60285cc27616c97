"""Markdown written by others builds (issue 17): images that are not there, and the page itself.

An image that is missing, outside the project or not to be had from the network is a warning
located at its line; the sheet is built with a framed placeholder carrying the image's alt
text, and ``--strict`` and editions refuse it. Image paths starting with '/' (the habit of
static-site generators) start from the setting ``site_root`` (default: the content folder) and
never leave the project. Code blocks wrap inside the page; titles are never hyphenated.

Most cases share one project built once through the command line.
"""

from __future__ import annotations

import io
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject

from conftest import copy_project, run_cli  # type: ignore[import-not-found]

R = "content/resources"
#: Front matter of a valid resource sheet; its body starts on line BODY_LINE.
SHEET = """---
slug: {slug}
title: {title}
resource_type: guide
resource_centre: Centre de ressources
date: 2024-03-12
theme: perseverance
abstract: Une fiche reprise d'un site existant.
---

## Texte

{body}
"""
BODY_LINE = 13
PLACEHOLDER = "a placeholder is printed in its place"
SITE_ROOT = "(site-root paths start from 'content', setting site_root)"
#: Written only in the file outside the project: it must never reach a PDF.
MARKER = "HORS-DU-PROJET-7c1e"
MM = 72 / 25.4
#: The sheet's right margin (sheet.css: @page margin 17 mm), from the page's right edge.
RIGHT_MARGIN = 17 * MM
#: A line that Markdown reads as code (indented by four spaces), longer than the page is wide.
CODE_WORDS = (
    "- un élément de liste indenté de quatre espaces, que Markdown lit comme du code, avec une "
    "ligne bien plus longue que la largeur de la page qui doit revenir à la ligne FIN-DE-LIGNE"
)
CODE_TOKEN = "https://exemple.org/" + "chemin-sans-aucune-espace/" * 6 + "FIN-DU-CHEMIN"


def photo(width: int, height: int, comment: str = "") -> bytes:
    out = io.BytesIO()
    info = None
    if comment:
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Comment", comment)
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def sheet(slug: str, body: str, title: str = "Fiche reprise") -> str:
    return SHEET.format(slug=slug, title=title, body=body)


def write(root: Path, sheets: dict[str, str]) -> None:
    folder = root / R
    folder.mkdir(parents=True, exist_ok=True)
    for slug, body in sheets.items():
        (folder / f"{slug.lower()}.md").write_text(sheet(slug, body), encoding="utf-8")


def at(slug: str, line: int, level: str, message: str) -> str:
    return f"{R}/{slug.lower()}.md:{BODY_LINE + line}: {level}: {message}"


def flat(text: str) -> str:
    """Text with every run of spaces (no-break ones included) as one space."""
    return " ".join(text.split())


def page_text(pdf: Path) -> str:
    return flat("\n".join(page.extract_text() for page in PdfReader(pdf).pages))


def image_sizes(pdf: Path) -> list[tuple[int, int]]:
    return [image.image.size for page in PdfReader(pdf).pages for image in page.images]


@dataclass
class Built:
    root: Path
    result: Result

    def lines(self, slug: str) -> list[str]:
        rel = f"{R}/{slug.lower()}.md"
        return [line for line in self.result.output.splitlines() if line.startswith(rel)]

    def pdf(self, slug: str) -> Path:
        return self.root / "build" / "sheets" / f"{slug}.pdf"


CASES = {
    "IMG-MISSING": "![Atelier des parents](../images/absente.jpg)\n\nTexte.\n\n"
    "![](../images/sans-texte.png)",
    "IMG-WEB": "Avant.\n\n![Photo du quartier](https://example.org/photo.jpg)\n\nAprès.",
    "IMG-SITE-ROOT": "![Plan du quartier](/img/plan.png)",
    "IMG-SITE-ESCAPE": "![Secret](/../../secret/forbidden.png)",
    "IMG-SITE-SYMLINK": "![Lien](/img/lien.png)",
    "IMG-RELATIVE-ESCAPE": "![Secret](../../../secret/forbidden.png)",
    "CODE-LONG": f"Une liste :\n\n    {CODE_WORDS}\n\n    {CODE_TOKEN}\n\nFin.",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("corpus")
    secret = base / "secret"
    secret.mkdir()
    (secret / "forbidden.png").write_bytes(photo(12, 12, MARKER))
    root = copy_project(base / "project", [], images=False)
    (root / "content" / "img").mkdir(parents=True)
    (root / "content" / "img" / "plan.png").write_bytes(photo(40, 30))
    os.symlink(secret / "forbidden.png", root / "content" / "img" / "lien.png")
    write(root, CASES)
    return Built(root, run_cli("build", "--project", root, "-j", "1"))


def test_the_build_succeeds_with_warnings(built: Built) -> None:
    assert built.result.exit_code == 0, built.result.output
    assert "Traceback" not in built.result.output
    assert ": error: " not in built.result.output
    for slug in CASES:
        assert built.pdf(slug).is_file(), built.result.output
    assert all(MARKER.encode() not in pdf.read_bytes() for pdf in built.root.rglob("*.pdf"))


def test_a_missing_image_is_a_warning_and_prints_a_placeholder(built: Built) -> None:
    assert sorted(built.lines("IMG-MISSING")) == sorted(
        [
            at(
                "IMG-MISSING",
                0,
                "warning",
                f"image '../images/absente.jpg' does not exist; {PLACEHOLDER}",
            ),
            at(
                "IMG-MISSING",
                4,
                "warning",
                f"image '../images/sans-texte.png' does not exist; {PLACEHOLDER}",
            ),
            at(  # and it has no alternative text either (issue 16)
                "IMG-MISSING",
                4,
                "warning",
                "image '../images/sans-texte.png' has no alternative text: describe it "
                "(![description](...)) or, if it is purely decorative, say so with "
                "![](../images/sans-texte.png){.decoratif}",
            ),
        ]
    )
    text = page_text(built.pdf("IMG-MISSING"))
    assert "Image indisponible : Atelier des parents" in text
    assert "Image indisponible : sans-texte.png" in text  # no alt text: the file's name
    assert "Texte." in text


def test_an_image_from_the_web_without_network_is_a_warning(built: Built) -> None:
    assert built.lines("IMG-WEB") == [
        at(
            "IMG-WEB",
            2,
            "warning",
            "image 'https://example.org/photo.jpg' is not fetched: the build does not use the "
            f"network (the setting remote_image_hosts lists no host); {PLACEHOLDER}",
        )
    ]
    text = page_text(built.pdf("IMG-WEB"))
    assert "Avant. Image indisponible : Photo du quartier Après." in text


def test_a_site_root_path_starts_from_the_content_folder(built: Built) -> None:
    assert built.lines("IMG-SITE-ROOT") == []
    assert image_sizes(built.pdf("IMG-SITE-ROOT")) == [(40, 30)]
    assert "Image indisponible" not in page_text(built.pdf("IMG-SITE-ROOT"))


@pytest.mark.parametrize(
    ("slug", "src"),
    [
        ("IMG-SITE-ESCAPE", "/../../secret/forbidden.png"),
        ("IMG-SITE-SYMLINK", "/img/lien.png"),
    ],
)
def test_a_site_root_path_never_leaves_the_project(built: Built, slug: str, src: str) -> None:
    assert built.lines(slug) == [
        at(
            slug,
            0,
            "warning",
            f"image '{src}' refused: it is outside the project {SITE_ROOT}; {PLACEHOLDER}",
        )
    ]
    assert image_sizes(built.pdf(slug)) == []
    assert "Image indisponible" in page_text(built.pdf(slug))


def test_a_relative_path_out_of_the_project_is_refused_the_same_way(built: Built) -> None:
    assert built.lines("IMG-RELATIVE-ESCAPE") == [
        at(
            "IMG-RELATIVE-ESCAPE",
            0,
            "warning",
            "image '../../../secret/forbidden.png' refused: it is outside the project; "
            + PLACEHOLDER,
        )
    ]
    assert image_sizes(built.pdf("IMG-RELATIVE-ESCAPE")) == []


def test_strict_builds_refuse_an_unavailable_image(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project", [], images=False)
    write(root, {"IMG-STRICT": "![Atelier](../images/absente.jpg)"})
    result = run_cli("build", "--strict", "--project", root, "-j", "1")
    assert result.exit_code == 1, result.output
    expected = at(
        "IMG-STRICT", 0, "warning", f"image '../images/absente.jpg' does not exist; {PLACEHOLDER}"
    )
    assert expected in result.output.splitlines()
    assert not (root / "build" / "sheets" / "IMG-STRICT.pdf").exists()
    # and an edition, always strict, is not published
    edition = run_cli("edition", "create", "2024", "-j", "1", "--project", root)
    assert edition.exit_code == 1, edition.output
    assert expected in edition.output.splitlines()
    assert not (root / "build" / "editions" / "2024").exists()


def test_the_site_root_setting(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project", [], images=False)
    (root / "static" / "img").mkdir(parents=True)
    (root / "static" / "img" / "plan.png").write_bytes(photo(20, 10))
    (root / "recueil.yaml").write_text("site_root: static\n", encoding="utf-8")
    write(root, {"IMG-STATIC": "![Plan](/img/plan.png)\n\n![Autre](/img/autre.png)"})
    result = run_cli("build", "--project", root, "-j", "1")
    assert result.exit_code == 0, result.output
    assert (
        at(
            "IMG-STATIC",
            2,
            "warning",
            "image '/img/autre.png' does not exist (site-root paths start from 'static', setting "
            f"site_root); {PLACEHOLDER}",
        )
        in result.output.splitlines()
    )
    assert image_sizes(root / "build" / "sheets" / "IMG-STATIC.pdf") == [(20, 10)]

    (root / "recueil.yaml").write_text("site_root: ../ailleurs\n", encoding="utf-8")
    check = run_cli("check", "--project", root)
    assert check.exit_code == 1
    assert (
        "recueil.yaml:1:1: error: field 'site_root': it must be a folder inside the project"
        in check.output.splitlines()
    ), check.output


def test_an_unreachable_image_server_is_a_warning(tmp_path: Path) -> None:
    """A listed host that cannot be reached (no network, server down): the sheet is built with
    a placeholder, and rendered again at the next build (the image may be back)."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = copy_project(tmp_path / "project", [], images=False)
    (root / "recueil.yaml").write_text(
        "remote_image_hosts:\n  - http://127.0.0.1\nremote_image_timeout: 2\n", encoding="utf-8"
    )
    url = f"http://127.0.0.1:{port}/photo.png"
    write(root, {"IMG-DOWN": f"![Photo de l'atelier]({url})"})
    for _ in range(2):
        result = run_cli("build", "--project", root, "-j", "1")
        assert result.exit_code == 0, result.output
        assert (
            at(
                "IMG-DOWN",
                0,
                "warning",
                f"image '{url}' is not available: it could not be fetched (Connection refused); "
                f"{PLACEHOLDER}",
            )
            in result.output.splitlines()
        )
        assert "1 rendered, 0 unchanged" in result.output  # never served from the cache
    text = page_text(root / "build" / "sheets" / "IMG-DOWN.pdf")
    assert "Image indisponible : Photo de l’atelier" in text


# ------------------------------------------------------------------------- the page itself


def _max_advance(font: object) -> float:
    """The widest glyph of a composite font (of those its /W table lists, or its default
    width), in text space units per unit of font size."""
    descendant = font["/DescendantFonts"][0].get_object()  # type: ignore[index]
    table = list(descendant.get("/W", []))
    widths = [] if table else [float(descendant.get("/DW", 1000))]
    index = 0
    while index < len(table):
        if isinstance(table[index + 1], ArrayObject):
            widths += [float(w) for w in table[index + 1]]
            index += 2
        else:
            widths.append(float(table[index + 2]))
            index += 3
    return max(widths) / 1000


def test_long_code_lines_wrap_inside_the_page(built: Built) -> None:
    reader = PdfReader(built.pdf("CODE-LONG"))
    page = reader.pages[0]
    text = "".join(page.extract_text().split())
    for line in (CODE_WORDS, CODE_TOKEN):  # all of it is there, on one line or several
        assert "".join(line.split()) in text
    right = float(page.mediabox.width) - RIGHT_MARGIN + 1
    code = "".join((CODE_WORDS + CODE_TOKEN).split())
    ends: list[tuple[str, float]] = []

    def visit(run: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if not run.strip() or "".join(run.split()) not in code or font is None:
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        scale = abs(tm[0] * cm[0] + tm[1] * cm[2])
        ends.append((run, x + len(run) * _max_advance(font) * size * scale))

    page.extract_text(visitor_text=visit)
    assert len(ends) >= 4, ends  # each of the two lines is broken at least once
    assert [(run, end) for run, end in ends if end > right] == []


def test_titles_are_not_hyphenated(tmp_path: Path) -> None:
    """A collection whose subtitle has long words: the cover and the title page print them
    whole (they were broken as 'incu‐bateur'), in a sheet as well as in the collection."""
    subtitle = (
        "Accompagnement intergénérationnel : l'incubateur départemental des expérimentations "
        "pédagogiques transdisciplinaires intercommunales"
    )
    root = copy_project(tmp_path / "project", [], images=False)
    write(root, {"TITRE-1": "Texte."})
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(
        f'title: Recueil\nsubtitle: "{subtitle}"\ndate: 2024-01-20\n'
        "select:\n  slugs: [TITRE-1]\ngroup_by: none\n"
        "colophon:\n  publisher: Réseau\n  publisher_address: 1 rue X, 75000 Paris\n",
        encoding="utf-8",
    )
    result = run_cli("collection", "essai", "--project", root)
    assert result.exit_code == 0, result.output
    reader = PdfReader(root / "build" / "collections" / "essai.pdf")
    for page in reader.pages[:2]:  # the cover and the title page
        lines = page.extract_text().splitlines()
        assert [line for line in lines if line.rstrip().endswith(("-", "‐", "\u00ad"))] == []
        assert flat(subtitle.replace("'", "’")) in flat(" ".join(lines))
