"""The web catalogue in a real browser: Debian's Chromium driven by Playwright.

A visitor searches "parents", narrows to a theme, opens a sheet, gathers three sheets, titles
the selection and downloads it; the PDF is then read back. Every page type is checked with
axe-core (no serious or critical violation: RGAA asks for WCAG 2.1 AA), reached with the
keyboard, and photographed at phone and desktop widths into build/screenshots/ for review.

The server is started as a user would start it (`recueil serve`), on the loopback.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import REPO, copy_project, run_cli  # type: ignore[import-not-found]
from servertools import SOURCES, chromium, running_server  # type: ignore[import-not-found]

SHOTS = REPO / "build" / "screenshots"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = copy_project(tmp_path_factory.mktemp("browser") / "p", SOURCES)
    assert run_cli("build", "--project", root, "--quiet").exit_code == 0
    with running_server(root, "--jobs", "1") as base:
        yield base


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    with chromium() as launched:
        yield launched


def test_a_visitor_searches_narrows_reads_selects_and_downloads(
    browser: object, server: str, tmp_path: Path
) -> None:
    context = browser.new_context(accept_downloads=True, viewport=DESKTOP)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server + "/")
    page.get_by_label("Rechercher une fiche").fill("parents")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url("**/recherche?q=parents")
    heading = page.locator("h1").inner_text().replace("\u202f", " ")
    assert "Résultats pour « parents »" in heading
    page.locator(".facet a", has_text="Parentalité").first.click()
    page.wait_for_url("**theme=parentalite**")
    hits = page.locator(".results .card-title a")
    assert hits.count() >= 3
    chosen = []
    for index in range(3):
        page.goto(server + "/recherche?q=parents&theme=parentalite")
        link = page.locator(".results .card-title a").nth(index)
        chosen.append(link.inner_text())
        link.click()
        page.get_by_role("link", name="Ajouter à ma sélection").click()
        page.wait_for_url("**/selection?fiche=**")
    assert page.locator("ol.selection li").count() == 3
    page.get_by_label("Titre du recueil").fill("Pour la réunion de mars")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger ma sélection (PDF)").click()
    target = tmp_path / "selection.pdf"
    download_info.value.save_as(target)
    reader = PdfReader(io.BytesIO(target.read_bytes()))
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    sheets = [t for t in outline if t in chosen or any(t.startswith(c[:25]) for c in chosen)]
    assert len(sheets) == 3
    order = [next(i for i, c in enumerate(chosen) if t.startswith(c[:25])) for t in sheets]
    assert order == [0, 1, 2]
    assert "Pour la réunion de mars" in reader.pages[0].extract_text()
    context.close()


PAGE_TYPES = {
    "accueil": "/",
    "recherche": "/recherche?q=parents&theme=parentalite",
    "fiche": "/fiches/HDF-2022-003",
    "selection": "/selection?fiche=HDF-2022-003&fiche=HDF-2022-001&titre=Essai",
    "recueils": "/recueils",
    "editions": "/editions",
    "erreur": "/fiches/INCONNUE",
}


@pytest.mark.parametrize("name", sorted(PAGE_TYPES))
def test_every_page_type_is_accessible_and_photographed(
    browser: object, server: str, name: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("telephone", PHONE), ("bureau", DESKTOP)):
        context = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(server + PAGE_TYPES[name])
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        results = Axe().run(page)
        blocking = [
            f"{v['id']}: {v['help']}"
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert blocking == [], (name, label)
        # nothing overflows the phone's width
        if label == "telephone":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"] + 1, (name, width)
        context.close()


def test_keyboard_only_reaches_the_content_and_the_focus_is_visible(
    browser: object, server: str
) -> None:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server + "/fiches/HDF-2022-003")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    for _ in range(40):  # the download link is reachable by Tab alone
        page.keyboard.press("Tab")
        if "Télécharger la fiche" in (page.evaluate("document.activeElement.textContent") or ""):
            break
    else:
        pytest.fail("the download link is not reachable with the keyboard")
    context.close()
