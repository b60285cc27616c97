"""Live preview latency: from the file write to the new page image in the browser.

A copy of the sample project (built once) is served by `recueil serve` in local mode; Debian's
Chromium, driven by Playwright, shows the preview while this script edits files and times how
long the new image takes to be shown (the page's script sets ``data-updated`` when it has
swapped the images; the image's ``load`` event is awaited too). Run alone with
``.venv/bin/python bench/preview.py`` or through ``make bench``; it appends its section to
bench/RESULTS.md.

Measures (issue "Live preview"): a 2-page sheet, p50 and p95 over 20 edits; one sheet of the
national collection edited, collection preview updated (once the preview's images have loaded:
an author reads the pages before editing), with and without a change of its page count; an
edit breaking the YAML, diagnostics shown; 200 saves in 60 s on one file, the server's memory
before and after and its answers meanwhile.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(HERE))
from run import WORK, _tree_pss, _tree_rss, machine  # noqa: E402

from servertools import CHROMIUM, CHROMIUM_FLAGS, free_port  # noqa: E402

#: a sheet of two pages, as the issue's target says (HDF-2022-001, measured until 2026-12-07
#: under the same label, has three since its text grew)
SHEET = "content/experiences/hdf-2023-007-tutorat-etudiants.md"
SLUG = "HDF-2023-007"
IN_COLLECTION = "content/experiences/occ-2023-005-francais-parents.md"
COLLECTION = "rencontre-nationale-2022"
SECTION = "## Live preview (recueil serve, local mode)"


def _copy_sample(target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("recueil.yaml", "content", "collections"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    subprocess.run([sys.executable, "-m", "recueil.cli", "build", "--project", str(target),
                    "--quiet"], check=True)  # fmt: skip
    return target


def _wait_changed(
    page: object, selector: str, attribute: str, old: str | None, limit: float
) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        value = page.locator(selector).first.get_attribute(attribute)  # type: ignore[attr-defined]
        if value != old:
            return time.perf_counter() - started
        time.sleep(0.005)
    raise TimeoutError(f"{selector}[{attribute}] unchanged after {limit} s")


def _images_loaded(page: object) -> None:
    """Wait until the page has stopped fetching page images (no new one for 0.6 s): an author
    looks at the pages before editing, and an edit timed while the first thumbnails are still
    being drawn measures both at once on two shared cores."""
    count = "performance.getEntriesByType('resource').filter(e => e.name.includes('.png')).length"
    seen, still = -1, 0
    while still < 3:
        now = page.evaluate(count)  # type: ignore[attr-defined]
        seen, still = now, still + 1 if now == seen else 0
        time.sleep(0.2)


def _edit(path: Path, text: str, number: int) -> None:
    path.write_text(text.replace("## Objectifs", f"## Objectifs\n\nRévision {number}.", 1),
                    encoding="utf-8")  # fmt: skip


def main() -> None:
    from playwright.sync_api import sync_playwright

    root = _copy_sample(WORK / "preview")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "recueil.cli", "serve", "--project", str(root), "--port",
         str(port), "--jobs", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    rows: list[str] = []
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # _images_loaded counts resource entries: past the default 250 it would stop waiting
            page.add_init_script("performance.setResourceTimingBufferSize(100000)")
            page.goto(f"{base}/apercu/{SLUG}")
            page.wait_for_selector(".preview-live:not([hidden])")
            sheet = root / SHEET
            original = sheet.read_text(encoding="utf-8")
            times, counts = [], set()
            for number in range(20):
                old = page.locator(".preview").get_attribute("data-updated")
                _edit(sheet, original, number)
                started = time.perf_counter()
                _wait_changed(page, ".preview", "data-updated", old, 30)
                page.locator(".preview-pages img").first.evaluate(
                    "i => i.complete || new Promise(r => i.addEventListener('load', r))"
                )
                times.append(time.perf_counter() - started)
                counts.add(page.locator(".preview").get_attribute("data-pages"))
                time.sleep(0.3)
            times.sort()
            p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
            pages = "/".join(sorted(c or "?" for c in counts))
            rows.append(f"| {pages}-page sheet ({SLUG}) saved → new page image shown"
                        f" (20 edits) | p50 {p50:.2f} s, p95 {p95:.2f} s |"
                        " ≤ 0.5 s p50, ≤ 1 s p95 |")  # fmt: skip

            old = page.locator(".preview").get_attribute("data-updated")
            sheet.write_text(original.replace("theme: ", "theme: [", 1), encoding="utf-8")
            started = time.perf_counter()
            _wait_changed(page, ".preview", "data-updated", old, 30)
            page.wait_for_selector(".preview-problems:not([hidden])")
            broken = time.perf_counter() - started
            rows.append(f"| YAML broken → diagnostics shown | {broken:.2f} s | ≤ 0.5 s |")
            sheet.write_text(original, encoding="utf-8")

            page.goto(f"{base}/apercu/recueil/{COLLECTION}")
            page.wait_for_selector(".preview-live:not([hidden])")
            _images_loaded(page)
            member = root / IN_COLLECTION
            text = member.read_text(encoding="utf-8")
            edits = {
                # a word changed in a paragraph (a heading of its own is a required section)
                "page count unchanged": [
                    text.replace("\n\nDans ", f"\n\n{word}, dans ", 1)
                    for word in ("Cette année", "Depuis peu", "Au printemps")
                ],
                # paragraphs added, a different number each time: the contents and the page
                # numbers change, so the generated parts are laid out again every time
                "page count changed": [
                    text + "\n\n" + "Paragraphe ajouté. " * count + "\n"
                    for count in (400, 1300, 2200)
                ],
            }
            for label, versions in edits.items():
                seconds_each, pages, valid = [], "", True
                for new in versions:
                    _images_loaded(page)
                    old = page.locator(".preview").get_attribute("data-version")
                    member.write_text(new, encoding="utf-8")
                    seconds_each.append(_wait_changed(page, ".preview", "data-version", old, 120))
                    pages += ("/" if pages else "") + str(
                        page.locator(".preview").get_attribute("data-pages")
                    )
                    # a valid edit: the collection was assembled with the sheet, not without it
                    valid = valid and page.locator(".preview-problems").is_hidden()
                old = page.locator(".preview").get_attribute("data-version")
                member.write_text(text, encoding="utf-8")  # back to the start, shown
                _wait_changed(page, ".preview", "data-version", old, 120)
                seconds = statistics.median(seconds_each)
                each = ", ".join(f"{s:.2f}" for s in seconds_each)
                rows.append(f"| national collection, one sheet edited ({label}; {pages} pages) "
                            f"→ preview updated, median of 3 | {seconds:.2f} s ({each})"
                            f"{'' if valid else ' (INVALID: an edit made the sheet fail)'} | ≤ "
                            f"{'1.5' if 'unchanged' in label else '4'} s |")  # fmt: skip
            member.write_text(text, encoding="utf-8")

            page.goto(f"{base}/apercu/{SLUG}")
            time.sleep(2)
            before = _tree_rss(server.pid) / 1e6, _tree_pss(server.pid) / 1e6
            answers: list[float] = []
            stop = threading.Event()

            def poll() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    urllib.request.urlopen(base + "/", timeout=30).read()
                    answers.append(time.perf_counter() - started)
                    time.sleep(0.2)

            renders = root / "build" / ".cache" / "renders"
            entries = len(list(renders.glob("*/*/facts.json")))
            poller = threading.Thread(target=poll)
            poller.start()
            started = time.perf_counter()
            halfway = before
            for number in range(200):
                _edit(sheet, original, 1000 + number)
                time.sleep(max(0.0, started + (number + 1) * 0.3 - time.perf_counter()))
                if number == 99:  # growth that stops is caches filling; a leak goes on
                    halfway = _tree_rss(server.pid) / 1e6, _tree_pss(server.pid) / 1e6
            sheet.write_text(original, encoding="utf-8")
            time.sleep(3)
            stop.set()
            poller.join()
            after = _tree_rss(server.pid) / 1e6, _tree_pss(server.pid) / 1e6
            made = len(list(renders.glob("*/*/facts.json"))) - entries
            answers.sort()
            rows.append(
                f"| 200 saves in 60 s on one file | server answered / in p95 "
                f"{answers[int(0.95 * (len(answers) - 1))] * 1000:.0f} ms, max "
                f"{answers[-1] * 1000:.0f} ms; {made} renders for 200 saves (coalesced); memory "
                f"(RSS/PSS summed) {before[0]:.0f}/{before[1]:.0f} MB before, {halfway[0]:.0f}/"
                f"{halfway[1]:.0f} MB after 100 saves, {after[0]:.0f}/{after[1]:.0f} MB after 200 "
                "| responsive, renders coalesced, memory flat |"
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    load = os.getloadavg()[0]
    lines = [SECTION, "", f"Measured {dt.date.today().isoformat()} on {machine()}; load average "
             f"{load:.1f} at the end (the host's two cores are shared).", "",
             "| measure | result | target |", "|---|---|---|", *rows, ""]  # fmt: skip
    print("\n".join(lines))
    results = HERE / "RESULTS.md"
    previous = results.read_text(encoding="utf-8") if results.exists() else ""
    previous = re.sub(rf"{re.escape(SECTION)}\n.*?(?=\n## |\Z)", "", previous, flags=re.S)
    results.write_text(previous.rstrip() + "\n\n" + "\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
