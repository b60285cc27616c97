"""Live preview: which sheets a change touches, and the printed pages updating as an author saves.

The mapping is checked on snapshots of a built project; the preview itself in Debian's Chromium
against `recueil serve` in local mode: edit the source, see the page image change and the PDF
say the new words; break the YAML, see the message naming the file and line; fix it, see the
pages again.
"""

from __future__ import annotations

import io
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import REPO, copy_project, run_cli  # type: ignore[import-not-found]
from recueil.serve.affected import affected_sheets
from recueil.serve.catalogue import Catalogue
from servertools import chromium, running_server  # type: ignore[import-not-found]

CAFE = "experiences/hdf-2022-003-cafe-des-parents.md"  # parentalite, images hdf-2022-003-*.svg
PASSERELLE = "experiences/hdf-2022-001-classe-passerelle.md"  # petite-enfance
ARA = "experiences/ara-2022-004-mediatrices-familles-ecole.md"  # parentalite
OCC = "experiences/occ-2023-005-francais-parents.md"
GUIDE = "resources/res-2021-001-guide-exclusions-temporaires.md"  # a resource notice
SHOTS = REPO / "build" / "screenshots"


def wait_until(condition: object, seconds: float) -> None:
    """Poll from the test (the page's CSP forbids evaluating strings, as it should)."""
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"still not true after {seconds} s")
        time.sleep(0.05)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = copy_project(tmp_path / "p", [CAFE, PASSERELLE, ARA, OCC, GUIDE])
    result = run_cli("build", "--project", root, "--quiet")
    assert result.exit_code == 0, result.output
    return root


def _after(catalogue: Catalogue, edit: Path, old: str, new: str) -> set[str]:
    before = catalogue.snapshot
    text = edit.read_text(encoding="utf-8")
    assert old in text, old
    edit.write_text(text.replace(old, new), encoding="utf-8")
    previous, after = catalogue.refresh()
    assert previous is before and after is not before
    return affected_sheets(before, after, [edit])


def test_a_template_change_touches_the_sheets_of_its_kind(built: Path) -> None:
    catalogue = Catalogue(built)
    touched = _after(catalogue, built / "templates" / "resource.html", "<dt>", "<dt class='x'>")
    assert touched == {"RES-2021-001"}


def test_a_theme_colour_touches_that_themes_sheets(built: Path) -> None:
    catalogue = Catalogue(built)
    expected = {
        slug
        for slug, sheet in catalogue.snapshot.sheets.items()
        if "petite-enfance" in (sheet.meta["theme"], *sheet.meta.get("secondary_themes", []))
    }
    assert expected and expected != set(catalogue.snapshot.sheets)
    touched = _after(catalogue, built / "themes.yaml", '"#E07A5F"', '"#E07A60"')
    assert touched == expected


def test_an_image_touches_the_sheets_that_show_it(built: Path) -> None:
    catalogue = Catalogue(built)
    image = built / "content" / "images" / "hdf-2022-003-cafe.svg"
    touched = _after(catalogue, image, "</svg>", "<!-- retouche --></svg>")
    assert touched == {"HDF-2022-003"}


def test_a_source_change_touches_that_sheet_and_those_that_print_its_title(built: Path) -> None:
    catalogue = Catalogue(built)
    touched = _after(catalogue, built / "content" / ARA, "title: Des ", "title: Nouvelles ")
    assert "ARA-2022-004" in touched
    assert "HDF-2022-003" in touched  # its "voir aussi" prints ARA-2022-004's title
    assert "HDF-2022-001" not in touched


@pytest.fixture
def preview_server(built: Path) -> Iterator[str]:
    with running_server(built, "--jobs", "1") as base:
        yield base


def test_the_preview_follows_saves_breaks_and_fixes(built: Path, preview_server: str) -> None:
    source = built / "content" / PASSERELLE
    original = source.read_text(encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page.goto(preview_server + "/apercu/HDF-2022-001")
        first = page.locator(".preview-pages img").first.get_attribute("src")
        assert first and "/apercu/HDF-2022-001/page-1.png?v=" in first
        page.wait_for_selector(".preview-live:not([hidden])")
        page.evaluate("window.scrollTo(0, 400)")

        source.write_text(
            original.replace("## Contexte et origine", "## Contexte et origine\n\nMot ajouté.", 1),
            encoding="utf-8",
        )
        img = page.locator(".preview-pages img").first
        wait_until(lambda: img.get_attribute("src") != first, 120)
        assert page.evaluate("window.scrollY") == 400  # the author stays where they were
        pdf = urllib.request.urlopen(preview_server + "/fiches/HDF-2022-001.pdf").read()
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "Mot ajouté." in text

        source.write_text(original.replace("theme: ", "theme: [", 1), encoding="utf-8")
        page.wait_for_selector(".preview-problems:not([hidden])", timeout=120_000)
        problem = page.locator(".preview-problems li").first.inner_text()
        assert problem.startswith("content/experiences/hdf-2022-001-classe-passerelle.md:")
        assert "invalid YAML" in problem
        assert "outdated" in (page.locator(".preview-pages").get_attribute("class") or "")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / "apercu-erreur.png"))

        source.write_text(original, encoding="utf-8")
        page.wait_for_selector(".preview-problems[hidden]", state="attached", timeout=120_000)
        assert "outdated" not in (page.locator(".preview-pages").get_attribute("class") or "")
        page.screenshot(path=str(SHOTS / "apercu.png"))


def test_previews_are_not_served_in_public_mode(built: Path) -> None:
    with running_server(built, "--public", "--jobs", "1") as base:
        for path in ("/apercu/HDF-2022-001", "/apercu/recueil/x", "/problemes/evenements"):
            try:
                urllib.request.urlopen(base + path)
            except urllib.error.HTTPError as refused:
                assert refused.code == 404
            else:
                pytest.fail(f"{path} answered in public mode")


def test_a_collection_preview_shows_every_page_and_marks_the_changed_ones(
    built: Path, preview_server: str
) -> None:
    (built / "collections").mkdir()
    (built / "collections" / "essai.yaml").write_text(
        "title: Essai\ndate: 2024-05-02\nselect:\n  kinds: [experience]\ngroup_by: theme\n"
        "colophon:\n  publisher: Centre\n  publisher_address: 1 rue de l'Essai\n",
        encoding="utf-8",
    )
    time.sleep(1.2)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page.goto(preview_server + "/apercu/recueil/essai")
        count = page.locator(".preview-pages img").count()
        assert count > 8
        source = built / "content" / OCC
        text = source.read_text(encoding="utf-8")
        preview = page.locator(".preview")
        version = preview.get_attribute("data-version")
        images = page.locator(".preview-pages img")
        before = [images.nth(i).get_attribute("src") for i in range(count)]
        # a word more in a paragraph: the sheet is still valid and keeps its page count
        source.write_text(text.replace("\n\nDans ", "\n\nCette année, dans ", 1), encoding="utf-8")
        wait_until(lambda: preview.get_attribute("data-version") != version, 180)
        assert page.locator(".preview-problems").is_hidden()
        assert images.count() == count
        after = [images.nth(i).get_attribute("src") for i in range(count)]
        # only the edited sheet's pages get new images; the others are not fetched again
        moved = [
            i + 1 for i, (old, new) in enumerate(zip(before, after, strict=True)) if old != new
        ]
        marked = page.locator(".preview-pages li.changed")
        assert [marked.nth(i).get_attribute("id") for i in range(marked.count())] == [
            f"page-{n}" for n in moved
        ]
        sheet_pages = len(PdfReader(built / "build" / "sheets" / "OCC-2023-005.pdf").pages)
        assert moved and moved[-1] - moved[0] < sheet_pages, (moved, sheet_pages)
        # the new images are drawn from the update, which holds only those pages
        for n in moved:
            answer = page.request.get(preview_server + after[n - 1])
            assert answer.status == 200 and answer.body()[:8] == b"\x89PNG\r\n\x1a\n", n


def test_an_update_draws_new_pages_from_itself_and_the_others_from_earlier_files() -> None:
    """A collection update holding only its new pages: each page is drawn from the file that
    brought it; an update naming a page the preview no longer has is not drawable (the hub
    then asks for every page)."""
    from recueil.serve.preview import Preview, _drawable, _sources
    from recueil.serve.tasks import Outcome

    preview = Preview(
        "essai", page_versions=["a", "b", "c"], sources=[(b"old", i) for i in range(3)]
    )
    update = Outcome(b"new", pages=("a", "x", "c", "y"), included=(1, 3))
    assert _drawable(preview, update)
    assert _sources(preview, list(update.pages), b"new", update.included) == [
        (b"old", 0),
        (b"new", 0),
        (b"old", 2),
        (b"new", 1),
    ]
    assert not _drawable(preview, Outcome(b"new", pages=("z", "b"), included=(1,)))
    assert _drawable(preview, Outcome(b"all", pages=("z", "b")))  # every page: always


def test_page_images_of_pages_no_preview_shows_are_dropped_but_the_latest() -> None:
    """The server keeps the images of the pages open previews show; of the others only the
    latest few (an undo), and all of them under a byte limit: an author's saves, each making
    new images, do not grow the server."""
    from types import SimpleNamespace

    from recueil.serve import preview_pages

    shown = SimpleNamespace(page_versions=["p1", "p2"])
    hub = SimpleNamespace(sheets={"A": shown}, collections={})
    images = preview_pages._IMAGES
    images.clear()
    try:
        images[("p1", 1240)] = b"x" * 10
        for save in range(preview_pages.KEPT_STALE + 30):
            images[(f"old-{save}", 1240)] = b"y" * 10
            preview_pages._forget_stale(hub)  # type: ignore[arg-type]
        images[("p2", 1240)] = b"z" * 10
        preview_pages._forget_stale(hub)  # type: ignore[arg-type]
        stale = [key for key, _ in images if key.startswith("old-")]
        last = preview_pages.KEPT_STALE + 29
        assert stale == [f"old-{n}" for n in range(last - preview_pages.KEPT_STALE + 1, last + 1)]
        assert ("p1", 1240) in images and ("p2", 1240) in images  # shown: kept, however old
        # over the byte limit, the least recently used go first, shown or not
        images[("p3", 1240)] = b"w" * (preview_pages.IMAGE_BYTES - 15)
        preview_pages._forget_stale(hub)  # type: ignore[arg-type]
        assert sum(len(d) for d in images.values()) <= preview_pages.IMAGE_BYTES
        assert ("p3", 1240) in images and ("p1", 1240) not in images
    finally:
        images.clear()
