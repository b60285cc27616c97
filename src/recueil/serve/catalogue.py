"""What the server knows of a project: a snapshot of its sheets, collections and editions.

A snapshot is immutable; requests read the current one. At most once a second a request
checks the project's files (sizes and modification times of sources, images, templates, styles,
settings, themes, kinds and collections) and, when anything changed, one request builds the
next snapshot (and updates the search index) while the others keep answering from the current
one. An editor running `recueil build` beside the server is therefore seen within a second, and
a half-written file never is: builds write atomically.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recueil.collection.collection_build import discover_collections
from recueil.collection.definition import Collection
from recueil.core.diagnostics import Diagnostic
from recueil.edition.archive import Archive
from recueil.render.cache import RenderCache, digest
from recueil.render.sheet_renderer import SheetRenderer
from recueil.serve.files import Payload, etag_of
from recueil.serve.search import SearchIndex
from recueil.sources.corpus import Corpus, FailedSource, load_corpus
from recueil.sources.project import CACHE_DIR, Project, load_project
from recueil.sources.sheet import Sheet

#: folders and files of a project whose changes make a new snapshot
WATCHED = ("recueil.yaml", "themes.yaml", "kinds", "templates", "styles", "collections")
#: how often, at most, the files are looked at
CHECK_SECONDS = 1.0
#: the search index, in the build folder's cache
SEARCH_FILE = "search.sqlite"


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
    _pdfs: dict[str, Payload] = field(default_factory=dict)
    _html: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cached_pdf(self, sheet: Sheet) -> Payload | None:
        """The sheet's standalone PDF if the render cache has it for its current inputs."""
        with self._lock:
            known = self._pdfs.get(sheet.slug)
        if known is not None:
            return known
        cache = self.renderer.cache
        if cache is None:
            return None
        hit = cache.get(self.renderer.key(sheet))
        if hit is None or hit[2] is None:
            return None
        payload = Payload(hit[2], etag_of(hit[2]))
        with self._lock:
            self._pdfs[sheet.slug] = payload
        return payload

    def remember_pdf(self, sheet: Sheet, data: bytes) -> Payload:
        """Keep a PDF rendered on request for the life of this snapshot."""
        payload = Payload(data, etag_of(data))
        with self._lock:
            self._pdfs[sheet.slug] = payload
        return payload

    def page_html(self, sheet: Sheet) -> str:
        """The sheet's print page as HTML (the web page shows its article): the one the build
        kept beside the sheet's render when it is current, else made now."""
        with self._lock:
            known = self._html.get(sheet.slug)
        if known is None:
            cache = self.renderer.cache
            known = cache.page(self.renderer.key(sheet)) if cache is not None else None
            if known is None:
                known, _ = self.renderer.page(sheet)
            with self._lock:
                self._html[sheet.slug] = known
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
        self._files = self._scan_files()
        self.snapshot = self._load(self._files)

    def current(self) -> Snapshot:
        """The snapshot to answer with (renewed first if the project's files changed)."""
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

    def refresh(self) -> tuple[Snapshot, Snapshot]:
        """Look at the files now (the watcher saw a change); the previous and current snapshot."""
        with self._lock:
            before = self.snapshot
            files = self._scan_files()
            if files != self._files:
                self.snapshot = self._load(files)
                self._files = files
            self._checked = time.monotonic()
            return before, self.snapshot

    def watched(self) -> list[Path]:
        """The folders and files whose changes the preview watches."""
        return [self.root / name for name in (*WATCHED, self._content_name())]

    def _load(self, files: tuple[tuple[str, int, int], ...]) -> Snapshot:
        project, problems = load_project(self.root)
        corpus = load_corpus(project)
        collections, found = discover_collections(project)
        cache = RenderCache(project.build_dir / CACHE_DIR / "renders")
        snapshot = Snapshot(
            project=project,
            corpus=corpus,
            collections=tuple(collections),
            problems=(*problems, *corpus.diagnostics, *found),
            stamp=digest(repr(files)),
            renderer=SheetRenderer(project, corpus, cache),
            sheets=MappingProxyType({s.slug: s for s in corpus.sheets}),
            failed=MappingProxyType({f.slug: f for f in corpus.failed if f.slug}),
        )
        index = SearchIndex(project.build_dir / CACHE_DIR / SEARCH_FILE)
        try:
            index.update(corpus.sheets)
        finally:
            index.close()
        return snapshot

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


def _walk(path: Path, root: Path, found: list[tuple[str, int, int]]) -> None:
    try:
        info = path.stat()
    except OSError:
        return
    if path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                _walk_file(Path(dirpath) / name, root, found)
    else:
        found.append((path.name, info.st_size, info.st_mtime_ns))


def _walk_file(path: Path, root: Path, found: list[tuple[str, int, int]]) -> None:
    try:
        info = path.stat()
    except OSError:
        return
    found.append((str(path.relative_to(root)), info.st_size, info.st_mtime_ns))


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
