"""The page-number overlay of a preview, page by page (collection/overlay.py): after an edit that
changes a sheet's page count, the stamps laid out before are reused and only the new ones are
laid out, and the pages are those a complete layout of the overlay gives."""

from __future__ import annotations

import dataclasses
import io

import pytest
from pypdf import PdfReader

import recueil.collection.overlay as overlay
from conftest import national_collection  # type: ignore[import-not-found]
from recueil.collection.collection_build import assemble_collection, prepare_collection
from recueil.collection.plan import label_for


@pytest.fixture(scope="module")
def national() -> tuple[object, object, object]:
    project, corpus, collection, renderer = national_collection(cached=True)
    prepared, diagnostics = prepare_collection(project, corpus, collection, renderer)
    assert prepared is not None, diagnostics
    return project, prepared, renderer.cache


def _longer(prepared: object) -> dict[str, object]:
    """The renders with the fourth sheet's replaced by a longer one's: as if its author had
    added a page (every page after it gets a new number)."""
    renders = dict(prepared.renders)  # type: ignore[attr-defined]
    slugs = [s.slug for g in prepared.groups for s in g.sheets]  # type: ignore[attr-defined]
    edited = slugs[3]
    longer = next(s for s in slugs if renders[s].page_count > renders[edited].page_count)
    renders[edited] = renders[longer]
    return renders


def _texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_an_edit_lays_out_only_new_stamps_and_the_pages_are_the_same(
    national, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, prepared, cache = national
    overlay._LAID_OUT.clear()
    before, diagnostics = assemble_collection(project, prepared, cache, preview=True)
    assert before is not None, diagnostics

    laid_out: list[int] = []  # stamps in the overlay documents each assembly asks for
    documents = overlay.OverlayLayout.documents

    def counted(self: overlay.OverlayLayout, stamps: list[dict], only_new: bool) -> dict:
        made = documents(self, stamps, only_new)
        laid_out.extend(html.count('<div class="stamp-page') for html in made.values())
        return made

    monkeypatch.setattr(overlay.OverlayLayout, "documents", counted)
    edited = dataclasses.replace(prepared, renders=_longer(prepared))
    known = frozenset(before.page_prints)
    after, diagnostics = assemble_collection(
        project, edited, cache, preview=True, known_pages=known
    )
    assert after is not None and after.included is not None, diagnostics
    shifted = sum(1 for p in after.page_prints if p not in known)
    assert after.plan.total > before.plan.total
    # the pages after the edit got new numbers, yet fewer stamps than pages were laid out
    assert 0 < sum(laid_out) < shifted

    # the same pages as a preview that lays the whole overlay out
    overlay._LAID_OUT.clear()
    laid_out.clear()
    whole, diagnostics = assemble_collection(project, edited, cache, preview=True)
    assert whole is not None, diagnostics
    assert sum(laid_out) >= whole.plan.total  # nothing was remembered: every stamp laid out
    assert whole.page_prints == after.page_prints
    expected = _texts(whole.pdf)
    got = _texts(after.pdf)
    assert len(got) == len(after.included) == shifted
    assert got == [expected[index] for index in after.included]
    # the stamps are on the pages: each new sheet page shows its own number
    sheet_pages, start = set(), 0
    for slot in after.plan.slots:
        if slot.source == "sheet":
            sheet_pages |= set(range(start, start + slot.count))
        start += slot.count
    checked = [i for i in after.included if i in sheet_pages]
    assert checked
    for index in checked:
        assert label_for(index, after.plan.front_pages) in got[after.included.index(index)].split()


def test_a_stamp_whose_page_left_the_cache_is_laid_out_again(national) -> None:
    """A page is found again only through the render cache (which checks the stylesheets and
    fonts it used): a remembered stamp whose document the cache no longer has is new."""
    project, _, _ = national
    layout = overlay.OverlayLayout(
        None,  # type: ignore[arg-type]
        project.settings,
        True,
        lambda name, html: "key-" + name,
        lambda key: None,  # the cache has nothing
    )
    layout.html = lambda stamps: repr(stamps)  # type: ignore[method-assign]
    stamps = [{"number": "3"}, {"number": "4"}]
    overlay._LAID_OUT.clear()
    for stamp in stamps:
        overlay._LAID_OUT[layout._key(stamp)] = ("key-overlay-00000", 0)
    assert layout.pages(stamps) is None
    assert list(layout.documents(stamps, only_new=True)) == ["overlay-00000"]
    assert layout.pending["overlay-00000"][1] == [layout._key(s) for s in stamps]
