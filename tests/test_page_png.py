"""The preview's page images (serve/page_png.py): a PNG written by hand must decode to exactly
the pixels pdfium draws, at the width asked, for the page asked."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from PIL import Image
from weasyprint import HTML

from recueil.serve.page_png import _fallback, page_png

TWO_PAGES = """
<style>@page { size: A5; margin: 1cm } h1 { color: #b03060 } .b { background: #2a6f97;
height: 3cm }</style>
<h1>Première page</h1><p>Un texte noir, un titre en couleur.</p><div class="b"></div>
<h1 style="break-before: page; color: #2e7d32">Seconde page</h1><p>Autre texte.</p>
"""


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return HTML(string=TWO_PAGES).write_pdf()


def _pdfium_pixels(pdf: bytes, width: int, index: int) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[index]
        return page.render(scale=width / page.get_width()).to_pil().convert("RGB")
    finally:
        document.close()


@pytest.mark.parametrize("index", [0, 1])
def test_the_png_has_pdfiums_pixels_at_the_width_asked(pdf: bytes, index: int) -> None:
    png = page_png(pdf, 300, index)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()  # decoding checks every chunk's CRC and the zlib stream
    assert image.mode == "RGB"
    assert image.width == 300
    reference = _pdfium_pixels(pdf, 300, index)
    assert image.size == reference.size
    assert image.tobytes() == reference.tobytes()


def test_the_two_pages_differ(pdf: bytes) -> None:
    """The index is honoured: the second page is not the first drawn again."""
    first = Image.open(io.BytesIO(page_png(pdf, 200, 0))).tobytes()
    second = Image.open(io.BytesIO(page_png(pdf, 200, 1))).tobytes()
    assert first != second


def test_the_fallback_writes_the_same_pixels(pdf: bytes) -> None:
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        bitmap = page.render(scale=250 / page.get_width())
        image = Image.open(io.BytesIO(_fallback(bitmap)))
        assert image.convert("RGB").tobytes() == _pdfium_pixels(pdf, 250, 0).tobytes()
    finally:
        document.close()
