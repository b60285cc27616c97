"""`make bench`: recueil against a one-pass WeasyPrint rendering, measured side by side.

For each project size, in the same run and on the same machine: the one-pass baseline, a cold
build, a build with nothing changed, a build after editing one sheet in the middle, one sheet
on demand from the command line, and a warm single render. Each figure is wall time, CPU time
(all processes) and peak memory (all processes of the tree summed: RSS sampled every 20 ms, PSS
every second). Results go to bench/RESULTS.md with the machine's description. Then the web
catalogue's figures (bench/serve.py) on the largest project: `--no-serve` leaves them out,
`--serve-only [SHEETS] [--duration S] [--reuse]` measures only them. Last, the live preview's
latencies in Chromium (bench/preview.py): `--no-preview` leaves them out, `--preview-only`
measures only them. A project shaped like the sample multiplied to 400 sheets is measured too
(cores against one core, one sheet edited): `--no-shaped` leaves it out, `--shaped-only
[SHEETS]` measures only it. `--memory-only [SHEETS]` measures the peak memory of one cold build.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synth import make_project, make_shaped_project  # noqa: E402

PYTHON = sys.executable
RECUEIL = str(Path(sys.executable).parent / "recueil")
WORK = Path(os.environ.get("RECUEIL_BENCH_DIR", "/tmp/recueil-bench"))
REPO = HERE.parent
#: sheets of the project shaped like the sample (issue 18's last two rows)
SHAPED = 400


@dataclass
class Measure:
    wall: float
    cpu: float
    peak_mb: float
    output: str
    #: peak of the summed proportional set sizes (see _tree_pss); 0 when not measured
    pss_mb: float = 0.0


def _tree(root: int) -> dict[int, int]:
    """Each process of the tree under ``root`` (itself included) → its RSS, in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    found: dict[int, int] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        found[pid] = rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return found


def _tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    return sum(_tree(root).values())


def _tree_pss(root: int) -> int:
    """Proportional set size of a process and its descendants, in bytes.

    Summed RSS counts a page shared by several processes once per process: forked workers
    share their parent's pages (copy-on-write) until they write to them, so the RSS of a
    parent and two workers can add up to much more than the memory in use. PSS divides each
    shared page among the processes sharing it, so the sum is what the tree really occupies.
    Reading it walks the page tables (about 10 ms for a process of 300 MB), so it is sampled
    far less often than RSS.
    """
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as stream:
                for line in stream:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


#: seconds between two PSS samples
PSS_PERIOD = 1.0


def measure(command: list[str]) -> Measure:
    """Run a command; wall time, CPU of the whole tree, peak summed RSS and PSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = pss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, pss
        last_pss = 0.0
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            if time.monotonic() - last_pss >= PSS_PERIOD:
                pss = max(pss, _tree_pss(process.pid))
                last_pss = time.monotonic()
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{output.decode()[-2000:]}")
    return Measure(wall, cpu, peak / 1e6, output.decode(), pss / 1e6)


def bench(size: int) -> list[tuple[str, Measure, str]]:
    root = WORK / f"p{size}"
    slugs = make_project(root, size)
    rows: list[tuple[str, Measure, str]] = []
    baseline_pdf = WORK / f"baseline-{size}.pdf"
    base = measure([PYTHON, str(HERE / "baseline.py"), str(root), str(baseline_pdf)])
    rows.append(
        ("one-pass WeasyPrint (baseline)", base, f"{baseline_pdf.stat().st_size / 1e6:.1f} MB")
    )
    cold = measure([RECUEIL, "build", "--project", str(root), "--quiet"])
    collection = root / "build" / "collections" / "recueil.pdf"
    rows.append(("recueil build, empty cache", cold, f"{collection.stat().st_size / 1e6:.1f} MB"))
    rows.append(
        (
            "recueil build, nothing changed",
            measure([RECUEIL, "build", "--project", str(root), "--quiet"]),
            "",
        )
    )
    middle = slugs[len(slugs) // 2]
    source = root / "content" / "experiences" / f"{middle.lower()}.md"
    text = source.read_text(encoding="utf-8")
    source.write_text(
        text.replace("## Objectifs", "Une phrase de plus.\n\n## Objectifs", 1), encoding="utf-8"
    )
    rows.append(
        (
            "recueil build, one sheet edited",
            measure([RECUEIL, "build", "--project", str(root), "--quiet"]),
            "",
        )
    )
    source.write_text(
        text.replace("## Objectifs", "Une autre phrase.\n\n## Objectifs", 1), encoding="utf-8"
    )
    rows.append(
        (
            "recueil sheet SLUG (command line, on demand)",
            measure(
                [
                    RECUEIL,
                    "sheet",
                    middle,
                    "--project",
                    str(root),
                    "--quiet",
                    "-o",
                    str(WORK / "one.pdf"),
                ]
            ),
            "",
        )
    )
    warm = measure([PYTHON, str(HERE / "warm.py"), str(root)])
    layout, finished = warm.output.split()[-2:]
    rows.append(
        (
            "warm single render of a 2-page sheet",
            Measure(float(finished), 0, 0, ""),
            f"layout {float(layout):.3f} s + stamping = {float(finished):.3f} s",
        )
    )
    return rows


def memory_only(size: int) -> None:
    """Peak memory of a cold build of ``size`` sheets, every process of it together (the
    target of issue 18 is an absolute figure, 500 MB summed RSS at 1,000 sheets: no one-pass
    baseline is needed, and at that size it takes half an hour)."""
    WORK.mkdir(parents=True, exist_ok=True)
    root = WORK / f"p{size}"
    make_project(root, size)
    cold = measure([RECUEIL, "build", "--project", str(root), "--quiet"])
    collection = root / "build" / "collections" / "recueil.pdf"
    print(f"Machine: {machine()}.\n")
    print("| run | wall (s) | CPU (s) | peak RSS, summed (MB) | peak PSS, summed (MB) | file |")
    print("|---|---|---|---|---|---|")
    print(
        f"| recueil build, empty cache, {size:,} sheets | {cold.wall:.1f} | {cold.cpu:.1f} "
        f"| {cold.peak_mb:.0f} | {cold.pss_mb:.0f} | {collection.stat().st_size / 1e6:.1f} MB |"
    )
    print(f"\ntarget: 500 MB summed RSS: {'met' if cold.peak_mb <= 500 else 'missed'}")


def shaped(size: int) -> list[str]:
    """Issue 18's rows for a project shaped like the sample (its three collections, one with a
    print-shop variant) multiplied to ``size`` sheets: a cold build on the machine's cores
    against the same on one (``--jobs 1``), and one sheet edited against the cold build.

    The bench's own project has one collection; here two variants of the national collection
    are assembled beside the two others, which is where a build runs on one core."""
    WORK.mkdir(parents=True, exist_ok=True)
    root = WORK / f"shaped{size}"
    copies = make_shaped_project(root, size)
    build = [RECUEIL, "build", "--project", str(root), "--quiet"]
    cores = measure(build)
    outputs = sorted((root / "build" / "collections").glob("*.pdf"))
    files = ", ".join(f"{p.stem} {p.stat().st_size / 1e6:.1f} MB" for p in outputs)
    source = next(p for p in copies[len(copies) // 2 :] if "experiences" in p.parts)
    text = source.read_text(encoding="utf-8")
    source.write_text(
        text.replace("## Objectifs", "Une phrase de plus.\n\n## Objectifs", 1), encoding="utf-8"
    )
    edited = measure(build)
    source.write_text(text, encoding="utf-8")
    shutil.rmtree(root / "build")
    one = measure([*build, "--jobs", "1"])
    rows = [
        (f"recueil build, empty cache, {os.cpu_count()} cores", cores, files),
        ("recueil build, empty cache, `--jobs 1`", one, ""),
        (f"recueil build, one sheet edited ({source.stem})", edited, ""),
    ]
    lines = [
        f"## {size} sheets shaped like the sample",
        "",
        f"The sample's {len(list((REPO / 'content').glob('*/*.md')))} sheets and their copies "
        "(bench/synth.py make_shaped_project), its three collections and the national one's "
        "print-shop variant. Ratios: cores / one core (target ≤ 0.6) = "
        f"{cores.wall / one.wall:.3f}; one sheet edited / cold build (target ≤ 0.05) = "
        f"{edited.wall / cores.wall:.3f}.",
        "",
        "| run | wall (s) | ratio to the first | CPU (s) | peak RSS, summed (MB) "
        "| peak PSS, summed (MB) | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m, note in rows:
        ratio = f"{m.wall / cores.wall:.3f}"
        lines.append(
            f"| {name} | {m.wall:.2f} | {ratio} | {m.cpu:.1f} | {m.peak_mb:.0f} "
            f"| {m.pss_mb:.0f} | {note} |"
        )
    lines.append("")
    return lines


def machine() -> str:
    import pypdf
    import weasyprint

    from recueil.render.cache import versions

    v = versions()
    return (
        f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"WeasyPrint {weasyprint.__version__}, Pango {v['pango']}, pypdf {pypdf.__version__}"
    )


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--serve-only"]:  # only the web catalogue's figures: bench/serve.py
        import serve

        serve.main(args[1:])
        return
    if args[:1] == ["--preview-only"]:  # only the live preview's figures: bench/preview.py
        import preview

        preview.main()
        return
    if args[:1] == ["--memory-only"]:  # issue 18's memory target: one cold build, no baseline
        memory_only(int(args[1]) if args[1:] else 1000)
        return
    if args[:1] == ["--shaped-only"]:  # issue 18's rows for a project shaped like the sample
        print(f"Machine: {machine()}.\n")
        print("\n".join(shaped(int(args[1]) if args[1:] else SHAPED)))
        return
    sizes = [int(s) for s in args if not s.startswith("--")] or [80, 400, 1000]
    WORK.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.",
        "",
        "Ratios are to the one-pass baseline of the same size, measured in the same run.",
        "Memory, all processes of the run together: the peak of their summed RSS (sampled every",
        "20 ms), which counts pages shared by forked workers once per process, and the peak of",
        "their summed PSS (sampled every second, so shown only for runs of 5 s or more), which",
        "counts each page once.",
        "",
    ]
    for size in sizes:
        rows = bench(size)
        base = rows[0][1]
        lines += [
            f"## {size} sheets",
            "",
            "| run | wall (s) | ratio | CPU (s) | peak RSS, summed (MB) | peak PSS, summed (MB) "
            "| notes |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, m, note in rows:
            ratio = f"{m.wall / base.wall:.3f}" if m is not base else "1"
            cpu = f"{m.cpu:.1f}" if m.cpu else ""
            peak = f"{m.peak_mb:.0f}" if m.peak_mb else ""
            # sampled every PSS_PERIOD: a run of a few periods may end before its peak is seen
            pss = f"{m.pss_mb:.0f}" if m.pss_mb and m.wall >= 5 * PSS_PERIOD else ""
            lines.append(f"| {name} | {m.wall:.2f} | {ratio} | {cpu} | {peak} | {pss} | {note} |")
        lines.append("")
        print("\n".join(lines[-len(rows) - 4 :]), flush=True)
    if "--no-shaped" not in args:
        lines += shaped(SHAPED)
        print("\n".join(lines[-8:]), flush=True)
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written {HERE / 'RESULTS.md'}")
    if "--no-serve" not in args:  # the web catalogue, served from the largest project measured
        import serve

        serve.run(max(sizes), WORK / f"p{max(sizes)}", serve.DURATION, fresh=False)
    if "--no-preview" not in args:  # the live preview, on a copy of the sample project
        import preview

        preview.main()


if __name__ == "__main__":
    main()
