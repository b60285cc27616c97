"""Warm single render: the time to lay out one 2-page sheet in a process that already did one."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from recueil.render.sheet_renderer import SheetRenderer
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project


def main() -> None:
    project, _ = load_project(Path(sys.argv[1]))
    corpus = load_corpus(project)
    renderer = SheetRenderer(project, corpus)
    two_pages = []
    for sheet in corpus.sheets[:60]:
        result, _ = renderer.render(sheet)
        if result is not None and result.page_count == 2:
            two_pages.append(sheet)
    sheet = two_pages[0]
    layout, finished = [], []
    for _ in range(7):
        renderer.renders.clear()
        started = time.perf_counter()
        result, _ = renderer.render(sheet)
        layout.append(time.perf_counter() - started)
        assert result is not None
        renderer.standalone(result)
        finished.append(time.perf_counter() - started)
    print(f"{statistics.median(layout):.3f} {statistics.median(finished):.3f}")


if __name__ == "__main__":
    main()
