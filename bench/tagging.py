"""The cost of tagging a sheet (issue 16): the sample's sheets laid out and stamped, untagged and
tagged (pdf/ua-1 and tagging.py's finishing), in the same process, alternately.

Run: ``.venv/bin/python bench/tagging.py [PROJECT] [REPETITIONS]``. Each repetition renders
every sheet once per mode, the modes' order alternating from one repetition to the next; the
first repetition warms caches (fonts, styles, images) and is reported apart. Printed: the
process's CPU time and the wall time per mode and repetition, and the ratio of the medians.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from recueil.render.sheet_renderer import UA_VARIANT, SheetRenderer
from recueil.render.weasy import render_pdf
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project

MODES: dict[str, dict[str, Any]] = {"untagged": {}, "tagged": {"pdf_variant": UA_VARIANT}}


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    project, _ = load_project(root)
    corpus = load_corpus(project)
    renderer = SheetRenderer(project, corpus)
    pages = []
    for sheet in sorted(corpus.sheets, key=lambda s: s.slug):
        html, _ = renderer.page(sheet)
        if html:
            pages.append((sheet, html))
    results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    for repetition in range(repetitions):
        order = list(MODES) if repetition % 2 == 0 else list(reversed(MODES))
        for mode in order:
            cpu, wall = time.process_time(), time.perf_counter()
            for sheet, html in pages:
                result = render_pdf(
                    html,
                    project_dir=project.root,
                    style_dirs=project.style_dirs,
                    rel=sheet.rel,
                    base_path=project.relative(sheet.path.parent) + "/",
                    image_cache=renderer.image_cache,
                    shared_styles=True,
                    options=MODES[mode],
                )
                renderer.standalone(result)  # page numbers stamped, links to sheets
            spent = (time.process_time() - cpu, time.perf_counter() - wall)
            results[mode].append(spent)
            cpu_s, wall_s = spent
            print(f"repetition {repetition + 1} {mode:9} cpu {cpu_s:6.2f} s  wall {wall_s:6.2f} s")
    for measure, name in ((0, "cpu"), (1, "wall")):
        medians = {m: statistics.median(v[measure] for v in results[m][1:]) for m in MODES}
        ratio = medians["tagged"] / medians["untagged"] - 1
        print(
            f"{name}: {len(pages)} sheets, median of {repetitions - 1} (first left out): "
            f"untagged {medians['untagged']:.2f} s, tagged {medians['tagged']:.2f} s, "
            f"{ratio:+.1%}"
        )


if __name__ == "__main__":
    main()
