"""Live preview for authors: the printed pages of a sheet or a collection, updated on save.

In local mode the server watches the project (``watchfiles``). When files change, the catalogue
is read again at once, and every sheet or collection someone is previewing is checked: what must
be laid out again is what the render cache says changed (its key, or a file its render read),
nothing else; identical saves coalesce (a render in flight is shared, and the watcher batches
changes that arrive together). Each preview keeps its last good pages: a broken save shows the
errors, names the file and line, and marks the pages as outdated until it is fixed.

Browsers follow a preview with server-sent events: one event per new state, carrying the page
count, a version (the PDF's hash) and the diagnostics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recueil.core.diagnostics import Diagnostic
from recueil.serve import tasks
from recueil.serve.catalogue import Snapshot
from recueil.serve.files import etag_of
from recueil.serve.renders import Busy, RenderService, WorkerLost

logger = logging.getLogger("recueil.serve")
#: milliseconds the watcher waits for more changes before acting (an editor writes in bursts)
DEBOUNCE_MS = 40


@dataclass
class Preview:
    """What one previewed sheet or collection shows now."""

    name: str
    pdf: bytes | None = None
    version: str = ""
    pages: int = 0
    outdated: bool = False
    problems: list[dict[str, Any]] = field(default_factory=list)
    #: each page's fingerprint (render/page_prints.py): the version of its image, and how
    #: the pages that changed are found
    page_versions: list[str] = field(default_factory=list)
    changed_pages: list[int] = field(default_factory=list)
    #: where each page is drawn from: a PDF and the page's index in it (a collection
    #: preview's update brings only its new pages; the others stay in the files they came in)
    sources: list[tuple[bytes, int]] = field(default_factory=list)
    listeners: set[asyncio.Queue[str]] = field(default_factory=set)

    def state(self) -> str:
        """The event sent to browsers."""
        return json.dumps(
            {
                "version": self.version,
                "pages": self.pages,
                "outdated": self.outdated,
                "problems": self.problems,
                "changed": self.changed_pages,
                "prints": self.page_versions,
            },
            ensure_ascii=False,
        )


class PreviewHub:
    """The previews open in browsers, kept up to date."""

    def __init__(self, service: RenderService, root: Path) -> None:
        self.service = service
        self.root = root
        self.sheets: dict[str, Preview] = {}
        self.collections: dict[str, Preview] = {}
        #: the project dashboard (/problemes) follows this one: its version is the snapshot's
        self.board = Preview("problems")
        self._lock = asyncio.Lock()

    async def sheet(self, snapshot: Snapshot, slug: str) -> Preview:
        """The preview of a sheet, made now if nobody was looking at it."""
        preview = self.sheets.get(slug)
        if preview is None:
            preview = self.sheets[slug] = Preview(slug)
            await self._update_sheet(snapshot, preview)
        return preview

    async def collection(self, snapshot: Snapshot, name: str) -> Preview:
        """The preview of a declared collection, assembled now if nobody was looking at it."""
        preview = self.collections.get(name)
        if preview is None:
            preview = self.collections[name] = Preview(name)
            await self._update_collection(snapshot, preview)
        return preview

    async def follow(self, preview: Preview) -> AsyncIterator[str]:
        """Server-sent events for one browser: the current state, then each new one."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=8)
        preview.listeners.add(queue)
        try:
            yield preview.state()
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ""  # a comment line keeps proxies from closing the stream
        finally:
            preview.listeners.discard(queue)

    async def refresh(self, snapshot: Snapshot) -> None:
        """After a change: bring every open preview up to date (in parallel, bounded)."""
        self.board.version = snapshot.stamp
        self.board.problems = [_plain(d) for d in snapshot.problems]
        _publish(self.board)
        async with self._lock:
            jobs = [self._update_sheet(snapshot, p) for p in self.sheets.values() if p.listeners]
            jobs += [
                self._update_collection(snapshot, p)
                for p in self.collections.values()
                if p.listeners
            ]
            await asyncio.gather(*jobs)

    async def _update_sheet(self, snapshot: Snapshot, preview: Preview) -> None:
        slug = preview.name
        sheet = snapshot.sheets.get(slug)
        failed = snapshot.failed.get(slug)
        rel = sheet.rel if sheet is not None else failed.rel if failed is not None else None
        problems = [_plain(d) for d in snapshot.problems if rel is not None and d.path == rel]
        if sheet is None:
            preview.outdated = preview.pdf is not None
            preview.problems = problems or [{"message": f"no sheet has the slug '{slug}'"}]
            _publish(preview)
            return
        pdf = await asyncio.to_thread(snapshot.cached_pdf, sheet)
        data = pdf.data if pdf is not None else None
        if data is None:
            data, errors, _ = await self._render(
                ("preview", snapshot.stamp, slug),
                tasks.render_sheet,
                str(self.root),
                snapshot.stamp,
                slug,
            )
            problems += errors
        if data is not None:
            snapshot.remember_pdf(sheet, data)
        await self._settle(preview, data, problems)

    async def _update_collection(self, snapshot: Snapshot, preview: Preview) -> None:
        if snapshot.collection(preview.name) is None:
            preview.outdated = preview.pdf is not None
            preview.problems = [{"message": f"no declared collection '{preview.name}'"}]
            _publish(preview)
            return
        for known in (tuple(preview.page_versions), ()):
            outcome = await self._run(
                ("preview-collection", snapshot.stamp, preview.name, known),
                tasks.assemble_declared,
                str(self.root),
                snapshot.stamp,
                preview.name,
                known,
            )
            if _drawable(preview, outcome):
                break  # else pages the preview no longer has: assemble them all
        problems = [{"message": text} for text in outcome.problems]
        await self._settle(preview, outcome.data, problems, outcome.pages, outcome.included)

    async def _settle(
        self,
        preview: Preview,
        data: bytes | None,
        problems: list[dict[str, Any]],
        prints: tuple[str, ...] = (),
        included: tuple[int, ...] | None = None,
    ) -> None:
        """Show ``data`` (None: keep the last good pages, marked outdated) and ``problems``;
        ``prints`` are its pages' fingerprints when the worker knew them, ``included`` the
        pages ``data`` holds when it holds only the new ones."""
        preview.problems = problems
        if data is None:
            preview.outdated = preview.pdf is not None
        else:
            version = etag_of("\n".join(prints).encode() if prints else data).strip('"')
            if version != preview.version:
                pages = list(prints) or await asyncio.to_thread(tasks.page_fingerprints, data)
                old = preview.page_versions
                preview.changed_pages = [
                    i + 1 for i, page in enumerate(pages) if i >= len(old) or old[i] != page
                ]
                preview.sources = _sources(preview, pages, data, included)
                preview.pdf, preview.version, preview.pages = data, version, len(pages)
                preview.page_versions = pages
            preview.outdated = False
        _publish(preview)

    async def _render(
        self, key: Any, function: Any, *args: Any
    ) -> tuple[bytes | None, list[Any], tuple[str, ...]]:
        outcome = await self._run(key, function, *args)
        return outcome.data, [{"message": text} for text in outcome.problems], outcome.pages

    async def _run(self, key: Any, function: Any, *args: Any) -> tasks.Outcome:
        try:
            outcome: tasks.Outcome = await self.service.run(key, function, *args)
        except Busy:
            return tasks.Outcome(None, ("the server is busy; the preview will catch up",))
        except WorkerLost as lost:
            return tasks.Outcome(None, (f"the render worker stopped ({lost})",))
        return outcome


def _drawable(preview: Preview, outcome: tasks.Outcome) -> bool:
    """Whether every page of an assembly's answer can be drawn: it holds the page, or the
    preview still has it (it may have changed since the worker was told what it had)."""
    if outcome.data is None or outcome.included is None:
        return True
    had = set(preview.page_versions)
    held = set(outcome.included)
    return all(i in held or page in had for i, page in enumerate(outcome.pages))


def _sources(
    preview: Preview, pages: list[str], data: bytes, included: tuple[int, ...] | None
) -> list[tuple[bytes, int]]:
    """Where each page of the new state is drawn from (see Preview.sources)."""
    if included is None:
        return [(data, index) for index in range(len(pages))]
    had = dict(zip(preview.page_versions, preview.sources, strict=True))
    position = {page: k for k, page in enumerate(included)}
    return [
        (data, position[index]) if index in position else had[page]
        for index, page in enumerate(pages)
    ]


def _publish(preview: Preview) -> None:
    state = preview.state()
    for queue in list(preview.listeners):
        with contextlib.suppress(asyncio.QueueFull):  # a stalled browser misses old states
            queue.put_nowait(state)


def _plain(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "text": diagnostic.format(),
        "level": diagnostic.level.value,
        "message": diagnostic.message,
        "line": diagnostic.line,
    }


async def watch(paths: Iterable[Path], on_change: Any, stop: asyncio.Event) -> None:
    """Call ``on_change(changed paths)`` after each burst of file changes, until ``stop``."""
    from watchfiles import awatch

    existing = [str(p) for p in paths if p.exists()]
    if not existing:
        return
    async for changes in awatch(
        *existing, stop_event=stop, debounce=DEBOUNCE_MS, step=20, recursive=True
    ):
        try:
            await on_change({Path(path) for _, path in changes})
        except Exception:  # a bug must not stop the watcher: log it and go on watching
            logger.exception("preview update failed")
