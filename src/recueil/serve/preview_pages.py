"""The preview's pages (local mode only): a sheet's or a collection's pages, live.

``/apercu/SLUG`` and ``/apercu/recueil/NAME`` show every page as an image, exactly as printed
(the PDF's pages rasterised by pdfium, at twice the displayed size for sharp high-density
screens), with the diagnostics beside them; ``…/evenements`` is the stream of new states the
page's script follows, and ``…/page-N.png?v=VERSION`` one page's image.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from recueil.serve import tasks
from recueil.serve.files import Payload, etag_of, send
from recueil.serve.preview import Preview, PreviewHub
from recueil.serve.site import Site, site_of

#: displayed width of a page in the preview, in CSS pixels; images are twice as wide
PAGE_WIDTH = 620
#: page images by page fingerprint and width: a page an edit left alone keeps its image
_IMAGES: OrderedDict[tuple[str, int], bytes] = OrderedDict()
_IMAGES_LOCK = threading.Lock()
#: images of pages no open preview shows any more, kept for an undo (the latest ones only):
#: each save made one or two (about 95 KB each), and keeping 600 of any kind grew the server
#: by some 40 MB over an author's 200 saves
KEPT_STALE = 24
#: all the images together, in bytes, whatever the previews show
IMAGE_BYTES = 96 * 1024 * 1024


def hub_of(request: Request) -> PreviewHub:
    """The preview hub, or 404 in public mode (previews are for the editor)."""
    site = site_of(request)
    hub: PreviewHub | None = request.app.state.previews
    if site.public or hub is None:
        raise HTTPException(404, "Page introuvable.")
    return hub


async def sheet_preview(request: Request) -> Response:
    hub = hub_of(request)
    site = site_of(request)
    snapshot = site.snapshot()
    slug = request.path_params["slug"]
    if slug not in snapshot.sheets and slug not in snapshot.failed:
        raise HTTPException(404, "Cette fiche n’existe pas.")
    preview = await hub.sheet(snapshot, slug)
    return _page(site, request, preview, f"/apercu/{slug}", "la fiche " + slug)


async def collection_preview(request: Request) -> Response:
    hub = hub_of(request)
    site = site_of(request)
    snapshot = site.snapshot()
    name = request.path_params["name"]
    if snapshot.collection(name) is None:
        raise HTTPException(404, "Ce recueil n’existe pas.")
    preview = await hub.collection(snapshot, name)
    return _page(site, request, preview, f"/apercu/recueil/{name}", "le recueil " + name)


async def sheet_events(request: Request) -> Response:
    hub = hub_of(request)
    preview = hub.sheets.get(request.path_params["slug"])
    if preview is None:
        raise HTTPException(404, "Aucun aperçu ouvert.")
    return _stream(request, hub, preview)


async def collection_events(request: Request) -> Response:
    hub = hub_of(request)
    preview = hub.collections.get(request.path_params["name"])
    if preview is None:
        raise HTTPException(404, "Aucun aperçu ouvert.")
    return _stream(request, hub, preview)


async def board_events(request: Request) -> Response:
    """The dashboard's stream: one event each time the project's files change."""
    hub = hub_of(request)
    hub.board.version = hub.board.version or site_of(request).snapshot().stamp
    return _stream(request, hub, hub.board)


async def sheet_page_image(request: Request) -> Response:
    hub = hub_of(request)
    return await _image(request, hub.sheets.get(request.path_params["slug"]))


async def collection_page_image(request: Request) -> Response:
    hub = hub_of(request)
    return await _image(request, hub.collections.get(request.path_params["name"]))


def _page(site: Site, request: Request, preview: Preview, base: str, what: str) -> Response:
    return site.page(
        request,
        "apercu.html",
        preview=preview,
        base=base,
        what=what,
        width=PAGE_WIDTH,
        collection=base.startswith("/apercu/recueil/"),
    )


def _stream(request: Request, hub: PreviewHub, preview: Preview) -> Response:
    async def events() -> AsyncIterator[str]:
        async for state in hub.follow(preview):
            if await request.is_disconnected():
                break
            yield f"data: {state}\n\n" if state else ": waiting\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _image(request: Request, preview: Preview | None) -> Response:
    number = int(request.path_params["number"])
    if preview is None or preview.pdf is None or not 1 <= number <= preview.pages:
        raise HTTPException(404, "Cette page n’existe pas.")
    small = request.query_params.get("taille") == "vignette"
    width = 360 if small else PAGE_WIDTH * 2  # the vignette is the catalogue's thumbnail
    key = (preview.page_versions[number - 1], width)
    with _IMAGES_LOCK:
        data = _IMAGES.get(key)
        if data is not None:
            _IMAGES.move_to_end(key)  # the byte limit drops the least recently shown first
    if data is None:
        pdf, index = preview.sources[number - 1]
        data = await asyncio.to_thread(_render_page, pdf, width, index)
        with _IMAGES_LOCK:
            _IMAGES[key] = data
            _forget_stale(hub_of(request))
    return send(request, Payload(data, etag_of(data)), "image/png", max_age=3600)


def _forget_stale(hub: PreviewHub) -> None:
    """Keep the images of the pages open previews show, the KEPT_STALE latest others, and
    under IMAGE_BYTES in all (oldest first). Called with the lock held."""
    previews = (*hub.sheets.values(), *hub.collections.values())
    shown = {version for preview in previews for version in preview.page_versions}
    stale = [key for key in _IMAGES if key[0] not in shown]
    for key in stale[: max(0, len(stale) - KEPT_STALE)]:
        del _IMAGES[key]
    total = sum(len(data) for data in _IMAGES.values())
    while total > IMAGE_BYTES and len(_IMAGES) > 1:
        total -= len(_IMAGES.popitem(last=False)[1])


def _render_page(pdf: bytes, width: int, index: int) -> bytes:
    from recueil.serve.downloads import _PDFIUM

    with _PDFIUM:
        return tasks.page_image(pdf, width, index)
