"""The catalogue server: a Starlette application over a project, its search index and renders.

Like Datasette, a small ASGI application with one module per kind of answer (``pages``: the
HTML pages, ``downloads``: PDFs, images and data), Jinja templates, read-only by default. Public
mode (``--public``) shows what a visitor may see: no diagnostics, no file paths, no sheet with
errors; local mode (the default, bound to 127.0.0.1) is the editor's view and also shows the
project's problems.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recueil.serve import downloads, oai, pages, preview_pages, tasks
from recueil.serve.catalogue import Catalogue, Snapshot
from recueil.serve.preview import PreviewHub, watch
from recueil.serve.renders import RenderService
from recueil.serve.search import index_for
from recueil.serve.site import Site

#: longest query string accepted (a search, a selection of max_selection_sheets slugs, facets)
MAX_QUERY_BYTES = 4096
#: seconds after a new snapshot before the garbage of the previous one is collected (settle)
SETTLE_DELAY = 1.0
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


@dataclass(frozen=True)
class ServerOptions:
    """How the server runs."""

    root: Path
    public: bool = False
    jobs: int = 2
    queue: int = 8
    #: local mode: watch the project's files and update open previews on save
    watch: bool = True
    #: render workers beyond the first stop after this many seconds without a render
    idle_seconds: float = 60.0


#: the security headers as sent, and their names (an answer's own values of them are replaced)
_SECURITY = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_OURS = frozenset(k for k, _ in _SECURITY)


class Guard:
    """ASGI middleware: security headers on every answer, oversized query strings refused."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES or len(scope["path"]) > 1024:
            response = Response("Requête trop longue.", status_code=414, media_type="text/plain")
            await self._with_headers(response)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
                message["headers"] = headers + _SECURITY
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _with_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response


def create_app(options: ServerOptions) -> Starlette:
    """The application for one project."""
    catalogue = Catalogue(options.root)
    settings = catalogue.snapshot.project.settings
    service = RenderService(
        jobs=options.jobs,
        queue=options.queue,
        timeout=float(settings.render_timeout),
        memory_mb=settings.render_memory_mb,
    )
    site = Site(catalogue, service, public=options.public)
    previews = None if options.public else PreviewHub(service, catalogue.root)

    shown = {"stamp": catalogue.snapshot.stamp}

    async def adopt(snapshot: Snapshot) -> None:
        """A snapshot was loaded (by the watcher or the poller, whichever saw the change
        first): workers load it, open previews follow it, once per snapshot."""
        site.warm_for(snapshot)
        if snapshot.stamp != shown["stamp"]:
            shown["stamp"] = snapshot.stamp
            # what authors wait for first: the catalogue's preparation (templates, titles,
            # cached PDFs located: 0.2 s at 1,000 sheets) runs beside the previews' renders
            preparing = asyncio.create_task(asyncio.to_thread(site.prepare, snapshot))
            if previews is not None:
                await previews.refresh(snapshot)
            await preparing
            # the previous snapshot and its templates' environment are garbage in cycles,
            # which Python's oldest generation collects rarely: each save left them behind
            settle_soon()

    settling: set[asyncio.Task[None]] = set()

    def settle_soon() -> None:
        """Settle a little later, once: a full collection holds the interpreter for tens of
        milliseconds, and just after a preview's update is when the browser asks for its new
        page images. Saves in a burst share one settling (at most one a SETTLE_DELAY)."""
        if not settling:
            task = asyncio.get_running_loop().create_task(_settle_later())
            settling.add(task)
            task.add_done_callback(settling.discard)

    async def _settle_later() -> None:
        await asyncio.sleep(SETTLE_DELAY)
        await asyncio.to_thread(settle)

    def warm_early(loop: asyncio.AbstractEventLoop) -> Callable[[str], None]:
        """What the catalogue calls, on its thread, with a new snapshot's stamp before loading
        it: the render workers load the project meanwhile."""

        def told(stamp: str) -> None:
            loop.call_soon_threadsafe(site.warm_stamp, stamp)

        return told

    async def on_change(paths: set[Path]) -> None:
        early = warm_early(asyncio.get_running_loop())
        _, after = await asyncio.to_thread(catalogue.refresh, early)
        await adopt(after)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.warm(str(catalogue.root), catalogue.snapshot.stamp)
        await asyncio.to_thread(site.prepare, catalogue.snapshot)
        # the event loop's own connection to the search index (each thread has one), opened
        # now rather than by the first search after a start (0.7 ms at 1,000 sheets)
        with contextlib.suppress(Exception):  # a damaged index is rebuilt by the next search
            index_for(catalogue.snapshot.search_file).generation()
        site.searches.start(catalogue.snapshot.search_file)
        await asyncio.to_thread(settle)
        stop = asyncio.Event()
        stop_polling = threading.Event()
        loop = asyncio.get_running_loop()

        def loaded(snapshot: Snapshot) -> None:  # on the poller's thread
            future = asyncio.run_coroutine_threadsafe(adopt(snapshot), loop)
            future.add_done_callback(_log_failure)

        poller = threading.Thread(
            target=catalogue.poll,
            args=(stop_polling, loaded, warm_early(loop)),
            name="recueil-poll",
            daemon=True,
        )
        poller.start()
        watcher = None
        if previews is not None and options.watch:
            watcher = asyncio.create_task(watch(catalogue.watched(), on_change, stop))
        retiring = asyncio.create_task(rest_when_idle(site, options.idle_seconds, stop))
        try:
            yield
        finally:
            stop.set()
            stop_polling.set()
            retiring.cancel()
            if watcher is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(watcher, timeout=5)
            site.searches.stop()
            service.close()

    routes = [
        Route("/", pages.home),
        Route("/recherche", pages.search),
        Route("/fiches/{slug}.pdf", downloads.sheet_pdf),
        Route("/fiches/{slug}/apercu.png", downloads.sheet_thumbnail),
        Route("/fiches/{slug}", pages.sheet),
        Route("/selection", pages.selection),
        Route("/selection/ajouter", pages.selection_add),
        Route("/selection.pdf", downloads.selection_pdf),
        Route("/recueils", pages.collections),
        Route("/recueils/{name}.pdf", downloads.collection_pdf),
        Route("/recueils/{name}", pages.collection),
        Route("/editions", pages.editions),
        Route("/editions/{version}/{path:path}", downloads.edition_file),
        Route("/editions/{version}", pages.edition),
        Route("/catalogue.json", downloads.catalogue_json),
        Route("/oai", oai.endpoint, methods=["GET", "POST"]),
        Route("/apercu/recueil/{name}/evenements", preview_pages.collection_events),
        Route("/apercu/recueil/{name}/page-{number:int}.png", preview_pages.collection_page_image),
        Route("/apercu/recueil/{name}", preview_pages.collection_preview),
        Route("/apercu/{slug}/evenements", preview_pages.sheet_events),
        Route("/apercu/{slug}/page-{number:int}.png", preview_pages.sheet_page_image),
        Route("/apercu/{slug}", preview_pages.sheet_preview),
        Route("/problemes/evenements", preview_pages.board_events),
        Route("/problemes", pages.problems),
        Route("/styles/{path:path}", downloads.style_file),
        Route("/site/{path:path}", downloads.site_file),
        Route("/medias/{path:path}", downloads.media_file),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard)],
        exception_handlers={HTTPException: pages.http_error, Exception: pages.server_error},
        lifespan=lifespan,
    )
    app.state.site = site
    app.state.previews = previews
    return app


def settle() -> None:
    """Collect what a previous state left, give the memory back, and freeze what lives on.

    The loaded project (1,000 sheets: some 70,000 objects) is out of reach of the collector
    until the next state, so the full collections that busy periods trigger walk only what
    requests made: one took 26 ms, and showed in the slowest answers under load."""
    gc.unfreeze()
    tasks.give_back_memory(collect=True)
    gc.freeze()


def _log_failure(future: Any) -> None:
    """A preview update started by the poller failed: say so, the next change tries again."""
    if not future.cancelled() and future.exception() is not None:
        logging.getLogger(__name__).error("preview update failed", exc_info=future.exception())


async def rest_when_idle(site: Site, idle: float, stop: asyncio.Event) -> None:
    """Every few seconds, stop the render workers (beyond the first) idle for ``idle`` s; when
    no request came for ``idle`` s, the server rests too (Site.rest): both give back the memory
    a busy period left, so a quiet server holds what it held once started."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(1.0, idle / 4))
        if stop.is_set():
            return
        retired = site.service.retire_idle(idle)
        quiet = not site.resting and time.monotonic() - site.last_request >= idle
        if quiet:
            site.rest()
        # a full collection holds the interpreter some 50 ms at 1,000 sheets: not while
        # requests come (they would all wait); a busy server settles when it goes quiet
        if quiet or (retired and time.monotonic() - site.last_request >= 1.0):
            await asyncio.to_thread(settle)


def app_from_environment() -> Starlette:
    """Factory for ``uvicorn --factory`` with several worker processes (``recueil serve``)."""
    return create_app(
        ServerOptions(
            root=Path(os.environ["RECUEIL_PROJECT"]),
            public=os.environ.get("RECUEIL_PUBLIC") == "1",
            jobs=int(os.environ.get("RECUEIL_JOBS", "2")),
            queue=int(os.environ.get("RECUEIL_QUEUE", "8")),
            idle_seconds=float(os.environ.get("RECUEIL_IDLE_SECONDS", "60")),
        )
    )
