"""What the server's render workers do: a sheet's PDF, a selection's PDF, a page image.

These functions run in worker processes started once with the server (warm: WeasyPrint
imported, the project loaded). Each worker keeps the project it loaded and loads it again only
when the server says the project changed (its snapshot's stamp). A render runs under the
project's time limit (``render_timeout``); the worker's memory is capped like the build's.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import gc
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recueil.core.diagnostics import Level
from recueil.core.limits import TooSlow, deadline
from recueil.render.cache import RenderCache
from recueil.render.sheet_renderer import SheetRenderer
from recueil.sources.corpus import Corpus, SourceMemo, load_corpus
from recueil.sources.project import CACHE_DIR, Project, load_project

#: the state of this worker process: (root, stamp) → loaded project
_LOADED: dict[str, Any] = {}


@dataclass(frozen=True)
class Outcome:
    """A worker's answer: the bytes, or the reason there are none (never a traceback)."""

    data: bytes | None
    problems: tuple[str, ...] = ()
    timed_out: bool = False
    #: each page's fingerprint when the task knew them (a collection preview's assembly)
    pages: tuple[str, ...] = ()
    #: the pages ``data`` holds when it holds only the new ones (None: every page)
    included: tuple[int, ...] | None = None


def start_worker(memory_mb: int, scratch: str) -> None:
    """Worker initializer: die with the server, cap the address space a render may use,
    write temporary files into the service's folder, import WeasyPrint now and make the C
    types its renders would parse (render/glyph_arrays.py)."""
    import os
    import tempfile

    tempfile.tempdir = scratch

    import weasyprint  # noqa: F401  (warm: the first request does not pay for the import)

    import recueil.collection.collection_build  # noqa: F401  (the same, for selections)
    from recueil.render import glyph_arrays
    from recueil.render.workers import die_with_parent

    glyph_arrays.prepare()  # no render of this worker parses a C declaration
    die_with_parent(os.getppid())  # a server killed must not leave its workers behind

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if memory_mb > 0 and hard == resource.RLIM_INFINITY:
        limit = _address_space() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def call(function: Callable[..., Any], *args: Any) -> Any:
    """Run one task, then give the memory it freed back to the system, once its answer is sent.

    A selection's assembly reads and writes many PDF objects; once freed, glibc keeps most of
    that heap mapped, and a worker that assembled once stayed some 50 MB larger for the rest
    of its life. A WeasyPrint document is garbage in cycles once rendered: with a project loaded,
    Python's oldest generation is collected so rarely that an author's 200 saves left 180 MB of
    them (bench/preview.py). The loaded project is frozen out of the collector (``_state``), so
    collecting walks only the task's own garbage: 30 to 45 ms after a sheet's layout, which the
    visitor waiting for that sheet no longer pays (:class:`_Tidier`).
    """
    _TIDIER.before_task()
    try:
        return function(*args)
    finally:
        _TIDIER.soon()


#: seconds between a task's end and the collection of its garbage: its answer is pickled and
#: written to the server by then (a sheet's 100 KB take about a millisecond)
TIDY_DELAY = 0.02
#: tasks that may start while the garbage of those before them is still uncollected
TIDY_DEFERRALS = 1


class _Tidier:
    """Collects the garbage of tasks on a thread just after them, while the worker is idle.

    A task that starts before that collection ran leaves it for after itself (a project loaded
    for a change is followed by the render the change asked for, and an author's preview waited
    for both collections); the next one collects first, so that under back-to-back tasks a
    worker never holds the garbage of more than two. A project just loaded is frozen out of the
    collector by the collection that follows it (``freeze_later``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._deferred = 0
        self._freeze = False

    def soon(self) -> None:
        timer = threading.Timer(TIDY_DELAY, self.now)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def freeze_later(self) -> None:
        """Freeze what is alive at the next collection (a newly loaded project's state)."""
        self._freeze = True

    def now(self) -> None:
        with self._lock:
            if self._timer is None:  # done already (by the task that came first)
                return
            self._timer, self._deferred = None, 0
            give_back_memory(collect=True)
            if self._freeze:
                gc.freeze()  # what lives as long as the project is not walked by every collection
                self._freeze = False

    def before_task(self) -> None:
        timer = self._timer
        if timer is None:
            return
        timer.cancel()
        if self._deferred < TIDY_DEFERRALS:
            self._deferred += 1
            return  # collected after this task, by the timer it will start
        self.now()  # waits for a collection under way, or makes it


_TIDIER = _Tidier()


def give_back_memory(collect: bool) -> None:
    """Collect garbage cycles (``collect``), then return the heap's free pages to the system
    (glibc's malloc_trim; nothing elsewhere)."""
    if collect:
        gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to trim
        return
    libc.malloc_trim(0)


def warm(root: str, stamp: str) -> bool:
    """Load the project ahead of the first request; the first time, and when files other than
    the sources changed (styles, fonts), rehearse a layout too (SheetRenderer.rehearse)."""
    _, corpus, renderer = _state(root, stamp)
    context = (root, stamp.split("-", 1)[0])
    if _LOADED.get("rehearsed") != context and corpus.sheets:
        with contextlib.suppress(Exception):  # a sheet that cannot be laid out: no rehearsal
            renderer.rehearse(corpus.sheets[0])
        _LOADED["rehearsed"] = context
        give_back_memory(collect=True)
    return True


def render_sheet(root: str, stamp: str, slug: str) -> Outcome:
    """The standalone PDF of one sheet, laid out now if the render cache does not have it."""
    project, corpus, renderer = _state(root, stamp)
    sheet = next((s for s in corpus.sheets if s.slug == slug), None)
    if sheet is None:
        return Outcome(None, (f"no valid sheet '{slug}'",))
    try:
        with deadline(float(project.settings.render_timeout)):
            result, diagnostics, standalone, _ = renderer.produce(sheet)
    except TooSlow:
        return Outcome(None, ("the render took too long",), timed_out=True)
    except MemoryError:
        return Outcome(None, ("the render ran out of memory",))
    errors = tuple(d.format() for d in diagnostics if d.level is Level.ERROR)
    if result is None or standalone is None or errors:
        return Outcome(None, errors or ("the sheet could not be rendered",))
    return Outcome(standalone)


def assemble_selection(root: str, stamp: str, slugs: tuple[str, ...], title: str) -> Outcome:
    """A visitor's selection as a collection PDF: the ad-hoc layout, in the visitor's order."""
    # imported here, where it runs: the server imports this module for its functions' names
    # and would otherwise carry the whole PDF assembly (pypdf, fontTools) it never uses
    from recueil.collection.collection_build import adhoc_collection, build_collection

    project, corpus, renderer = _state(root, stamp)
    collection = adhoc_collection(project, title, {"slugs": list(slugs)}, _today())
    meta = dict(collection.meta)
    # no index pages: a visitor's few sheets are found from the contents, and the indexes'
    # columns were most of a selection's layout time (4 of 5 s for 10 sheets, py-spy)
    meta.update(group_by="none", order="explicit", indexes=[])
    collection = replace(collection, meta=MappingProxyType(meta))
    try:
        with deadline(float(project.settings.render_timeout) * max(1, len(slugs))):
            result, diagnostics = build_collection(
                project, corpus, collection, renderer, documents=_visitor_documents(renderer)
            )
    except TooSlow:
        return Outcome(None, ("the selection took too long to assemble",), timed_out=True)
    except MemoryError:
        return Outcome(None, ("the selection ran out of memory",))
    if result is None:
        errors = tuple(d.format() for d in diagnostics if d.level is Level.ERROR)
        return Outcome(None, errors or ("the selection could not be assembled",))
    return Outcome(result.pdf)


#: processes laying out a preview's generated parts and page-number overlay side by side (a
#: new page count lays them out again; the server's other render worker is mostly idle then)
PREVIEW_JOBS = 2


def assemble_declared(root: str, stamp: str, name: str, known: tuple[str, ...] = ()) -> Outcome:
    """A declared collection assembled for its preview (its sheets' renders from the cache);
    with ``known`` page fingerprints, only the pages not among them (changed_pages.py)."""
    from recueil.collection.collection_build import build_collection
    from recueil.collection.declared import discover_collections

    project, corpus, renderer = _state(root, stamp)
    collections, found = discover_collections(project)
    collection = next((c for c in collections if c.name == name), None)
    if collection is None:
        return Outcome(None, tuple(d.format() for d in found) or (f"no collection '{name}'",))
    try:
        with deadline(float(project.settings.render_timeout) * 10):
            result, diagnostics = build_collection(
                project,
                corpus,
                collection,
                renderer,
                allow_incomplete=True,
                jobs=PREVIEW_JOBS,
                preview=True,
                known_pages=frozenset(known),
            )
    except TooSlow:
        return Outcome(None, ("the collection took too long to assemble",), timed_out=True)
    problems = tuple(d.format() for d in diagnostics if d.level is Level.ERROR)
    if result is None:
        return Outcome(None, problems or ("the collection could not be assembled",))
    return Outcome(result.pdf, problems, pages=tuple(result.page_prints), included=result.included)


def page_fingerprints(pdf: bytes) -> list[str]:
    """Each page's fingerprint (render/page_prints.py), imported here, where pypdf may be."""
    from recueil.render.page_prints import page_prints

    return page_prints(pdf)


def page_image(pdf: bytes, width: int, index: int = 0) -> bytes:
    """A page of a PDF (the first by default: the catalogue's thumbnails) as a PNG ``width``
    pixels wide (page_png.py)."""
    from recueil.serve.page_png import page_png

    return page_png(pdf, width, index)


def _state(root: str, stamp: str) -> tuple[Project, Corpus, SheetRenderer]:
    """The project as of ``stamp``; sources unchanged since the last load are not read again
    while the rest of the project is the same (the stamp begins with that context)."""
    if _LOADED.get("key") != (root, stamp):
        context = stamp.split("-", 1)[0]
        memo = _LOADED.get("memo")
        previous: SheetRenderer | None = None
        if not isinstance(memo, SourceMemo) or memo.context != context or not context:
            memo = _LOADED["memo"] = SourceMemo(context)
        elif _LOADED.get("key", ("",))[0] == root:  # only sources changed: keep the rest
            previous = _LOADED["state"][2]
        if previous is None:
            _LOADED.pop("documents", None)  # laid out with files that may have changed
        gc.unfreeze()  # the state loaded before is garbage now: let the collector see it
        project, _ = load_project(Path(root))
        corpus = load_corpus(project, memo=memo)
        cache = RenderCache(project.build_dir / CACHE_DIR / "renders")
        renderer = SheetRenderer(project, corpus, cache, same_files_as=previous)
        _LOADED.update(key=(root, stamp), state=(project, corpus, renderer))
        # collected, then frozen (what lives as long as this state is not walked by every
        # collection), once the task that loaded it has answered: some 80 ms at 1,000 sheets
        _TIDIER.freeze_later()
    state: tuple[Project, Corpus, SheetRenderer] = _LOADED["state"]
    return state


def _visitor_documents(renderer: SheetRenderer) -> RenderCache | None:
    """Where visitors' selections keep their generated documents (visitor_documents.py): one
    per project state, kept across edits of the sources (``_state`` drops it when other files
    change: the documents kept were laid out with them)."""
    from recueil.serve.visitor_documents import VisitorDocuments

    kept = _LOADED.get("documents")
    if not isinstance(kept, VisitorDocuments) and renderer.cache is not None:
        kept = _LOADED["documents"] = VisitorDocuments(renderer.cache)
    return kept


def _today() -> dt.date:
    return dt.date.today()


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as stream:
        pages = int(stream.read().split()[0])
    return pages * resource.getpagesize()
