"""One link annotation per clickable area (render/link_areas.py): WeasyPrint writes one for
every box inside an ``<a>``; the boxes inside an area already clickable are dropped, what is
clickable and where it leads are unchanged, and the tagged PDF's structure tree still points
at each annotation written."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import IndirectObject
from weasyprint import HTML

from recueil.render.link_areas import drop_nested_links
from recueil.render.weasy import render_pdf

CONTENTS = """<!DOCTYPE html><html lang="fr"><head><title>Sommaire</title><style>
@page { size: A5; margin: 1cm } a { display: block; color: inherit }
.page::before { content: leader(". ") } p a { display: inline }
</style></head><body>
<h1 id="haut">Sommaire</h1>
<ul>
<li><a href="#un"><span class="titre">Classe passerelle <span class="lieu">— Denain</span></span>\
<span class="page">3</span></a></li>
<li><a href="#deux"><span class="titre">Parents au collège</span><span class="page">5</span></a>\
</li>
</ul>
<p style="width: 4cm">Voir <a href="#un">la fiche sur la classe passerelle à Denain, page 3</a>.</p>
<h2 id="un">Un</h2><h2 id="deux">Deux</h2>
</body></html>"""


def _links(pdf: bytes) -> list[tuple[str, list[float], object]]:
    page = _reader(pdf).pages[0]
    found = []
    for ref in page.get("/Annots") or []:
        annotation = ref.get_object()
        if annotation["/Subtype"] == "/Link":
            found.append((str(annotation["/Dest"]), [float(v) for v in annotation["/Rect"]], ref))
    return found


def _reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _render(tmp_path: Path, **options: object) -> bytes:
    return render_pdf(
        CONTENTS, project_dir=tmp_path, style_dirs=(), rel="sommaire.html", options=options
    ).pdf


def test_weasyprint_alone_writes_several_annotations_per_entry() -> None:
    """What the module is for: without it, each entry is five or so annotations."""
    pdf = HTML(string=CONTENTS).write_pdf()
    targets = [dest for dest, _, _ in _links(pdf)]
    assert targets.count("un") >= 5


def test_one_annotation_per_entry_and_both_lines_of_a_broken_link(tmp_path: Path) -> None:
    links = _links(_render(tmp_path))
    targets = [dest for dest, _, _ in links]
    # one per contents entry; the running-text link, broken over lines, one per line
    assert targets.count("deux") == 1
    tops = [rect[1] for dest, rect, _ in links if dest == "un"]
    assert len(tops) >= 3  # the entry, and the link of the paragraph on two lines or more
    assert len(set(tops)) == len(tops)  # each on a line of its own


def test_the_area_kept_is_the_whole_entry(tmp_path: Path) -> None:
    every = [rect for dest, rect, _ in _links(HTML(string=CONTENTS).write_pdf()) if dest == "deux"]
    whole = max(every, key=lambda r: (r[2] - r[0]) * abs(r[3] - r[1]))
    assert [rect for dest, rect, _ in _links(_render(tmp_path)) if dest == "deux"] == [whole]


def test_tagged_structure_points_at_every_annotation_written(tmp_path: Path) -> None:
    pdf = _render(tmp_path, pdf_tags=True)
    reader = _reader(pdf)
    written = {ref.idnum for _, _, ref in _links(pdf)}
    referenced: set[int] = set()
    stack = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if isinstance(node, IndirectObject) else node
        if isinstance(node, dict):
            if node.get("/Type") == "/OBJR":
                referenced.add(node.raw_get("/Obj").idnum)
            stack.extend(v for k, v in node.items() if k in ("/K",))
        elif isinstance(node, list):
            stack.extend(node)
    assert written and written <= referenced


def test_nested_areas_with_other_targets_are_kept() -> None:
    box = object()
    links = [
        ("internal", "a", (0, 0, 100, 20), box),
        ("internal", "a", (10, 2, 50, 18), box),  # inside, same target: dropped
        ("internal", "b", (10, 2, 50, 18), box),  # inside, another target: kept
        ("external", "a", (10, 2, 50, 18), box),  # same name, another kind: kept
        ("internal", "a", (0, 30, 100, 50), box),  # next line: kept
    ]
    assert drop_nested_links(links) == [links[0], links[2], links[3], links[4]]
