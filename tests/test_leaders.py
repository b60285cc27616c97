"""Dot leaders drawn as one run of text (render/leaders.py): the same page, pixel for pixel up
to anti-aliasing, the same text, far fewer text boxes and operators than WeasyPrint's one box
per ". "."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.layout import inline, leader

from recueil.render import leaders
from recueil.render.weasy import render_pdf

ENTRIES = "".join(
    f'<li><a href="#s{n}"><span class="t">Fiche {n} : un titre {"assez long " * (n % 4)}'
    f'pour la ligne</span><span class="p">{n * 3}</span></a></li>'
    for n in range(1, 70)
)
CONTENTS = f"""<!DOCTYPE html><html lang="fr"><head><title>Sommaire</title><style>
@page {{ size: A5; margin: 1cm }} body {{ font-size: 9pt }} ul {{ list-style: none; padding: 0 }}
a {{ display: block; color: inherit }} .p::before {{ content: leader(". ") }}
</style></head><body><h1>Sommaire</h1><ul>{ENTRIES}</ul></body></html>"""


def _render(tmp_path: Path) -> bytes:
    return render_pdf(CONTENTS, project_dir=tmp_path, style_dirs=(), rel="sommaire.html").pdf


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:
    """The contents with leaders in one run, then with WeasyPrint's own placing."""
    joined = _render(tmp_path)
    monkeypatch.setattr(leaders, "install", lambda: True)
    monkeypatch.setattr(inline, "handle_leader", leader.handle_leader)
    return joined, _render(tmp_path)


def _pixels(pdf: bytes, index: int) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[index]
        return page.render(scale=2).to_pil().convert("L")
    finally:
        document.close()


def test_the_pages_look_the_same(pair: tuple[bytes, bytes]) -> None:
    joined, separate = pair
    pages = len(PdfReader(io.BytesIO(joined)).pages)
    assert pages == len(PdfReader(io.BytesIO(separate)).pages) >= 2
    for index in range(pages):
        difference = ImageChops.difference(_pixels(joined, index), _pixels(separate, index))
        # a dot drawn elsewhere or missing differs by 255; one run's glyph advances, rounded by
        # the PDF's text positioning, place the dots of a long leader a fraction of a pixel
        # (at 144 dpi) from where separate boxes put them: edges differ by up to 72 here
        assert difference.getextrema()[1] <= 128


def test_the_text_is_the_same(pair: tuple[bytes, bytes]) -> None:
    joined, separate = pair
    pages = zip(
        PdfReader(io.BytesIO(joined)).pages, PdfReader(io.BytesIO(separate)).pages, strict=True
    )
    for a, b in pages:
        assert a.extract_text() == b.extract_text()
    assert ". . . . 3" in PdfReader(io.BytesIO(joined)).pages[0].extract_text()


def test_far_fewer_text_operators(pair: tuple[bytes, bytes]) -> None:
    def shows(pdf: bytes) -> int:
        page = PdfReader(io.BytesIO(pdf)).pages[0]
        return len(re.findall(rb"T[Jj]\b", page.get_contents().get_data()))

    joined, separate = pair
    assert shows(joined) * 5 < shows(separate)


def test_each_leader_is_one_box_of_repeated_dots() -> None:
    assert leaders.install()
    document = HTML(string=CONTENTS).render()
    found = []
    stack = [page._page_box for page in document.pages]
    while stack:
        box = stack.pop()
        if getattr(box, "is_leader", False):
            found.append(box)
        stack.extend(getattr(box, "children", ()))
    assert len(found) == 69
    for box in found:
        (text_box,) = box.children
        assert re.fullmatch(r"(\. ){2,}", text_box.text)
