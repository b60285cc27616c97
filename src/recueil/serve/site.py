"""What every page and download of the catalogue shares: the project, the renders, the look.

Web pages are Jinja templates of their own (``defaults/web/``, overridable by a project's
``web/`` folder), with the same French typography as the printed sheets, the same fonts, theme
colours and pictograms, and no third-party asset.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from recueil.markup.fragment import GOTO, VIRTUAL_ROOT
from recueil.render.template import make_environment, typography_options
from recueil.serve import search_facets, search_snippets
from recueil.serve.catalogue import Catalogue, Snapshot, sheet_facts
from recueil.serve.files import FileHashes
from recueil.serve.memo import Memo
from recueil.serve.renders import RenderService
from recueil.serve.search import index_for
from recueil.serve.search_process import SearchProcess
from recueil.serve.shelf import Shelf
from recueil.sources.project import defaults_dir
from recueil.sources.sheet import Sheet

#: the web templates and their stylesheet
WEB_DIR = "web"
_ARTICLE = re.compile(r"<article\b[^>]*>(.*)</article>", re.S)
#: a style attribute's name and value (the whitespace before it is checked apart: a pattern
#: starting with a literal is found by a fast scan, one starting with ``\s`` is tried at
#: every character, 95 against 16 microseconds for a sheet's article)
_STYLE_VALUE = re.compile(r"""style=(?:"[^"]*"|'[^']*')""")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: sheets' articles kept for the current snapshot (some 10 KB each; made again beyond)
ARTICLES_KEPT = 1024
#: search result pages kept for the current snapshot and index (some 30 KB each)
SEARCH_PAGES_KEPT = 256
#: the folders of the build cache where the server keeps what it makes for visitors
SHELVED = ("selections", "thumbnails")


@dataclass
class Site:
    """The catalogue server's shared state."""

    catalogue: Catalogue
    service: RenderService
    public: bool = False

    def __post_init__(self) -> None:
        self.files = FileHashes()
        self._env: tuple[str, jinja2.Environment] | None = None
        self._articles: tuple[str, OrderedDict[str, Markup]] = ("", OrderedDict())
        self._lock = threading.Lock()
        self._shelf: Shelf | None = None
        self.searches = SearchProcess()
        #: search result pages, by snapshot, index generation, query string and selection size
        self.search_pages: Memo[tuple[str, str, str, int], bytes] = Memo(SEARCH_PAGES_KEPT)
        self.last_request = time.monotonic()
        self.resting = False
        self._warmed = self.catalogue.snapshot.stamp  # the lifespan warms the first one
        self._tasks: set[asyncio.Task[None]] = set()

    def snapshot(self) -> Snapshot:
        """The current view of the project; a new one has the render workers load it at once,
        so that the first render asked after a change does not wait for that."""
        self.last_request = time.monotonic()  # every request asks for it first
        self.resting = False
        snapshot = self.catalogue.current()
        self.warm_for(snapshot)
        return snapshot

    def rest(self) -> None:
        """No request for a while: forget what is kept in memory to answer faster (files
        downloaded, sheets' articles, search snippets and pages). All of it is made again from the
        files on the next requests, in milliseconds; until then the server holds only the
        project, like the first minute after it started."""
        self.resting = True
        self.files.clear()
        with self._lock:
            self._articles = ("", OrderedDict())
        search_snippets.forget()
        self.search_pages.clear()
        search_facets.forget()
        self.searches.stop()

    def warm_for(self, snapshot: Snapshot) -> None:
        """Have the render workers load ``snapshot`` if they have not yet (called on the event
        loop: by a request, or by the poller as soon as it has loaded a new snapshot)."""
        self.warm_stamp(snapshot.stamp)

    def warm_stamp(self, stamp: str) -> None:
        """Have the render workers load the project as of ``stamp`` (on the event loop; the
        catalogue tells it before loading that snapshot itself: Catalogue.refresh)."""
        if stamp != self._warmed:
            self._warmed = stamp
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to warm for
                task = asyncio.get_running_loop().create_task(self._warm(stamp))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _warm(self, stamp: str) -> None:
        try:
            await self.service.warm(str(self.catalogue.root), stamp, every=False)
        except Exception:  # a worker lost while warming is replaced by the next render
            return

    def env(self, snapshot: Snapshot) -> jinja2.Environment:
        """The web templates' environment, made again when files other than the sources
        change (templates, styles, settings: the first part of a snapshot's stamp); an edited
        sheet keeps the compiled templates."""
        context = snapshot.stamp.split("-", 1)[0]
        if self._env is None or self._env[0] != context:
            project = snapshot.project
            folders = tuple(
                d for d in (project.root / WEB_DIR, defaults_dir() / WEB_DIR) if d.is_dir()
            )
            env = make_environment(folders, project.settings.language, typography_options(project))
            env.globals.update(  # what every page shows of the project: once per snapshot
                url=_url,
                settings=project.settings,
                themes={t.code: t for t in project.themes},
                pictos=project.pictograms(),  # looks at files: not once per page
                kinds={name: kind.label for name, kind in project.kinds.items()},
            )
            self._env = (context, env)
        return self._env[1]

    def prepare(self, snapshot: Snapshot) -> None:
        """Locate the sheets' cached PDFs (Snapshot.locate_pdfs), compile the web templates
        and typeset what result cards print (titles, numbers, places, keywords) now, off the event
        loop: a page's first request paid for its template, and a title's French typography
        takes some 0.15 ms the first time, so the first searches after a start waited for
        twenty of them each. The environment keeps both while only sources change: after an
        edit, only the new titles are typeset."""
        snapshot.locate_pdfs()
        env = self.env(snapshot)
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)
        # the index's facet table (20 to 40 ms at 1,000 sheets) is read now, not by the first
        # search, which twenty visitors' searches queued behind on the event loop; so are the
        # links of every facet value and the numbers and values the facets print: the first
        # searches after a start took twice as long as the next ones
        index = snapshot.search_file
        values: list[tuple[str, str]] = []
        with contextlib.suppress(Exception):  # a damaged index is rebuilt by the next search
            facets = index_for(index).search("", per_page=1).facets
            values = [(facet.name, item.value) for facet in facets for item in facet.values]
        for name, value in values:
            query_pair(name, value)
        typeset = env.filters.get("typeset_value")
        if typeset is None:  # not French: values are printed as they are
            return
        for value in (*range(len(snapshot.sheets) + 1), *(value for _, value in values)):
            typeset(value)
        for sheet in snapshot.sheets.values():
            facts = sheet_facts(sheet)
            for value in (
                sheet.title,
                sheet.slug,  # "n° SLUG" under each card
                *facts["keywords"],
                *(v for v in facts["territory"].values() if isinstance(v, str)),
            ):
                typeset(value)

    def page(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """An HTML page, with what every page shows (site title, themes, selection size)."""
        snapshot = self.snapshot()
        base = {
            "request": request,
            "public": self.public,
            "selection_size": len(self.selection_cookie(request, snapshot)),
        }
        html = self.env(snapshot).get_template(template).render(**base, **context)
        return HTMLResponse(html, status_code=status)

    # -- sheets

    def sheet(self, snapshot: Snapshot, slug: str) -> Sheet:
        """The visible sheet with that slug, or 404."""
        sheet = snapshot.sheets.get(slug) if _SLUG.match(slug) else None
        if sheet is None:
            raise HTTPException(404, "Cette fiche n’existe pas.")
        return sheet

    def article(self, snapshot: Snapshot, sheet: Sheet) -> Markup:
        """The sheet's printed article as web HTML: links to pages, images from /medias/
        (the last ARTICLES_KEPT of the current snapshot are kept: some 10 KB each)."""
        with self._lock:
            stamp, kept = self._articles
            if stamp != snapshot.stamp:
                kept = OrderedDict()
                self._articles = (snapshot.stamp, kept)
            found = kept.get(sheet.slug)
        if found is None:
            found = self._article(snapshot, sheet)
            with self._lock:
                kept[sheet.slug] = found
                while len(kept) > ARTICLES_KEPT:
                    kept.popitem(last=False)
        return found

    def _article(self, snapshot: Snapshot, sheet: Sheet) -> Markup:
        html = snapshot.page_html(sheet)
        found = _ARTICLE.search(html)
        inner = found.group(1) if found else ""
        # the page's Content-Security-Policy allows no style attribute: the print template's
        # (theme colour, band pictogram) come from the catalogue's own stylesheets instead
        inner = without_styles(inner)
        inner = inner.replace(GOTO + "sheet-", "/fiches/")
        inner = inner.replace(VIRTUAL_ROOT + "styles/", "/styles/")
        return Markup(inner.replace(VIRTUAL_ROOT, "/medias/"))

    # -- the visitor's selection

    def selection_from(self, params: QueryParams, snapshot: Snapshot) -> list[str]:
        """The slugs of a selection URL, checked: known, unique, within the cap (else 4xx)."""
        slugs = params.getlist("fiche")
        cap = snapshot.project.settings.max_selection_sheets
        if len(slugs) > cap:
            raise HTTPException(400, f"Une sélection compte au plus {cap} fiches.")
        unique = list(dict.fromkeys(slugs))
        unknown = [s for s in unique if not _SLUG.match(s) or s not in snapshot.sheets]
        if unknown:
            raise HTTPException(404, "Une fiche de la sélection n’existe pas.")
        return unique

    def selection_cookie(self, request: Request, snapshot: Snapshot) -> list[str]:
        """The selection kept in the browser (a cookie), with unknown slugs left out."""
        raw = request.cookies.get("selection", "")
        slugs = [s for s in raw.split(".") if _SLUG.match(s) and s in snapshot.sheets]
        return list(dict.fromkeys(slugs))[: snapshot.project.settings.max_selection_sheets]

    def selection_key(self, snapshot: Snapshot, slugs: Sequence[str], title: str) -> str:
        """Cache key of a selection's PDF: its sheets' renders, title and day."""
        parts = [snapshot.key(snapshot.sheets[s]) for s in slugs]
        parts += [title, dt.date.today().isoformat(), snapshot.stamp]
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()

    def cache_folder(self, snapshot: Snapshot, name: str) -> Path:
        """A folder of the build cache for what the server makes (SHELVED: selections, page
        images)."""
        return snapshot.project.build_dir / ".cache" / "serve" / name

    def shelf(self, snapshot: Snapshot) -> Shelf:
        """The folders of what the server makes for visitors, kept under the project's
        ``serve_cache_mb`` together (shelf.py); made again when either setting changes."""
        folders = tuple(self.cache_folder(snapshot, name) for name in SHELVED)
        ceiling = snapshot.project.settings.serve_cache_mb * 1_000_000
        with self._lock:
            shelf = self._shelf
            if shelf is None or shelf.folders != folders or shelf.ceiling != ceiling:
                shelf = self._shelf = Shelf(folders, ceiling)
        return shelf


@lru_cache(maxsize=4096)
def query_pair(name: str, value: str) -> str:
    """``name=value`` in a query string: the same facet values are linked on every search
    page (some 90 links), and encoding them was a tenth of a new search's page."""
    return urlencode([(name, value)])


def _url(path: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None) -> str:
    """A URL with its query string (values that are lists repeat the name)."""
    if not params:
        return path
    items: list[tuple[str, Any]] = []
    pairs = params.items() if isinstance(params, Mapping) else params
    for name, value in pairs:
        if isinstance(value, list | tuple):
            items += [(name, v) for v in value]
        elif value not in (None, ""):
            items.append((name, value))
    return f"{path}?{urlencode(items)}" if items else path


def site_of(request: Request) -> Site:
    """The site a request belongs to."""
    site: Site = request.app.state.site
    return site


def without_styles(html: str) -> str:
    """``html`` without its style attributes, each with the whitespace before it."""
    kept, done, at = [], 0, 0
    while (found := _STYLE_VALUE.search(html, at)) is not None:
        start = found.start()
        if start and html[start - 1].isspace():
            kept.append(html[done : start - 1])
            done = at = found.end()
        else:  # "data-style=", "xstyle=": not a style attribute
            at = start + 1
    kept.append(html[done:])
    return "".join(kept)
