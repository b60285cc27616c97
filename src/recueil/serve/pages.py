"""The catalogue's HTML pages: home, search, a sheet, the selection, collections, editions.

Every page works without JavaScript: the state of a search or a selection is in its URL (a
selection is also kept in a cookie so that "Ajouter à ma sélection" works from any page), and
every action is a link or a GET form.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from recueil.serve.linked_data import sheet_json_ld
from recueil.serve.search import FACETS, index_for
from recueil.serve.site import _url, query_pair, site_of

logger = logging.getLogger("recueil.serve")
FACET_LABELS = {
    "theme": "Thématique", "kind": "Type de document", "region": "Région",
    "departement": "Département", "cite": "Cité éducative", "status": "Statut",
    "year": "Année", "keyword": "Mot-clé",
}  # fmt: skip
MAX_QUERY = 500
PER_PAGE = 20
COOKIE_DAYS = 180


async def home(request: Request) -> Response:
    site = site_of(request)
    snapshot = site.snapshot()
    counts: dict[str, int] = {}
    for sheet in snapshot.sheets.values():
        counts[sheet.meta.get("theme", "")] = counts.get(sheet.meta.get("theme", ""), 0) + 1
    latest = sorted(
        snapshot.sheets.values(),
        key=lambda s: str(s.meta.get("updated") or s.meta.get("date")),
        reverse=True,
    )[:6]
    return site.page(
        request,
        "home.html",
        theme_counts=counts,
        collections=snapshot.collections,
        latest=latest,
        total=len(snapshot.sheets),
    )


async def search(request: Request) -> Response:
    site = site_of(request)
    snapshot = site.snapshot()
    params = request.query_params
    query = params.get("q", "")
    if len(query) > MAX_QUERY:
        raise HTTPException(400, "La recherche est trop longue.")
    unknown = set(params) - {"q", "page", *FACETS}
    if unknown:
        raise HTTPException(400, "Ce filtre n’existe pas.")
    filters = {name: params.getlist(name) for name in FACETS if params.getlist(name)}
    try:
        page = max(1, min(int(params.get("page", "1")), 10_000))
    except ValueError:
        raise HTTPException(400, "Numéro de page invalide.") from None
    index = index_for(snapshot.search_file)
    # the same search asked again (a shared link, a popular word, the facet pages people
    # browse) is the same page while neither the project nor the index changed
    key = (snapshot.stamp, index.generation(), str(request.url.query),
           len(site.selection_cookie(request, snapshot)))  # fmt: skip
    kept = site.search_pages.get(key)
    if kept is not None:
        return HTMLResponse(kept)

    # in the search process, on the other core (search_process.py); on the event loop when
    # it is not there: less than handing the search to a thread and taking the lock back
    results = await site.searches.search(snapshot.search_file, query, filters, page, PER_PAGE)
    if results is None:
        results = index.search(query, filters, page=page, per_page=PER_PAGE)
    state = [(name, value) for name in FACETS for value in filters.get(name, [])]

    current = _url("/recherche", [("q", query), *state])
    joiner = "&" if "?" in current else "?"

    def toggle(name: str, value: str) -> str:
        """The URL with this facet value added, or removed when it is on (page 1 again).
        Adding is the current URL and one more pair (a page shows some 90 of these links)."""
        if (name, value) not in state:
            return f"{current}{joiner}{query_pair(name, value)}"
        pairs = [(n, v) for n, v in state if (n, v) != (name, value)]
        return _url("/recherche", [("q", query), *pairs])

    def page_link(number: int) -> str:
        return _url("/recherche", [("q", query), *state, ("page", number)])

    answer = site.page(
        request,
        "search.html",
        query=query,
        results=results,
        filters=filters,
        state=state,
        facet_labels=FACET_LABELS,
        toggle=toggle,
        page_link=page_link,
    )
    site.search_pages.put(key, bytes(answer.body))
    return answer


async def sheet(request: Request) -> Response:
    site = site_of(request)
    snapshot = site.snapshot()
    slug = request.path_params["slug"]
    if slug not in snapshot.sheets and not site.public and slug in snapshot.failed:
        failed = snapshot.failed[slug]
        problems = [d for d in snapshot.problems if d.path == failed.rel]
        return site.page(request, "broken.html", status=404, failed=failed, problems=problems)
    found = site.sheet(snapshot, slug)

    def parts() -> tuple[Markup, tuple[int, int] | None, Markup]:  # one trip off the loop
        article = site.article(snapshot, found)
        return article, snapshot.pdf_facts(found), sheet_json_ld(request, snapshot, found)

    article, pdf, json_ld = await asyncio.to_thread(parts)
    return site.page(
        request,
        "sheet.html",
        sheet=found,
        json_ld=json_ld,
        meta=found.meta,
        article=article,
        pdf=pdf,
        theme=next((t for t in snapshot.project.themes if t.code == found.meta.get("theme")), None),
        in_selection=found.slug in site.selection_cookie(request, snapshot),
    )


async def selection(request: Request) -> Response:
    site = site_of(request)
    snapshot = site.snapshot()
    params = request.query_params
    if "fiche" not in params and "titre" not in params:
        kept = site.selection_cookie(request, snapshot)
        if kept:
            return RedirectResponse(_selection_url(kept, ""), status_code=303)
    slugs = site.selection_from(params, snapshot)
    title = (params.get("titre") or "").strip()[:120]
    response = site.page(
        request,
        "selection.html",
        sheets=[snapshot.sheets[s] for s in slugs],
        slugs=slugs,
        title=title,
        cap=snapshot.project.settings.max_selection_sheets,
    )
    _keep(response, slugs)
    return response


async def selection_add(request: Request) -> Response:
    """Add one sheet to the selection kept in the browser, then show the selection."""
    site = site_of(request)
    snapshot = site.snapshot()
    slug = request.query_params.get("fiche", "")
    site.sheet(snapshot, slug)
    slugs = site.selection_cookie(request, snapshot)
    if slug not in slugs:
        if len(slugs) >= snapshot.project.settings.max_selection_sheets:
            raise HTTPException(400, "La sélection est complète.")
        slugs.append(slug)
    response = RedirectResponse(_selection_url(slugs, ""), status_code=303)
    _keep(response, slugs)
    return response


async def collections(request: Request) -> Response:
    site = site_of(request)
    snapshot = site.snapshot()
    return site.page(request, "collections.html", collections=snapshot.collections)


async def collection(request: Request) -> Response:
    site = site_of(request)
    snapshot = site.snapshot()
    found = snapshot.collection(request.path_params["name"])
    if found is None:
        raise HTTPException(404, "Ce recueil n’existe pas.")
    from recueil.collection.declared import collection_output, variant_output
    from recueil.render.print_styles import VARIANT

    files = []
    for variant, label in (("", "Version écran"), (VARIANT, "Version imprimeur")):
        path = variant_output(collection_output(snapshot.project, found), variant)
        if path.is_file():
            files.append((label, f"/recueils/{path.stem}.pdf", path.stat().st_size, _pages(path)))
    return site.page(request, "collection.html", collection=found, meta=found.meta, files=files)


async def editions(request: Request) -> Response:
    site = site_of(request)
    snapshot = site.snapshot()
    archive = snapshot.archive
    listed = [(v, archive.manifest(v)) for v in reversed(archive.versions())]
    return site.page(request, "editions.html", editions=listed)


async def edition(request: Request) -> Response:
    site = site_of(request)
    snapshot = site.snapshot()
    version = request.path_params["version"]
    archive = snapshot.archive
    if version not in archive.versions():
        raise HTTPException(404, "Cette édition n’existe pas.")
    manifest = archive.manifest(version)
    folder = archive.path(version)
    files = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and
        not p.name.startswith(".")
    )  # fmt: skip
    return site.page(request, "edition.html", version=version, manifest=manifest, files=files)


async def problems(request: Request) -> Response:
    site = site_of(request)
    if site.public:
        raise HTTPException(404, "Page introuvable.")
    snapshot = site.snapshot()
    previews = {s.rel: slug for slug, s in snapshot.sheets.items()}
    previews.update({f.rel: slug for slug, f in snapshot.failed.items()})
    return site.page(
        request,
        "problems.html",
        problems=snapshot.problems,
        previews=previews,
        stamp=snapshot.stamp,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    site = site_of(request)
    message = exc.detail if exc.status_code < 500 or not site.public else "Erreur du serveur."
    response = site.page(
        request, "error.html", status=exc.status_code, status_code=exc.status_code,
        message=message,
    )  # fmt: skip
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    """A bug: logged for the editor, a plain page for the visitor (no traceback, no path)."""
    logger.error("error while answering %s", request.url.path, exc_info=exc)
    return Response("Erreur du serveur.", status_code=500, media_type="text/plain; charset=utf-8")


def _selection_url(slugs: list[str], title: str) -> str:
    return _url("/selection", [("fiche", slugs), ("titre", title)])


def _keep(response: Response, slugs: list[str]) -> None:
    response.set_cookie(
        "selection", ".".join(slugs), max_age=COOKIE_DAYS * 86400, httponly=True,
        samesite="lax",
    )  # fmt: skip


def _pages(path: Any) -> int:
    from pypdf import PdfReader

    try:
        return len(PdfReader(path).pages)
    except Exception:  # a file being replaced: the count is only informative
        return 0
