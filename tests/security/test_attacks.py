"""Hostile and broken sources against a whole build: one named test per attack.

One project holds every attack next to two good sample sheets, and is built once through the
command line (``recueil build``, in-process, under a time limit). Each test then checks its own
attack: the exact diagnostic (message and line), whether its sheet was rendered, and the
common promises: no byte of a file outside the project (a planted marker, /etc/passwd) in any
output PDF, and the good sheets built anyway. Where an attack is about speed, the stage that
must refuse it quickly is also called directly under a tighter ``limit``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from hostile import BODY_LINE, MARKER, PASSWD, pdf_leaks, plant_forbidden, png, resource, svg
from pypdf import PdfReader

from conftest import REPO, copy_project, run_cli, time_limit  # type: ignore[import-not-found]
from recueil.core.limits import InputLimits, image_problem
from recueil.markup.markdown import MarkupOptions, to_html
from recueil.sources.project import load_project
from recueil.sources.sheet import load_sheet

GUIDE = "resources/res-2021-001-guide-exclusions-temporaires.md"  # RES-2021-001
DOSSIER = "resources/res-2021-002-dossier-vacances-apprenantes.md"  # RES-2021-002
PASSERELLE = "experiences/hdf-2022-001-classe-passerelle.md"  # HDF-2022-001, one photo
GOOD = ("RES-2021-001", "RES-2021-002", "HDF-2022-001")
#: The whole build (about 15 renders and 30 refusals) must end well within this.
BUILD_SECONDS = 60
Limit = Callable[[float], contextlib.AbstractContextManager[None]]
R = "content/resources"
E = "content/experiences"
ONLY_FILES = "images must be files of the project (no network, data: or file: URLs)"
ONLY_LINKS = "only http(s), mailto, tel and sheet: links are allowed"
PLACEHOLDER = "a placeholder is printed in its place"


@dataclass
class Built:
    """The attack project after one build: where it is, what the command said, how long."""

    root: Path
    secret: Path
    result: Result
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.result.output.splitlines()

    def pdf(self, slug: str) -> Path:
        return self.root / "build" / "sheets" / f"{slug}.pdf"

    def diagnostics(self, rel: str) -> list[str]:
        """Every diagnostic line about one source."""
        return [line for line in self.lines if line.startswith(f"{rel}:")]


# ------------------------------------------------------------------------------ the project


def _attacks(secret: Path) -> dict[str, str | bytes]:
    """Source files (relative to the project) → contents. ``secret`` is outside the project."""
    forbidden_svg = secret / "forbidden.svg"
    forbidden_txt = secret / "forbidden.txt"
    return {
        # --- files outside the project, through every door
        f"{R}/atk-file-image.md": resource("ATK-FILE-IMAGE", "![mot de passe](file:///etc/passwd)"),
        f"{R}/atk-file-link.md": resource("ATK-FILE-LINK", "[mot de passe](file:///etc/passwd)"),
        f"{R}/atk-link-attachment.md": resource(
            "ATK-LINK-ATTACHMENT",
            f'Texte <link rel="attachment" href="file://{forbidden_txt}"> suite.\n\n'
            '<link rel=attachment href="file:///etc/passwd">',
        ),
        f"{R}/atk-relative-escape.md": resource(
            "ATK-RELATIVE-ESCAPE", "![secret](../../../secret/forbidden.svg)"
        ),
        f"{R}/atk-absolute-image.md": resource("ATK-ABSOLUTE-IMAGE", f"![secret]({forbidden_svg})"),
        f"{R}/atk-symlink-image.md": resource("ATK-SYMLINK-IMAGE", "![lien](../images/evil.svg)"),
        f"{R}/atk-http-image.md": resource(
            "ATK-HTTP-IMAGE", "![réseau](http://example.org/photo.png)"
        ),
        f"{R}/atk-svg-external.md": resource(
            "ATK-SVG-EXTERNAL", "![carte](../images/external.svg)"
        ),
        # --- script and attribute injection
        f"{R}/atk-front-matter-html.md": resource(
            "ATK-FRONT-MATTER-HTML",
            "Texte.",
            title="'<link rel=attachment href=\"file:///etc/passwd\"><script>x</script>'",
        ).replace(
            "abstract: Une fiche",
            f"abstract: <img src='file://{forbidden_svg}'> <style>@import 'x'</style> Une fiche",
        ),
        f"{R}/atk-script.md": resource(
            "ATK-SCRIPT", 'Avant.\n\n<script>alert("SCRIPT-RAN")</script>\n\nAprès.'
        ),
        f"{R}/atk-iframe.md": resource(
            "ATK-IFRAME", '<iframe src="file:///etc/passwd">IFRAME-CONTENT</iframe>'
        ),
        f"{R}/atk-onclick.md": resource(
            "ATK-ONCLICK", 'Un paragraphe piégé.\n{: onclick="alert(1)" }'
        ),
        f"{R}/atk-javascript-link.md": resource(
            "ATK-JAVASCRIPT-LINK", "[cliquez](javascript:alert(1))"
        ),
        f"{R}/atk-style-url.md": resource(
            "ATK-STYLE-URL",
            '<table><tr><td style="text-align: center; background: '
            f'url(file://{forbidden_svg})">cellule</td></tr></table>\n\n'
            f'<p style="background-image: url(file://{forbidden_svg})">paragraphe</p>',
        ),
        f"{R}/atk-style-element.md": resource(
            "ATK-STYLE-ELEMENT",
            f"<style>@import url(file://{secret / 'forbidden.css'});\n"
            f"body {{ background: url(file://{forbidden_svg}) }}</style>\n\nTexte.",
        ),
        # --- exhaustion
        f"{R}/atk-nested-quotes.md": resource(
            "ATK-NESTED-QUOTES", "Début.\n\n" + ">" * 200 + " tout au fond"
        ),
        f"{R}/atk-big-table.md": resource("ATK-BIG-TABLE", _table(300, 300)),
        f"{R}/atk-png-bomb.md": resource("ATK-PNG-BOMB", "![bombe](../images/bomb.png)"),
        f"{E}/atk-png-bomb-photo.md": _passerelle("ATK-PNG-BOMB-PHOTO", "../images/bomb.png"),
        f"{E}/atk-symlink-photo.md": _passerelle("ATK-SYMLINK-PHOTO", "../images/evil.svg"),
        f"{R}/atk-alias-bomb.md": _alias_bomb(),
        f"{R}/atk-front-matter-size.md": resource("ATK-FRONT-MATTER-SIZE", "Texte.").replace(
            "theme: perseverance\n", "theme: perseverance\n" + "# remplissage\n" * 6000
        ),
        # --- broken files
        f"{R}/atk-latin1.md": resource("ATK-LATIN1", "Texte accentué : été.").encode("latin-1"),
        f"{R}/atk-binary.md": bytes(range(256)) * 4,
        f"{R}/atk-empty.md": b"",
        f"{R}/atk-only-front-matter.md": resource("ATK-ONLY-FRONT-MATTER", "").split("\n## ")[0],
        f"{R}/atk-dup-a.md": resource("ATK-DUP", "Première."),
        f"{R}/atk-dup-b.md": resource("ATK-DUP", "Seconde."),
        # --- must build fine
        f"{R}/atk-yaml-strings.md": resource("ATK-YAML-STRINGS", "Texte.", title="NO")
        .replace("resource_centre: Labo Cités", "resource_centre: 12:30")
        .replace("theme: perseverance\n", "theme: perseverance\nduration: 1.10\n"),
        f"{R}/fiche été n°1 🎉.md": resource(
            "ATK-NAMES", "![photo](<../images/photo d'été 🎉.svg>)\n\nTexte."
        ),
        f"{R}/dossier à part 🎈/fiche d'essai.md": resource(
            "ATK-FOLDER-NAMES", "![photo](<../../images/photo d'été 🎉.svg>)\n\nTexte."
        ),
    }


def _table(rows: int, columns: int) -> str:
    header = "| " + " | ".join(f"Colonne{c}" for c in range(columns)) + " |"
    rule = "|" + "---|" * columns
    body = "\n".join("| " + " | ".join("x" for _ in range(columns)) + " |" for _ in range(rows))
    return f"{header}\n{rule}\n{body}"


def _alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[index]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "---\nslug: ATK-ALIAS-BOMB\ntitle: Bombe\n" + "\n".join(lines) + "\n---\nTexte.\n"


def _passerelle(slug: str, photo: str) -> str:
    text = (REPO / "content" / PASSERELLE).read_text(encoding="utf-8")
    text = text.replace("slug: HDF-2022-001", f"slug: {slug}", 1)
    return text.replace("../images/hdf-2022-001-passerelle.svg", photo, 1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The attack project, built once (the good sample sheets with it)."""
    base = tmp_path_factory.mktemp("attacks")
    secret = plant_forbidden(base / "secret")
    root = copy_project(base / "project", [GUIDE, DOSSIER, PASSERELLE])
    images = root / "content" / "images"
    os.symlink(secret / "forbidden.svg", images / "evil.svg")
    (images / "bomb.png").write_bytes(png(20_000, 20_000))
    (images / "photo d'été 🎉.svg").write_text(svg("photo"), encoding="utf-8")
    (images / "external.svg").write_text(
        svg("carte", f'<image href="file://{secret / "forbidden.png"}" width="9" height="9"/>'),
        encoding="utf-8",
    )
    for rel, contents in _attacks(secret).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(contents, bytes):
            path.write_bytes(contents)
        else:
            path.write_text(contents, encoding="utf-8")
    with open(root / R / "atk-huge.md", "wb") as stream:  # 50 MB, sparse
        stream.truncate(50_000_000)
    os.symlink(secret / "forbidden.txt", root / R / "atk-symlink-source.md")
    os.symlink("atk-symlink-loop.md", root / R / "atk-symlink-loop.md")
    started = time.perf_counter()
    with time_limit(BUILD_SECONDS):
        result = run_cli("build", "--project", root)
    return Built(root, secret, result, time.perf_counter() - started)


@pytest.fixture(scope="module")
def leaks(built: Built) -> dict[str, list[str]]:
    """Every output PDF → where the forbidden contents show in it (empty lists: no leak)."""
    pdfs = sorted((built.root / "build").rglob("*.pdf"))
    assert pdfs, built.result.output
    return {pdf.name: pdf_leaks(pdf.read_bytes()) for pdf in pdfs}


# ------------------------------------------------------------------------------ shared checks


def check_build(built: Built, leaks: dict[str, list[str]]) -> None:
    """What every attack test asserts: no traceback, no leak, good sheets built, in time."""
    assert "Traceback" not in built.result.output
    assert built.result.exception is None or isinstance(built.result.exception, SystemExit)
    assert built.result.exit_code == 1, built.result.output  # the attacks are errors
    assert {name: found for name, found in leaks.items() if found} == {}
    for slug in GOOD:
        assert built.pdf(slug).is_file(), f"{slug} was not built:\n{built.result.output}"
    assert built.seconds < BUILD_SECONDS


def refused(built: Built, leaks: dict[str, list[str]], rel: str, slug: str, *expected: str) -> None:
    """The source ``rel`` got exactly ``expected`` and its sheet was not rendered."""
    check_build(built, leaks)
    assert built.diagnostics(rel) == list(expected), built.result.output
    assert not built.pdf(slug).exists()


def sanitised(
    built: Built, leaks: dict[str, list[str]], rel: str, slug: str, *expected: str
) -> str:
    """The source ``rel`` got exactly ``expected`` warnings, was rendered; its text is returned."""
    check_build(built, leaks)
    assert built.diagnostics(rel) == list(expected), built.result.output
    assert built.pdf(slug).is_file(), built.result.output
    return "\n".join(page.extract_text() for page in PdfReader(built.pdf(slug)).pages)


def at(rel: str, line: int, level: str, message: str) -> str:
    return f"{rel}:{line}: {level}: {message}"


# ------------------------------------------------------------- files outside the project


def test_file_url_as_image(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-file-image.md"
    refused(
        built,
        leaks,
        rel,
        "ATK-FILE-IMAGE",
        at(rel, BODY_LINE, "error", f"image 'file:///etc/passwd' refused: {ONLY_FILES}"),
    )


def test_file_url_as_link(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-file-link.md"
    text = sanitised(
        built,
        leaks,
        rel,
        "ATK-FILE-LINK",
        at(rel, BODY_LINE, "warning", f"link 'file:///etc/passwd' removed: {ONLY_LINKS}"),
    )
    assert "mot de passe" in text  # the link text stays, without its target


def test_link_rel_attachment_in_raw_html(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-link-attachment.md"
    removed = "element <link> removed (not allowed in sheets)"
    sanitised(
        built,
        leaks,
        rel,
        "ATK-LINK-ATTACHMENT",
        at(rel, BODY_LINE, "warning", removed),
        at(rel, BODY_LINE + 2, "warning", removed),
    )
    assert leaks["ATK-LINK-ATTACHMENT.pdf"] == []  # no attachment, no marker


# An image out of reach is a warning since issue 17 ("Markdown written by others builds"): the
# sheet is built with a placeholder in its place, and nothing outside the project is read.


def test_relative_path_out_of_the_project(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-relative-escape.md"
    message = (
        f"image '../../../secret/forbidden.svg' refused: it is outside the project; {PLACEHOLDER}"
    )
    text = sanitised(
        built, leaks, rel, "ATK-RELATIVE-ESCAPE", at(rel, BODY_LINE, "warning", message)
    )
    assert "Image indisponible" in text


def test_absolute_image_path(built: Built, leaks: dict[str, list[str]]) -> None:
    """A path from '/' is a site-root path: it starts from the content folder, never from the
    root of the disk."""
    rel = f"{R}/atk-absolute-image.md"
    path = built.secret / "forbidden.svg"
    message = (
        f"image '{path}' does not exist (site-root paths start from 'content', setting "
        f"site_root); {PLACEHOLDER}"
    )
    text = sanitised(
        built, leaks, rel, "ATK-ABSOLUTE-IMAGE", at(rel, BODY_LINE, "warning", message)
    )
    assert "Image indisponible" in text


def test_symlinked_image_pointing_outside(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-symlink-image.md"
    assert (built.root / "content" / "images" / "evil.svg").is_symlink()
    message = f"image '../images/evil.svg' refused: it is outside the project; {PLACEHOLDER}"
    text = sanitised(built, leaks, rel, "ATK-SYMLINK-IMAGE", at(rel, BODY_LINE, "warning", message))
    assert "Image indisponible" in text


def test_symlinked_photo_in_front_matter(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{E}/atk-symlink-photo.md"
    message = "field 'photos[0].src': image '../images/evil.svg' is outside the project"
    refused(built, leaks, rel, "ATK-SYMLINK-PHOTO", f"{rel}:83:5: error: {message}")


def test_symlinked_source_pointing_outside(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-symlink-source.md"
    message = "refused: the file is a symbolic link to a file outside the project"
    assert built.diagnostics(rel) == [f"{rel}: error: {message}"]
    check_build(built, leaks)


def test_symlink_loop_as_a_source(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-symlink-loop.md"
    message = "cannot read file: it is a loop of symbolic links"
    assert built.diagnostics(rel) == [f"{rel}: error: {message}"]
    check_build(built, leaks)


def test_http_image(built: Built, leaks: dict[str, list[str]]) -> None:
    """No host listed: the network is never used, the image is a placeholder (issue 17)."""
    rel = f"{R}/atk-http-image.md"
    message = (
        "image 'http://example.org/photo.png' is not fetched: the build does not use the "
        f"network (the setting remote_image_hosts lists no host); {PLACEHOLDER}"
    )
    text = sanitised(built, leaks, rel, "ATK-HTTP-IMAGE", at(rel, BODY_LINE, "warning", message))
    assert "Image indisponible : réseau" in " ".join(text.split())


def test_svg_referring_outside_the_project(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-svg-external.md"
    target = built.secret / "forbidden.png"
    message = (
        f"image '../images/external.svg' refused: it refers to 'file://{target}' "
        "(SVG images may only use files of the project)"
    )
    refused(built, leaks, rel, "ATK-SVG-EXTERNAL", at(rel, BODY_LINE, "error", message))


# ------------------------------------------------------------ script and attribute injection


def test_html_in_front_matter_is_text(built: Built, leaks: dict[str, list[str]]) -> None:
    """Front-matter strings are escaped by the templates: the markup prints as text."""
    rel = f"{R}/atk-front-matter-html.md"
    text = sanitised(built, leaks, rel, "ATK-FRONT-MATTER-HTML")
    flat = " ".join(text.split())
    assert "<script>x</script>" in flat and "<img src=" in flat
    assert leaks["ATK-FRONT-MATTER-HTML.pdf"] == []


def test_script_element(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-script.md"
    text = sanitised(
        built,
        leaks,
        rel,
        "ATK-SCRIPT",
        at(rel, BODY_LINE + 2, "warning", "element <script> removed (not allowed in sheets)"),
    )
    assert "Avant" in text and "Après" in text
    assert "SCRIPT-RAN" not in text


def test_iframe_element(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-iframe.md"
    text = sanitised(  # and its src is not taken for an image: the element goes
        built,
        leaks,
        rel,
        "ATK-IFRAME",
        at(rel, BODY_LINE, "warning", "element <iframe> removed (not allowed in sheets)"),
    )
    assert "IFRAME-CONTENT" not in text


def test_onclick_through_attr_list(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-onclick.md"
    text = sanitised(
        built,
        leaks,
        rel,
        "ATK-ONCLICK",
        at(rel, BODY_LINE + 1, "warning", "attribute 'onclick' removed from <p>"),
    )
    assert "piégé" in text


def test_javascript_link(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-javascript-link.md"
    message = f"link 'javascript:alert(1)' removed: {ONLY_LINKS}"
    sanitised(built, leaks, rel, "ATK-JAVASCRIPT-LINK", at(rel, BODY_LINE, "warning", message))
    pdf = built.pdf("ATK-JAVASCRIPT-LINK").read_bytes()
    assert b"javascript:" not in pdf.lower() and b"/JavaScript" not in pdf  # no URI, no action


def test_css_url_in_style_attributes(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-style-url.md"
    sanitised(
        built,
        leaks,
        rel,
        "ATK-STYLE-URL",
        at(
            rel,
            BODY_LINE,
            "warning",
            "CSS property 'background' removed from <td> (only text-align is allowed)",
        ),
        at(rel, BODY_LINE + 2, "warning", "attribute 'style' removed from <p>"),
    )


def test_style_element_with_import_and_url(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-style-element.md"
    text = sanitised(
        built,
        leaks,
        rel,
        "ATK-STYLE-ELEMENT",
        at(rel, BODY_LINE, "warning", "element <style> removed (not allowed in sheets)"),
    )
    assert "Texte" in text


# ----------------------------------------------------------------------------- exhaustion


DEEP = (
    "nested more than 30 levels deep (blockquotes, lists or HTML elements): the sheet is "
    "refused (setting max_nesting_depth)"
)


def test_200_nested_blockquotes(built: Built, leaks: dict[str, list[str]], limit: Limit) -> None:
    rel = f"{R}/atk-nested-quotes.md"
    refused(built, leaks, rel, "ATK-NESTED-QUOTES", at(rel, BODY_LINE + 2, "error", DEEP))
    with limit(1):
        fragment = to_html(">" * 200 + " fond", 1, "x.md", _options(built.root))
    assert [d.format() for d in fragment.diagnostics] == [f"x.md:1: error: {DEEP}"]


def test_300_by_300_table(built: Built, leaks: dict[str, list[str]], limit: Limit) -> None:
    rel = f"{R}/atk-big-table.md"
    message = (
        "table of 301 rows × 300 columns is larger than the limit of 200 rows × 30 columns: "
        "the sheet is refused (settings max_table_rows and max_table_columns)"
    )
    refused(built, leaks, rel, "ATK-BIG-TABLE", at(rel, BODY_LINE, "error", message))
    with limit(1):  # refused from the source lines, before Python-Markdown spends seconds
        fragment = to_html(_table(300, 300), 1, "x.md", _options(built.root))
    assert [d.format() for d in fragment.diagnostics] == [f"x.md:1: error: {message}"]


BOMB = (
    "it is 20,000 × 20,000 pixels (400,000,000), above the limit of 40,000,000 pixels "
    "(setting max_image_pixels)"
)


def test_png_bomb_in_the_body(built: Built, leaks: dict[str, list[str]], limit: Limit) -> None:
    rel = f"{R}/atk-png-bomb.md"
    message = f"image '../images/bomb.png' refused: {BOMB}"
    refused(built, leaks, rel, "ATK-PNG-BOMB", at(rel, BODY_LINE, "error", message))
    bomb = built.root / "content" / "images" / "bomb.png"
    assert bomb.stat().st_size < 200  # a header and a tiny IDAT: refused from the header
    with limit(0.5):
        assert image_problem(bomb, built.root, InputLimits()) == BOMB


def test_png_bomb_as_front_matter_photo(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{E}/atk-png-bomb-photo.md"
    message = f"field 'photos[0].src': image '../images/bomb.png' refused: {BOMB}"
    refused(built, leaks, rel, "ATK-PNG-BOMB-PHOTO", f"{rel}:83:5: error: {message}")


def test_yaml_alias_bomb(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-alias-bomb.md"
    message = "YAML anchors and aliases (&name, *name) are not allowed"
    refused(built, leaks, rel, "ATK-ALIAS-BOMB", f"{rel}:4:4: error: {message}")


def test_front_matter_over_its_limit(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-front-matter-size.md"
    lines = (built.root / rel).read_bytes().split(b"\n")
    size = sum(len(line) + 1 for line in lines[1 : lines.index(b"---", 1)])
    assert size > 65_536
    message = (
        f"front matter is {size:,} bytes, above the limit of 65,536 (setting "
        "max_front_matter_bytes)"
    )
    refused(built, leaks, rel, "ATK-FRONT-MATTER-SIZE", at(rel, 1, "error", message))


def test_50_megabyte_file(built: Built, leaks: dict[str, list[str]], limit: Limit) -> None:
    rel = f"{R}/atk-huge.md"
    message = "file is 50,000,000 bytes, above the limit of 2,000,000 (setting max_file_bytes)"
    assert built.diagnostics(rel) == [f"{rel}: error: {message}"]
    check_build(built, leaks)
    project, _ = load_project(built.root)
    with limit(0.5):  # refused from its size: never read
        sheet, found = load_sheet(project, built.root / rel)
    assert sheet is None and [d.message for d in found] == [message]


# --------------------------------------------------------------------------- broken files


def test_non_utf8_file(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-latin1.md"
    message = "not valid UTF-8 text (save the file as UTF-8)"  # 'Cités', line 5
    refused(built, leaks, rel, "ATK-LATIN1", at(rel, 5, "error", message))


def test_binary_file_named_md(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-binary.md"
    assert built.diagnostics(rel) == [f"{rel}: error: not a text file (it contains NUL bytes)"]
    check_build(built, leaks)


def test_empty_file(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-empty.md"
    message = "missing front matter: the file must start with a '---' line"
    assert built.diagnostics(rel) == [at(rel, 1, "error", message)]
    check_build(built, leaks)


def test_file_with_only_front_matter(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-only-front-matter.md"
    sanitised(built, leaks, rel, "ATK-ONLY-FRONT-MATTER")


def test_duplicate_slugs(built: Built, leaks: dict[str, list[str]]) -> None:
    first, second = f"{R}/atk-dup-a.md", f"{R}/atk-dup-b.md"
    message = f"field 'slug': 'ATK-DUP' is already used by {first}"
    check_build(built, leaks)
    assert built.diagnostics(first) == []
    assert built.diagnostics(second) == [at(second, 2, "error", message)]
    assert built.pdf("ATK-DUP").is_file()  # the first one keeps the slug


# ------------------------------------------------------------------------- must build fine


def test_yaml_1_1_lookalikes_stay_strings(built: Built, leaks: dict[str, list[str]]) -> None:
    rel = f"{R}/atk-yaml-strings.md"
    text = sanitised(built, leaks, rel, "ATK-YAML-STRINGS")
    assert "NO" in text.split()  # not False
    assert "12:30" in text  # not 750
    assert "1.10" in text  # not 1.1
    project, _ = load_project(built.root)
    sheet, _ = load_sheet(project, built.root / rel)
    assert sheet is not None
    assert (sheet.title, sheet.meta["resource_centre"], sheet.meta["duration"]) == (
        "NO",
        "12:30",
        "1.10",
    )


def test_names_with_spaces_accents_and_emoji(built: Built, leaks: dict[str, list[str]]) -> None:
    for rel, slug in (
        (f"{R}/fiche été n°1 🎉.md", "ATK-NAMES"),
        (f"{R}/dossier à part 🎈/fiche d'essai.md", "ATK-FOLDER-NAMES"),
    ):
        text = sanitised(built, leaks, rel, slug)  # no warning: the image was found and drawn
        assert "Texte" in text
        assert "photo" in text  # the text of the SVG


# ---------------------------------------------------------------------------------- helpers


def _options(root: Path) -> MarkupOptions:
    return MarkupOptions(slug="X", source_dir=root / "content", project_dir=root)


def test_the_build_itself(built: Built, leaks: dict[str, list[str]]) -> None:
    """Every attack in one build: exit code 1, no traceback, the good sheets, in time."""
    check_build(built, leaks)
    assert MARKER not in built.result.output and PASSWD not in built.result.output
