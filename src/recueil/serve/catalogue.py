"""What the server knows of a project: a snapshot of its sheets, collections and editions.

A snapshot is immutable; requests read the current one. At most once a second a request
checks the project's files (sizes and modification times of sources, images, templates, styles,
settings, themes, kinds and collections) and, when anything changed, one request builds the
next snapshot (and updates the search index) while the others keep answering from the current
one. An editor running `recueil build` beside the server is therefore seen within a second, and
a half-written file never is: builds write atomically.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recueil.collection.declared import discover_collections
from recueil.collection.definition import Collection
from recueil.core.diagnostics import Diagnostic
from recueil.edition.archive import Archive
from recueil.records.scope import parts_of
from recueil.render.cache import RenderCache, digest
from recueil.render.sheet_renderer import SheetRenderer
from recueil.serve.files import Payload, etag_of
from recueil.serve.search import SearchIndex
from recueil.sources.content_scan import SUFFIX
from recueil.sources.corpus import Corpus, FailedSource, SourceMemo, load_corpus
from recueil.sources.project import CACHE_DIR, Project, load_project
from recueil.sources.sheet import Sheet

#: folders and files of a project whose changes make a new snapshot
#: what shapes the catalogue besides the sources (the web pages' own templates included)
WATCHED = ("recueil.yaml", "themes.yaml", "kinds", "templates", "styles", "collections", "web")
logger = logging.getLogger(__name__)
#: how often, at most, the files are looked at
CHECK_SECONDS = 1.0
#: the search index, in the build folder's cache
SEARCH_FILE = "search.sqlite"
#: PDFs rendered on request that the render cache does not keep, remembered per snapshot
RENDERED_KEPT = 32


@dataclass(frozen=True)
class CachedPdf:
    """A standalone sheet PDF in the render cache: where, its ETag, size and pages."""

    path: Path
    etag: str
    size: int
    pages: int


@dataclass
class Snapshot:
    """One consistent view of the project; what it computes lazily is kept for its lifetime."""

    project: Project
    corpus: Corpus
    collections: tuple[Collection, ...]
    problems: tuple[Diagnostic, ...]
    stamp: str
    renderer: SheetRenderer
    sheets: Mapping[str, Sheet] = field(default_factory=dict)
    failed: Mapping[str, FailedSource] = field(default_factory=dict)
    _pdfs: dict[str, CachedPdf] = field(default_factory=dict)
    _memberships: Mapping[str, tuple[Collection, ...]] | None = None
    _rendered: dict[str, Payload] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)
    #: the previous snapshot's located PDFs and their keys, when only sources changed since
    _located_before: Mapping[str, tuple[str, CachedPdf]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def search_file(self) -> Path:
        """The search index's file (in the build folder's cache)."""
        return self.project.build_dir / CACHE_DIR / SEARCH_FILE

    def key(self, sheet: Sheet) -> str:
        """The render cache's key of one of this snapshot's sheets, computed once: the files
        it hashes cannot change within a snapshot (a change makes a new one)."""
        if self.sheets.get(sheet.slug) is not sheet:
            return self.renderer.key(sheet)
        known = self._keys.get(sheet.slug)
        if known is None:
            known = self._keys[sheet.slug] = self.renderer.key(sheet)
        return known

    def pdf_file(self, sheet: Sheet) -> CachedPdf | None:
        """Where the render cache keeps the sheet's current standalone PDF, and its facts.

        A sheet whose key is the one it had in the previous snapshot, when only sources
        changed since (the files a render reads besides its source, checked by the render
        cache, are then the same), has the PDF it had: after an edit, the server looks up
        the changed sheets' entries only, not a thousand (0.1 to 0.2 s of a thread holding
        the interpreter while the edited sheet's first request is answered)."""
        with self._lock:
            known = self._pdfs.get(sheet.slug)
        if known is None:
            key = self.key(sheet)
            before = self._located_before.get(sheet.slug)
            if before is not None and before[0] == key:
                with self._lock:
                    self._pdfs[sheet.slug] = before[1]
                return before[1]
            cache = self.renderer.cache
            found = cache.standalone(key) if cache is not None else None
            if found is None:
                return None
            path, sha, pages = found
            try:
                size = path.stat().st_size
            except OSError:
                return None
            known = CachedPdf(path, f'"{sha[:32]}"', size, pages)
            with self._lock:
                self._pdfs[sheet.slug] = known
        return known

    def locate_pdfs(self) -> None:
        """Find every sheet's cached PDF now (its key hashed, its cache entry checked: some
        0.2 ms a sheet), off the event loop, so that a sheet's first download or page view
        after a start or an edit does not pay for it (20 visitors queued behind those)."""
        for sheet in self.sheets.values():
            self.pdf_file(sheet)
        self.memberships()

    def located_pdfs(self) -> dict[str, tuple[str, CachedPdf]]:
        """Each sheet's render key and PDF, for those whose PDF was found (for the next)."""
        with self._lock:
            return {slug: (self._keys[slug], pdf) for slug, pdf in self._pdfs.items()
                    if slug in self._keys}  # fmt: skip

    def located(self, sheet: Sheet) -> bool:
        """Whether the sheet's cached PDF is known already: reading it is then one small read
        from the page cache, done on the event loop rather than handed to a thread."""
        with self._lock:
            return sheet.slug in self._pdfs

    def cached_pdf(self, sheet: Sheet) -> Payload | None:
        """The sheet's standalone PDF if the render cache has it for its current inputs.

        The file is read each time (about 100 KB, from the page cache) and never kept: the
        server's memory does not grow with the number of sheets visitors ask for. Its ETag is
        the hash the cache recorded, so nothing is hashed per request."""
        known = self.pdf_file(sheet)
        if known is None:
            with self._lock:
                return self._rendered.get(sheet.slug)
        try:
            return Payload(known.path.read_bytes(), known.etag)
        except OSError:  # the cache was cleared under us: render again
            with self._lock:
                self._pdfs.pop(sheet.slug, None)
            return None

    def memberships(self) -> Mapping[str, tuple[Collection, ...]]:
        """The declared collections each sheet belongs to, in declaration order (computed once
        per snapshot: selecting and grouping 1,000 sheets takes a few milliseconds)."""
        with self._lock:
            if self._memberships is None:
                found: dict[str, list[Collection]] = {}
                parts = parts_of(self.project, self.collections, list(self.sheets.values()))
                for part in parts:
                    for sheet in part.sheets:
                        found.setdefault(sheet.slug, []).append(part.collection)
                self._memberships = MappingProxyType({k: tuple(v) for k, v in found.items()})
            return self._memberships

    def pdf_facts(self, sheet: Sheet) -> tuple[int, int] | None:
        """Size and pages of the sheet's PDF when one is ready (its page says them), without
        reading it (pages are 0 when unknown: a PDF rendered on request, not cached)."""
        known = self.pdf_file(sheet)
        if known is not None:
            return known.size, known.pages
        with self._lock:
            rendered = self._rendered.get(sheet.slug)
        return (len(rendered.data), 0) if rendered is not None else None

    def remember_pdf(self, sheet: Sheet, data: bytes) -> Payload:
        """A PDF rendered on request, for the few sheets whose render the cache does not keep
        (remote images); the last RENDERED_KEPT of them."""
        payload = Payload(data, etag_of(data))
        with self._lock:
            self._rendered[sheet.slug] = payload
            while len(self._rendered) > RENDERED_KEPT:
                self._rendered.pop(next(iter(self._rendered)))
        return payload

    def page_html(self, sheet: Sheet) -> str:
        """The sheet's print page as HTML (the web page shows its article): the one the build
        kept beside the sheet's render when it is current, else made now."""
        cache = self.renderer.cache
        known = cache.page(self.key(sheet)) if cache is not None else None
        if known is None:
            known, _ = self.renderer.page(sheet)
        return known

    def collection(self, name: str) -> Collection | None:
        """A declared collection by name."""
        return next((c for c in self.collections if c.name == name), None)

    @property
    def archive(self) -> Archive:
        """The published editions."""
        return Archive(self.project.editions_dir)


class Catalogue:
    """The current snapshot of a project, renewed when its files change."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._lock = threading.Lock()
        self._checked = 0.0
        self._polling = False
        self._memo: SourceMemo | None = None
        self._files = self._scan_files()
        self.snapshot = self._load(self._files)

    def current(self) -> Snapshot:
        """The snapshot to answer with.

        While ``poll`` runs (the server's lifespan starts it) this only reads the current
        snapshot: the look at the files (about 15 ms for 1,000 sheets) and the loading of a new
        snapshot happen on the poller's thread, never in a request. Without it (a script, a
        test without lifespan) the request that finds the check due makes it."""
        if self._polling:
            return self.snapshot
        now = time.monotonic()
        if now - self._checked < CHECK_SECONDS or not self._lock.acquire(blocking=False):
            return self.snapshot
        try:
            self._checked = now
            files = self._scan_files()
            if files != self._files:
                self.snapshot = self._load(files)
                self._files = files
        finally:
            self._lock.release()
        return self.snapshot

    def poll(
        self,
        stop: threading.Event,
        on_new: Callable[[Snapshot], None] | None = None,
        on_stamp: Callable[[str], None] | None = None,
    ) -> None:
        """Look at the files every CHECK_SECONDS until ``stop`` (run on a thread of its own);
        ``on_new(snapshot)`` is told of each new snapshot, ``on_stamp`` as in ``refresh``."""
        self._polling = True
        try:
            while not stop.wait(CHECK_SECONDS):
                try:
                    before, after = self.refresh(on_stamp)
                    if after is not before and on_new is not None:
                        on_new(after)
                except Exception:  # a project being rewritten: the next look will tell
                    logger.exception("could not load the project's new state")
        finally:
            self._polling = False

    def refresh(self, on_stamp: Callable[[str], None] | None = None) -> tuple[Snapshot, Snapshot]:
        """Look at the files now (the watcher saw a change); the previous and current snapshot.

        ``on_stamp(stamp)`` is told the new snapshot's stamp as soon as the files are looked
        at, before the snapshot is loaded: the render workers load the project meanwhile (both
        take some 25 ms on the sample, 100 ms or more at 1,000 sheets), not after."""
        with self._lock:
            before = self.snapshot
            files = self._scan_files()
            if files != self._files:
                if on_stamp is not None:
                    on_stamp(self._stamp(files))
                self.snapshot = self._load(files)
                self._files = files
            self._checked = time.monotonic()
            return before, self.snapshot

    def watched(self) -> list[Path]:
        """The folders and files whose changes the preview watches."""
        return [self.root / name for name in (*WATCHED, self._content_name())]

    def _load(self, files: tuple[tuple[str, int, int], ...]) -> Snapshot:
        context = source_context(files, self._content_name())
        previous: SheetRenderer | None = None
        located: Mapping[str, tuple[str, CachedPdf]] = {}
        if self._memo is None or self._memo.context != context:
            self._memo = SourceMemo(context)
        elif getattr(self, "snapshot", None) is not None:  # only sources changed
            previous = self.snapshot.renderer
            located = self.snapshot.located_pdfs()
        project, problems = load_project(self.root)
        corpus = load_corpus(project, memo=self._memo)
        collections, found = discover_collections(project)
        cache = RenderCache(project.build_dir / CACHE_DIR / "renders")
        snapshot = Snapshot(
            project=project,
            corpus=corpus,
            collections=tuple(collections),
            problems=(*problems, *corpus.diagnostics, *found),
            stamp=self._stamp(files, context),
            renderer=SheetRenderer(project, corpus, cache, same_files_as=previous),
            sheets=MappingProxyType({s.slug: s for s in corpus.sheets}),
            failed=MappingProxyType({f.slug: f for f in corpus.failed if f.slug}),
            _located_before=located,
        )
        index = SearchIndex(project.build_dir / CACHE_DIR / SEARCH_FILE)
        try:
            index.update(corpus.sheets)
        finally:
            index.close()
        return snapshot

    def _stamp(self, files: tuple[tuple[str, int, int], ...], context: str = "") -> str:
        """The stamp of the snapshot of ``files``: their context (source_context), then a
        digest of them all."""
        context = context or source_context(files, self._content_name())
        return f"{context}-{digest(repr(files))[:32]}"

    def _scan_files(self) -> tuple[tuple[str, int, int], ...]:
        """Size and modification time of every file that shapes the catalogue."""
        found: list[tuple[str, int, int]] = []
        for name in (*WATCHED, self._content_name()):
            _walk(self.root / name, self.root, found)
        return tuple(sorted(found))

    def _content_name(self) -> str:
        """The content folder (a setting, read cheaply: this runs at most once a second)."""
        settings = self.root / "recueil.yaml"
        content = "content"
        if settings.is_file():
            for line in settings.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("content_dir:"):
                    content = line.split(":", 1)[1].strip().strip("'\"") or content
        return content


def source_context(files: tuple[tuple[str, int, int], ...], content: str) -> str:
    """A digest of every file but the sources: while it stays the same, a source unchanged
    reads the same (its SourceMemo entry holds). It begins each snapshot's stamp, so that a
    render worker told the stamp knows whether its own memo still holds."""
    folder = content.rstrip("/") + "/"
    others = [f for f in files if not (f[0].startswith(folder) and f[0].endswith(SUFFIX))]
    return digest(repr(others))[:32]


def _walk(path: Path, root: Path, found: list[tuple[str, int, int]]) -> None:
    """Append (path relative to ``root``, size, mtime) of ``path`` or of every file under it
    (hidden folders left out); os.scandir's entries, not Path objects: this runs every second."""
    try:
        info = path.stat()
    except OSError:
        return
    if not path.is_dir():
        found.append((path.name, info.st_size, info.st_mtime_ns))
        return
    prefix = len(str(root)) + 1
    pending = [str(path)]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if not entry.name.startswith("."):
                                pending.append(entry.path)
                            continue
                        stat = entry.stat()
                    except OSError:
                        continue
                    found.append((entry.path[prefix:], stat.st_size, stat.st_mtime_ns))
        except OSError:
            continue


def sheet_facts(sheet: Sheet) -> dict[str, Any]:
    """What the catalogue says of a sheet in ``catalogue.json`` (no personal data)."""
    meta = sheet.meta
    territory = meta.get("territory") if isinstance(meta.get("territory"), Mapping) else {}
    assert isinstance(territory, Mapping)
    return {
        "slug": sheet.slug,
        "title": sheet.title,
        "kind": sheet.kind,
        "theme": meta.get("theme"),
        "secondary_themes": list(meta.get("secondary_themes", [])),
        "keywords": list(meta.get("keywords", [])),
        "status": meta.get("status"),
        "territory": {
            key: territory[key]
            for key in ("cite_educative", "communes", "departement", "region")
            if key in territory
        }
        or ({"region": meta["region"]} if "region" in meta else {}),
        "date": meta["date"].isoformat() if "date" in meta else None,
        "updated": meta["updated"].isoformat() if "updated" in meta else None,
    }
