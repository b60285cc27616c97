"""The baseline: the whole collection as one HTML document with a target-counter() TOC,
rendered in one WeasyPrint pass (what mkdocs-with-pdf and sphinx-simplepdf users get)."""

from __future__ import annotations

import sys
from pathlib import Path

from recueil.collection.onepass import onepass_html
from recueil.render.sheet_renderer import SheetRenderer
from recueil.render.weasy import render_pdf
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project


def main() -> None:
    root, output = Path(sys.argv[1]), Path(sys.argv[2])
    project, _ = load_project(root)
    corpus = load_corpus(project)
    renderer = SheetRenderer(project, corpus)
    codes = [t.code for t in project.themes]
    sheets = sorted(corpus.sheets, key=lambda s: (codes.index(s.meta["theme"]), s.title))
    html = onepass_html(renderer, sheets, "Recueil de banc d'essai")
    result = render_pdf(
        html, project_dir=project.root, style_dirs=project.style_dirs, rel="baseline"
    )
    output.write_bytes(result.pdf)
    print(result.page_count)


if __name__ == "__main__":
    main()
