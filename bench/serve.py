"""The web catalogue's speed: `recueil serve` measured over the loopback, beside a naive server.

    .venv/bin/python bench/serve.py [SHEETS] [--duration SECONDS] [--reuse]
    .venv/bin/python bench/run.py --serve-only [SHEETS] [--duration SECONDS] [--reuse]

(`make bench` runs it too, after the largest size, on the project it has just measured.)

A synthetic project of SHEETS sheets (bench/synth.py, default 1,000) is built with `recueil
build`, so the render cache holds every sheet, then served by `recueil serve --jobs 2` on
127.0.0.1. The clients are HTTP/1.1 keep-alive connections written on asyncio streams (an HTTP
library costs more CPU per request, and the clients share the machine's cores with the server);
each latency is taken with time.perf_counter from the request's first byte written to the
answer's last byte read. Every phase sends a fixed number of requests, the load test stops at
its deadline; requests are drawn from fixed seeds, so two runs ask the same things.

Phases, in this order: sheet PDFs from the cache; sheet pages, first view then again; searches
with facets; a selection of 10 sheets, first time then again; the naive server (every PDF laid
out by WeasyPrint on request) beside recueil at the same concurrency; sheets not yet rendered
(their source edited); the mixed load; the server's memory at rest. Each figure is printed with
its target; the section "Web catalogue (recueil serve)" of bench/RESULTS.md is replaced (or
added), the rest of the file is left as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
#: `recueil serve --idle`: render workers beyond the first stop after this long without work
IDLE_SECONDS = 20
sys.path.insert(0, str(HERE))
from run import RECUEIL, WORK, _tree, _tree_pss, _tree_rss, machine, measure  # noqa: E402
from synth import make_project  # noqa: E402

HOST = "127.0.0.1"
SECTION = "## Web catalogue (recueil serve)"
SEED = 2026
#: seconds of the mixed load
DURATION = 60.0
#: what the search page says when nothing matches (defaults/web/search.html)
NO_HITS = b"Aucune fiche ne correspond"
#: longest wait for one answer; past it the request counts as an error
REQUEST_TIMEOUT = 120.0
#: the server looks at the project's files at most once a second (serve/catalogue.py)
NOTICE_SECONDS = 1.2
LOAD_MIX = (  # what a load-test client asks for, by weight
    ("page", 30),
    ("pdf", 25),
    ("search", 25),
    ("home", 5),
    ("selection", 5),
    ("selection.pdf", 10),
)


# -- the clients


@dataclass
class Answer:
    """One request's outcome; status 0 when no answer came (connection error, timeout)."""

    label: str
    target: str
    status: int
    ttfb: float
    total: float
    size: int = 0
    retry_after: bool = False
    etag: str = ""
    error: str = ""
    body: bytes | None = None


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, requests one after the other."""

    def __init__(self, port: int, timeout: float = REQUEST_TIMEOUT) -> None:
        self.port = port
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, target: str, label: str = "", keep_body: bool = False) -> Answer:
        started = time.perf_counter()
        try:
            return await asyncio.wait_for(
                self._exchange(target, label, keep_body, started), self.timeout
            )
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ValueError,
            IndexError,
        ) as exc:
            self.close()
            return Answer(label, target, 0, 0.0, time.perf_counter() - started, error=repr(exc))

    async def _exchange(self, target: str, label: str, keep_body: bool, started: float) -> Answer:
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nUser-Agent: recueil-bench\r\n"
            "Accept: */*\r\nAccept-Encoding: identity\r\n\r\n"
        ).encode("ascii")
        for attempt in range(2):
            fresh = self._writer is None
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
            assert self._reader is not None and self._writer is not None
            try:
                self._writer.write(request)
                await self._writer.drain()
                head = await self._reader.readuntil(b"\r\n\r\n")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if fresh or attempt:
                    raise
                # the server closed this idle kept-alive connection: once more, on a new one
        ttfb = time.perf_counter() - started
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if value:
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self._reader.readexactly(int(headers.get("content-length", "0")))
        total = time.perf_counter() - started
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Answer(
            label,
            target,
            status,
            ttfb,
            total,
            len(body),
            "retry-after" in headers,
            headers.get("etag", ""),
            body=body if keep_body else None,
        )

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def fetch_all(
    port: int, targets: list[tuple[str, str]], clients: int, keep_body: bool = False
) -> list[Answer]:
    """Each (label, target) once, by ``clients`` concurrent connections; answers in order."""
    pending = deque(enumerate(targets))
    answers: list[Answer | None] = [None] * len(targets)

    async def client() -> None:
        connection = Connection(port)
        while pending:
            index, (label, target) = pending.popleft()
            answers[index] = await connection.get(target, label, keep_body)
        connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return [a for a in answers if a is not None]


async def one(port: int, target: str, keep_body: bool = False) -> Answer:
    connection = Connection(port)
    try:
        return await connection.get(target, keep_body=keep_body)
    finally:
        connection.close()


def get(port: int, target: str, keep_body: bool = False) -> Answer:
    return asyncio.run(one(port, target, keep_body))


async def load(
    port: int,
    choose: Callable[[random.Random], tuple[str, str]],
    clients: int,
    seconds: float,
) -> tuple[list[Answer], float]:
    """``clients`` connections asking, back to back, for what ``choose`` draws, until the
    deadline (requests under way then are waited for); the answers and the wall time."""
    started = time.perf_counter()
    deadline = started + seconds

    async def client(number: int) -> list[Answer]:
        rng = random.Random(SEED * 1000 + number)
        connection = Connection(port)
        answers = []
        while time.perf_counter() < deadline:
            label, target = choose(rng)
            answers.append(await connection.get(target, label))
        connection.close()
        return answers

    found = await asyncio.gather(*(client(n) for n in range(clients)))
    return [a for answers in found for a in answers], time.perf_counter() - started


# -- figures


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def spread(answers: list[Answer], ttfb: bool = False) -> str:
    times = [a.ttfb if ttfb else a.total for a in answers]
    return f"p50 {ms(pct(times, 50))}, p95 {ms(pct(times, 95))}, p99 {ms(pct(times, 99))}"


@dataclass
class Figure:
    name: str
    value: str
    target: str = ""
    met: bool | None = None
    note: str = ""


class Report:
    """The figures, printed as they come and written as a Markdown section."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []
        #: the code measured (read when the benchmark starts)
        self.revision = revision()
        self.notes: list[str] = []

    def add(
        self, name: str, value: str, target: str = "", met: bool | None = None, note: str = ""
    ) -> None:
        self.figures.append(Figure(name, value, target, met, note))
        verdict = "" if met is None else ("met" if met else "MISSED")
        aim = f"  [target {target}: {verdict}]" if target else ""
        print(f"  {name}: {value}{aim}{'  (' + note + ')' if note else ''}", flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)


def failures(answers: list[Answer]) -> str:
    """A summary of the answers that are not 200, or ''."""
    bad = Counter(
        a.status if a.status else a.error.split("(")[0] for a in answers if a.status != 200
    )
    return ", ".join(f"{n} × {status}" for status, n in sorted(bad.items(), key=str))


# -- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def server(
    command: list[str], port: int, log: Path, ready_seconds: float = 600
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Start a server in its own session, wait until `/` answers; stop it (and whatever it
    started) at the end. Yields the process and the seconds it took to answer."""
    with open(log, "wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited:\n{log.read_text()[-3000:]}")
            if time.perf_counter() - started > ready_seconds:
                raise RuntimeError(f"{command} not ready after {ready_seconds} s")
            answer = get(port, "/")
            if answer.status == 200:
                break
            time.sleep(0.2)
        yield process, time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):  # its workers, if any outlived it
            os.killpg(process.pid, signal.SIGKILL)


def memory(pid: int) -> tuple[float, float, str]:
    """Summed RSS and PSS (MB) of a process and its descendants, and the RSS of each."""
    tree = _tree(pid)
    children = sorted((rss for child, rss in tree.items() if child != pid), reverse=True)
    each = f"RSS of the server {tree.get(pid, 0) / 1e6:.0f} MB, of its {len(children)} " + (
        f"children {', '.join(f'{rss / 1e6:.0f}' for rss in children)} MB"
    )
    return _tree_rss(pid) / 1e6, _tree_pss(pid) / 1e6, each


def code_stamp() -> int:
    """Latest modification of recueil's code and defaults (others may edit the tree)."""
    import recueil

    folder = Path(recueil.__file__).parent
    return max(
        (p.stat().st_mtime_ns for p in folder.rglob("*") if "__pycache__" not in p.parts),
        default=0,
    )


def naive_app(root: Path) -> object:
    """The server a site would write: every PDF laid out by WeasyPrint when it is asked for.

    The HTML is recueil's own (SheetRenderer.page), and WeasyPrint reads the project's files
    through recueil's ProjectFetcher, so the PDF is the sheet's; there is no cache, no warm
    stylesheet and no worker. One layout at a time per process (WeasyPrint and fontconfig are
    not meant for threads); run with one process per core.
    """
    import threading

    import weasyprint
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from recueil.markup.fragment import VIRTUAL_ROOT
    from recueil.render.fetcher import ProjectFetcher
    from recueil.render.sheet_renderer import SheetRenderer
    from recueil.sources.corpus import load_corpus
    from recueil.sources.project import load_project

    project, _ = load_project(root)
    corpus = load_corpus(project)
    renderer = SheetRenderer(project, corpus)
    sheets = corpus.by_slug()
    lock = threading.Lock()

    def sheet_pdf(request: Request) -> Response:
        sheet = sheets.get(request.path_params["slug"])
        if sheet is None:
            return PlainTextResponse("not found", status_code=404)
        with lock:
            html, _ = renderer.page(sheet)
            base = VIRTUAL_ROOT + project.relative(sheet.path.parent) + "/"
            fetcher = ProjectFetcher(project.root, project.style_dirs)
            pdf = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf()
        return Response(pdf, media_type="application/pdf")

    def home(request: Request) -> Response:
        return PlainTextResponse(f"{len(sheets)} sheets")

    return Starlette(routes=[Route("/", home), Route("/fiches/{slug}.pdf", sheet_pdf)])


def naive_from_environment() -> object:
    """Factory for uvicorn's worker processes."""
    return naive_app(Path(os.environ["RECUEIL_NAIVE_PROJECT"]))


def run_naive(root: Path, port: int, workers: int) -> None:
    import uvicorn

    os.environ["RECUEIL_NAIVE_PROJECT"] = str(root)
    uvicorn.run(
        "serve:naive_from_environment",
        factory=True,
        host=HOST,
        port=port,
        workers=workers,
        log_level="warning",
    )


# -- the benchmark


def edit_body(path: Path, rng: random.Random) -> None:
    """Change one word of a source's body (its front matter stays as it is)."""
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    for old, new in ((" les ", " nos "), (" des ", " ces "), (" de ", " du ")):
        if old in body:
            spots = [i for i in range(len(body)) if body.startswith(old, i)]
            at = rng.choice(spots)
            body = body[:at] + new + body[at + len(old) :]
            break
    else:
        body += "\nUne phrase de plus.\n"
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")


def pages_of(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def search_queries(
    sheets: list[dict[str, object]], rng: random.Random, count: int
) -> list[dict[str, str]]:
    """Searches a visitor could make: a word of a sheet's keywords, its theme and its région
    (so that at least that sheet matches)."""
    queries: list[dict[str, str]] = []
    while len(queries) < count:
        sheet = rng.choice(sheets)
        words = [
            w
            for k in sheet.get("keywords") or []
            for w in str(k).replace("'", " ").split()
            if len(w) >= 5
        ]
        territory = sheet.get("territory") or {}
        assert isinstance(territory, dict)
        if not words or not territory.get("region") or not sheet.get("theme"):
            continue
        queries.append(
            {"q": rng.choice(words), "theme": str(sheet["theme"]), "region": territory["region"]}
        )
    return queries


def search_target(query: dict[str, str]) -> str:
    return "/recherche?" + urlencode(query)


def selection_target(slugs: list[str], title: str, pdf: bool = True) -> str:
    path = "/selection.pdf" if pdf else "/selection"
    return path + "?" + urlencode([*(("fiche", s) for s in slugs), ("titre", title)])


def bench_serve(size: int, root: Path, duration: float, build: bool = True) -> Report:
    """Build the project (or bring its build up to date), serve it, measure; the figures."""
    report = Report()
    rng = random.Random(SEED)
    token = dt.datetime.now().strftime("%H%M%S")  # selections made in this run only
    stamp = code_stamp()
    for _ in range(3 if build else 0):
        # the render cache's keys depend on recueil's code: build with the code that will serve
        built = measure([RECUEIL, "build", "--project", str(root), "--quiet"])
        report.add("recueil build before serving", f"{built.wall:.1f} s (CPU {built.cpu:.0f} s)")
        if code_stamp() == stamp:
            break
        report.note("recueil's code changed during the build (other work in the tree): again")
        stamp = code_stamp()
    port = free_port()
    command = [RECUEIL, "serve", "--project", str(root), "--port", str(port), "--jobs", "2",
               "--idle", str(IDLE_SECONDS)]  # fmt: skip
    report.note(f"loadavg before starting the server: {os.getloadavg()[0]:.2f}")
    with server(command, port, WORK / f"serve-{size}.log") as (process, ready):
        report.add("server start, until `/` answers", f"{ready:.2f} s")
        time.sleep(1.0)
        rss, pss, each = memory(process.pid)
        report.add("memory at rest after start", f"RSS {rss:.0f} MB, PSS {pss:.0f} MB", note=each)
        if code_stamp() != stamp:
            report.note("recueil's code changed after the build: the server may not find renders")
        catalogue = get(port, "/catalogue.json", keep_body=True)
        assert catalogue.status == 200 and catalogue.body is not None
        sheets = json.loads(catalogue.body)["sheets"]
        slugs = [s["slug"] for s in sheets]
        print(f"  ({len(slugs)} sheets in the catalogue)", flush=True)

        # sheet PDFs from the render cache, 20 clients
        seen: set[str] = set()
        targets = []
        for _ in range(2000):
            slug = rng.choice(slugs)
            targets.append(("first" if slug not in seen else "again", f"/fiches/{slug}.pdf"))
            seen.add(slug)
        answers = asyncio.run(fetch_all(port, targets, 20))
        p95 = pct([a.total for a in answers], 95)
        report.add(
            "sheet PDF (cached), 2,000 requests, 20 clients",
            spread(answers),
            "p95 ≤ 20 ms",
            p95 <= 0.020,
            failures(answers),
        )
        for label, name in (("first", "first request of a slug"), ("again", "asked again")):
            part = [a for a in answers if a.label == label]
            report.add(f"  of which {name} ({len(part)})", spread(part))

        # sheet pages: each one first, then again
        order = slugs[:]
        rng.shuffle(order)
        cold = asyncio.run(fetch_all(port, [("page", f"/fiches/{s}") for s in order], 20))
        p95 = pct([a.total for a in cold], 95)
        report.add(
            f"sheet page, first view of each ({len(cold)}), 20 clients",
            spread(cold),
            "p95 ≤ 50 ms",
            p95 <= 0.050,
            failures(cold),
        )
        warm = [("page", f"/fiches/{rng.choice(slugs)}") for _ in range(2000)]
        answers = asyncio.run(fetch_all(port, warm, 20))
        p95 = pct([a.total for a in answers], 95)
        report.add(
            "sheet page, again, 2,000 requests, 20 clients",
            spread(answers),
            "p95 ≤ 50 ms",
            p95 <= 0.050,
            failures(answers),
        )

        # searches with facets
        queries = search_queries(sheets, rng, 1000)
        asked: set[str] = set()
        targets = []
        for q in queries:
            target = search_target(q)
            targets.append(("first" if target not in asked else "again", target))
            asked.add(target)
        answers = asyncio.run(fetch_all(port, targets, 20, keep_body=True))
        empty = sum(1 for a in answers if a.body and NO_HITS in a.body)
        for a in answers:
            a.body = None
        p95 = pct([a.total for a in answers], 95)
        report.add(
            "search q + theme + region, 1,000 requests, 20 clients",
            spread(answers),
            "p95 ≤ 50 ms",
            p95 <= 0.050,
            "; ".join(x for x in (failures(answers), f"{empty} without hits") if x),
        )
        # the server keeps the page of a search asked again: the two apart
        for label, name in (("first", "first time asked"), ("again", "asked again")):
            part = [a for a in answers if a.label == label]
            report.add(f"  of which {name} ({len(part)})", spread(part))
        # most first-time searches come first: the first hundred answers apart
        head = answers[:100]
        firsts = sum(1 for a in head if a.label == "first")
        report.add(f"  the first 100 answers ({firsts} first-time)", spread(head))
        report.add("  the other 900", spread(answers[100:]))
        plain = [("search", search_target({"q": q["q"]})) for q in queries[:300]]
        answers = asyncio.run(fetch_all(port, plain, 20))
        report.add("  search, a word only (300)", spread(answers), note=failures(answers))

        # a selection of 10 rendered sheets, first time and again
        chosen = rng.sample(slugs, min(10, len(slugs)))
        target = selection_target(chosen, f"Banc d'essai {token}")
        first = get(port, target, keep_body=True)
        ok = first.status == 200 and first.body is not None and first.body.startswith(b"%PDF")
        pages = pages_of(first.body) if ok and first.body else 0
        report.add(
            "selection of 10 rendered sheets, first time",
            f"{first.total:.2f} s",
            "≤ 2 s",
            ok and first.total <= 2.0,
            f"{pages} pages, {first.size / 1e6:.2f} MB" if ok else failures([first]),
        )
        again = [get(port, target) for _ in range(20)]
        worst = max(a.total for a in again)
        report.add(
            "selection asked again (20 times, one at a time)",
            f"median {ms(pct([a.total for a in again], 50))}, worst {ms(worst)}",
            "≤ 50 ms",
            worst <= 0.050 and all(a.status == 200 for a in again),
            failures(again),
        )

        # recueil beside the naive server, 4 clients
        four = [("pdf", f"/fiches/{rng.choice(slugs)}.pdf") for _ in range(400)]
        mine = asyncio.run(fetch_all(port, four, 4))
        naive_port = free_port()
        naive = [
            sys.executable,
            str(HERE / "serve.py"),
            "--naive-app",
            str(root),
            "--port",
            str(naive_port),
            "--workers",
            "2",
        ]
        with server(naive, naive_port, WORK / f"naive-{size}.log") as (_, naive_ready):
            warmup = [("pdf", f"/fiches/{rng.choice(slugs)}.pdf") for _ in range(4)]
            asyncio.run(fetch_all(naive_port, warmup, 4))
            forty = [("pdf", f"/fiches/{rng.choice(slugs)}.pdf") for _ in range(40)]
            theirs = asyncio.run(fetch_all(naive_port, forty, 4))
            sample = get(naive_port, f"/fiches/{slugs[0]}.pdf", keep_body=True)
        ours = get(port, f"/fiches/{slugs[0]}.pdf", keep_body=True)
        report.add("sheet PDF, recueil, 400 requests, 4 clients", spread(mine), note=failures(mine))
        report.add(
            "sheet PDF, naive server (WeasyPrint per request, 2 processes), 40 requests, 4 clients",
            spread(theirs),
            note=f"started in {naive_ready:.1f} s; " + (failures(theirs) or "all 200"),
        )
        for q in (50, 95):
            mine_q = pct([a.total for a in mine], q)
            theirs_q = pct([a.total for a in theirs], q)
            report.add(
                f"  ratio recueil/naive, p{q}",
                f"{mine_q / theirs_q:.4f} (naive {theirs_q / mine_q:.0f} times slower)",
            )
        if sample.body and ours.body:
            report.note(
                f"{slugs[0]}: naive PDF {len(sample.body) / 1e3:.0f} KB, "
                f"{pages_of(sample.body)} pages; recueil's {len(ours.body) / 1e3:.0f} KB, "
                f"{pages_of(ours.body)} pages"
            )

        # sheets not rendered yet: their source edited while the server runs
        probe = [("pdf", f"/fiches/{s}.pdf") for s in rng.sample(slugs, min(40, len(slugs)))]
        probed = asyncio.run(fetch_all(port, probe, 4, keep_body=True))
        counted = [(pages_of(a.body), a.target, a.etag) for a in probed if a.body]
        counted.sort(key=lambda c: c[0] != 2)  # two-page sheets first, in drawn order
        assert len(counted) >= 4, "fewer than 4 sheets to edit"
        two = [(t, e) for _, t, e in counted[:4]]
        source = {s: root / "content" / "experiences" / f"{s.lower()}.md" for s in slugs}

        def slug_of(target: str) -> str:
            return target.removeprefix("/fiches/").removesuffix(".pdf")

        target, etag = two[0]
        edit_body(source[slug_of(target)], rng)
        time.sleep(NOTICE_SECONDS)
        fresh = get(port, target)
        changed = fresh.etag != etag
        report.add(
            f"sheet edited, not yet rendered ({counted[0][0]} pages): time to first byte, first "
            "request after the edit",
            f"{fresh.ttfb:.3f} s",
            "≤ 0.4 s",
            fresh.status == 200 and changed and fresh.ttfb <= 0.4,
            "new PDF" if changed else f"SAME ETag as before the edit, {failures([fresh])}",
        )
        for t, _ in two[1:]:
            edit_body(source[slug_of(t)], rng)
        time.sleep(NOTICE_SECONDS)
        home = get(port, "/")
        report.add("  three more sheets edited at once: `/` just after", f"{home.total:.3f} s")
        for n, (t, old) in enumerate(two[1:], 1):
            a = get(port, t)
            report.add(
                f"  edited sheet {n} of 3, asked one after the other: time to first byte",
                f"{a.ttfb:.3f} s",
                note="new PDF" if a.etag != old else "SAME ETag as before the edit",
            )

        # the mixed load
        pool = []
        for n in range(20):
            picked = rng.sample(slugs, min(len(slugs), rng.randint(2, 10)))
            pool.append((picked, f"Sélection {n} {token}"))

        def choose(r: random.Random) -> tuple[str, str]:
            kind = r.choices([k for k, _ in LOAD_MIX], [w for _, w in LOAD_MIX])[0]
            if kind == "page":
                return kind, f"/fiches/{r.choice(slugs)}"
            if kind == "pdf":
                return kind, f"/fiches/{r.choice(slugs)}.pdf"
            if kind == "search":
                return kind, search_target(search_queries(sheets, r, 1)[0])
            if kind == "home":
                return kind, "/"
            picked, title = r.choice(pool)
            return kind, selection_target(picked, title, pdf=kind == "selection.pdf")

        print(f"  (mixed load: 100 clients for {duration:.0f} s)", flush=True)
        answers, wall = asyncio.run(load(port, choose, 100, duration))
        statuses = Counter(a.status for a in answers)
        errors = [
            a
            for a in answers
            if a.status not in (200, 503) or (a.status == 503 and not a.retry_after)
        ]
        busy = sum(1 for a in answers if a.status == 503 and a.retry_after)
        report.add(
            f"mixed load, 100 clients, {duration:.0f} s: answers",
            f"{len(answers)} ({len(answers) / wall:.0f}/s): "
            + ", ".join(f"{n} × {s or 'no answer'}" for s, n in sorted(statuses.items())),
            "0 errors (503 only with Retry-After)",
            not errors,
            f"{busy} × 503 with Retry-After; errors: {failures(errors) or 'none'}",
        )
        report.add("  mixed load, latency of every answer", spread(answers))
        for kind, _ in LOAD_MIX:
            part = [a for a in answers if a.label == kind and a.status == 200]
            if part:
                report.add(f"  {kind} (200, {len(part)})", spread(part))
        after = get(port, "/")
        report.add(
            "`/` after the load",
            f"{after.status} in {ms(after.total)}",
            "answers 200",
            after.status == 200,
        )

        time.sleep(3.0)
        rss, pss, each = memory(process.pid)
        report.add(
            "memory just after the load (server + render workers)",
            f"RSS {rss:.0f} MB, PSS {pss:.0f} MB",
            note=each,
        )
        time.sleep(IDLE_SECONDS + 5.0)  # at rest: the extra render workers have stopped
        rss, pss, each = memory(process.pid)
        report.add(
            f"memory at rest at the end, {IDLE_SECONDS + 8:.0f} s after the load"
            " (server + render workers)",
            f"RSS {rss:.0f} MB, PSS {pss:.0f} MB",
            "≤ 300 MB",
            rss <= 300,
            f"judged on summed RSS; {each}",
        )
        report.note(f"loadavg at the end: {os.getloadavg()[0]:.2f}")
    return report


def revision() -> str:
    """The commit measured, and whether the tree had changes (read-only git commands)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        return "unknown revision"
    if not commit:
        return "unknown revision"
    return f"commit {commit}" + (f", {len(changed)} uncommitted files in src/" if changed else "")


def section(size: int, duration: float, report: Report) -> list[str]:
    import uvicorn

    try:
        import httptools  # noqa: F401

        protocol = "httptools"
    except ImportError:
        protocol = "h11"
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.",
        f"Date: {dt.date.today().isoformat()}, code at {report.revision}. {size} synthetic sheets "
        "(bench/synth.py), built "
        "with `recueil build`, served by `recueil serve --jobs 2` (one server process, uvicorn "
        f"{uvicorn.__version__} with its {protocol} HTTP parser, two render workers) on "
        "127.0.0.1; the clients run on the same two cores (HTTP/1.1 keep-alive connections on "
        "asyncio streams, `bench/serve.py`), each latency from the request written to the last "
        "byte read. Requests are drawn from fixed seeds; the naive server lays out every PDF "
        "with WeasyPrint on request (recueil's HTML and ProjectFetcher, no cache), in two "
        "processes, one layout at a time in each.",
        "",
        "| measure | figure | target | met | notes |",
        "|---|---|---|---|---|",
    ]
    for f in report.figures:
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        name = f.name.replace("  ", "↳ ", 1) if f.name.startswith("  ") else f.name
        lines.append(f"| {name} | {f.value} | {f.target} | {met} | {f.note} |")
    lines.append("")
    lines += [f"- {n}" for n in report.notes]
    lines.append("")
    return lines


def record(lines: list[str], results: Path = HERE / "RESULTS.md") -> None:
    """Replace this benchmark's section of RESULTS.md (or add it at the end); keep the rest."""
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    old = text.splitlines()
    if SECTION in old:
        start = old.index(SECTION)
        end = next((i for i in range(start + 1, len(old)) if old[i].startswith("## ")), len(old))
        new = old[:start] + lines + old[end:]
    else:
        new = [*old, *([""] if old and old[-1] else []), *lines]
    while new and not new[-1]:
        new.pop()
    results.write_text("\n".join(new) + "\n", encoding="utf-8")


def run(size: int, root: Path, duration: float, fresh: bool = True, write: bool = True) -> None:
    """Make the project (``fresh``) or reuse it, measure, record in RESULTS.md (``write``)."""
    print(f"web catalogue, {size} sheets, in {root}", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    if fresh or not (root / "content").is_dir():
        make_project(root, size)
    report = bench_serve(size, root, duration)
    if not write:
        return
    record(section(size, duration, report))
    print(f"written section '{SECTION[3:]}' of {HERE / 'RESULTS.md'}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sheets", nargs="?", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=DURATION, help="mixed load, seconds")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the project made by an earlier run (its build is updated)",
    )
    parser.add_argument(
        "--project", type=Path, help="project folder (default: in the work folder, serve-SHEETS)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only: leave RESULTS.md")
    parser.add_argument("--naive-app", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.naive_app is not None:
        run_naive(args.naive_app, args.port, args.workers)
        return
    root = args.project or WORK / f"serve-{args.sheets}"
    run(args.sheets, root, args.duration, fresh=not args.reuse, write=not args.no_record)


if __name__ == "__main__":
    main()
