"""What the catalogue sends as files: sheet, selection, collection and edition PDFs, page
images, styles and images, and the machine-readable catalogue.

Every file is found through the catalogue (slug → sheet, name → collection, version → edition
manifest) or inside a known folder by :func:`files.safe_file`; nothing else of the disk is
reachable. Renders that are missing are asked of the render service, which may answer busy
(503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from recueil.collection.declared import collection_output, variant_output
from recueil.core.atomic import write_atomic
from recueil.edition.archive import SUMS
from recueil.render.print_styles import VARIANT
from recueil.serve import tasks
from recueil.serve.catalogue import Snapshot, sheet_facts
from recueil.serve.files import Payload, etag_of, safe_file, send
from recueil.serve.renders import Busy, WorkerLost
from recueil.serve.site import Site, site_of
from recueil.sources.project import defaults_dir

PDF = "application/pdf"
EDITION_SUFFIXES = (".pdf", ".json", ".md", ".txt", ".csv", ".xml", ".mrc", ".jsonld")
EDITION_MEDIA = {
    ".pdf": PDF, ".json": "application/json", ".md": "text/markdown; charset=utf-8",
    ".xml": "application/xml", ".csv": "text/csv; charset=utf-8",
    ".mrc": "application/marc", ".jsonld": "application/ld+json",
}  # fmt: skip
THUMBNAIL_WIDTH = 360
STYLE_SUFFIXES = (".css", ".svg", ".otf", ".ttf", ".woff", ".woff2", ".png")
MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
#: pdfium is not thread-safe: one page image at a time
_PDFIUM = threading.Lock()


async def sheet_pdf(request: Request) -> Response:
    """``/fiches/SLUG.pdf``: from the render cache, or rendered now by a warm worker."""
    site = site_of(request)
    snapshot = site.snapshot()
    sheet = site.sheet(snapshot, request.path_params["slug"])
    if snapshot.located(sheet):
        payload = snapshot.cached_pdf(sheet)  # ~100 KB from the page cache: less than a thread hop
    else:
        payload = await asyncio.to_thread(snapshot.cached_pdf, sheet)
    if payload is None:
        outcome = await _render(
            site.service.run(
                ("sheet", snapshot.stamp, sheet.slug),
                tasks.render_sheet,
                str(site.catalogue.root),
                snapshot.stamp,
                sheet.slug,
            )
        )
        payload = snapshot.remember_pdf(sheet, outcome)
    return send(request, payload, PDF, filename=f"{sheet.slug}.pdf")


async def sheet_thumbnail(request: Request) -> Response:
    """``/fiches/SLUG/apercu.png``: the first page, as the catalogue and the preview show it."""
    site = site_of(request)
    snapshot = site.snapshot()
    sheet = site.sheet(snapshot, request.path_params["slug"])
    pdf = await asyncio.to_thread(snapshot.cached_pdf, sheet)
    if pdf is None:
        raise HTTPException(404, "L’aperçu de cette fiche n’est pas encore prêt.")
    path = site.cache_folder(snapshot, "thumbnails") / f"{pdf.etag.strip(chr(34))}.png"
    payload = _shelved(site, snapshot, path)
    if payload is None:
        data = await asyncio.to_thread(_thumbnail, pdf.data)
        payload = await asyncio.to_thread(_shelve, site, snapshot, path, data)
    return send(request, payload, "image/png", max_age=3600)


async def selection_pdf(request: Request) -> Response:
    """``/selection.pdf?fiche=…&titre=…``: the visitor's selection as a collection."""
    site = site_of(request)
    snapshot = site.snapshot()
    slugs = site.selection_from(request.query_params, snapshot)
    if not slugs:
        raise HTTPException(400, "La sélection est vide.")
    title = (request.query_params.get("titre") or "Ma sélection de fiches").strip()[:120]
    key = await asyncio.to_thread(site.selection_key, snapshot, slugs, title)
    path = site.cache_folder(snapshot, "selections") / f"{key}.pdf"
    payload = _shelved(site, snapshot, path)
    if payload is None:
        data = await _render(
            site.service.run(
                ("selection", key),
                tasks.assemble_selection,
                str(site.catalogue.root),
                snapshot.stamp,
                tuple(slugs),
                title,
            )
        )
        payload = await asyncio.to_thread(_shelve, site, snapshot, path, data)
    return send(request, payload, PDF, filename="selection.pdf", inline=False)


def _shelved(site: Site, snapshot: Snapshot, path: Path) -> Payload | None:
    """A file the server made before (a selection, a page image), marked as used; None when
    it is not on disk (never made, or deleted to keep the folders under their ceiling: shelf.py)."""
    try:
        payload = site.files.payload(path)
    except FileNotFoundError:
        return None
    site.shelf(snapshot).used(path)
    return payload


def _shelve(site: Site, snapshot: Snapshot, path: Path, data: bytes) -> Payload:
    """Write a file just made, and keep its folders under their ceiling (shelf.py)."""
    write_atomic(path, data)
    site.shelf(snapshot).added(path, len(data))
    try:
        return site.files.payload(path)
    except FileNotFoundError:  # another server process cleaned its folder meanwhile
        return Payload(data, etag_of(data))


async def collection_pdf(request: Request) -> Response:
    """``/recueils/NAME.pdf`` and ``/recueils/NAME-imprimeur.pdf``: as the last build wrote them."""
    site = site_of(request)
    snapshot = site.snapshot()
    name = request.path_params["name"]
    variant = ""
    if name.endswith("-imprimeur"):
        name, variant = name.removesuffix("-imprimeur"), VARIANT
    collection = snapshot.collection(name)
    if collection is None:
        raise HTTPException(404, "Ce recueil n’existe pas.")
    path = variant_output(collection_output(snapshot.project, collection), variant)
    try:
        payload = await asyncio.to_thread(site.files.payload, path)
    except OSError:
        raise HTTPException(404, "Ce recueil n’a pas encore été construit.") from None
    return send(request, payload, PDF, filename=path.name)


async def edition_file(request: Request) -> Response:
    """``/editions/VERSION/PATH``: a file an edition's manifest lists (its checksums too)."""
    site = site_of(request)
    snapshot = site.snapshot()
    version, relative = request.path_params["version"], request.path_params["path"]
    archive = snapshot.archive
    if version not in archive.versions():
        raise HTTPException(404, "Cette édition n’existe pas.")
    folder = archive.path(version)
    if relative != SUMS and relative not in _listed(folder):
        raise HTTPException(404, "Ce fichier n’appartient pas à l’édition.")
    path = safe_file(folder, relative, (*EDITION_SUFFIXES, ""))
    if path is None:
        raise HTTPException(404, "Ce fichier n’appartient pas à l’édition.")
    media = EDITION_MEDIA.get(path.suffix, "text/plain; charset=utf-8")
    payload = await asyncio.to_thread(site.files.payload, path)
    return send(request, payload, media, filename=path.name, max_age=86400)


async def catalogue_json(request: Request) -> Response:
    """``/catalogue.json``: every visible sheet, with the URLs of its page and its PDF."""
    site = site_of(request)
    snapshot = site.snapshot()
    base = str(request.base_url).rstrip("/")
    sheets = []
    for sheet in snapshot.sheets.values():
        facts = sheet_facts(sheet)
        facts["page"] = f"{base}/fiches/{sheet.slug}"
        facts["pdf"] = f"{base}/fiches/{sheet.slug}.pdf"
        sheets.append(facts)
    data = {"title": snapshot.project.settings.title, "sheets": sheets}
    body = json.dumps(data, ensure_ascii=False, indent=1).encode()
    return send(request, Payload(body, etag_of(body)), "application/json", max_age=60)


async def style_file(request: Request) -> Response:
    """``/styles/PATH``: fonts, pictograms and stylesheets of the project or the defaults."""
    site = site_of(request)
    snapshot = site.snapshot()
    for folder in snapshot.project.style_dirs:
        path = safe_file(folder, request.path_params["path"], STYLE_SUFFIXES)
        if path is not None:
            return _static(request, site.files.payload(path), path.suffix)
    raise HTTPException(404, "Fichier introuvable.")


async def site_file(request: Request) -> Response:
    """``/site/PATH``: the web pages' own stylesheet and script; ``themes.css`` is made from
    themes.yaml (a class a theme: the Content-Security-Policy forbids inline styles)."""
    site = site_of(request)
    snapshot = site.snapshot()
    if request.path_params["path"] == "themes.css":
        pictos = snapshot.project.pictograms()
        rules = "".join(
            f".theme-{t.code} {{ --theme: {t.colour}; }}\n"
            + (
                f".theme-{t.code} .band .picto {{ background: var(--theme) "
                f"url('/styles/pictos/{t.code}.svg') center / 70% no-repeat; }}\n"
                if t.code in pictos
                else ""
            )
            for t in snapshot.project.themes
        )
        body = rules.encode()
        return send(request, Payload(body, etag_of(body)), "text/css; charset=utf-8", max_age=300)
    for folder in (snapshot.project.root / "web", defaults_dir() / "web"):
        path = safe_file(folder, request.path_params["path"], (".css", ".js", ".svg"))
        if path is not None:
            return _static(request, site.files.payload(path), path.suffix)
    raise HTTPException(404, "Fichier introuvable.")


async def media_file(request: Request) -> Response:
    """``/medias/PATH``: images of the project that the sheets show."""
    site = site_of(request)
    snapshot = site.snapshot()
    path = safe_file(snapshot.project.content_dir, request.path_params["path"], MEDIA_SUFFIXES)
    if path is None:
        root = snapshot.project.root
        path = safe_file(root, request.path_params["path"], MEDIA_SUFFIXES)
    if path is None:
        raise HTTPException(404, "Image introuvable.")
    return _static(request, site.files.payload(path), path.suffix)


def _static(request: Request, payload: Payload, suffix: str) -> Response:
    media = {
        ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
        ".svg": "image/svg+xml", ".otf": "font/otf", ".ttf": "font/ttf", ".woff": "font/woff",
        ".woff2": "font/woff2", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
        ".gif": "image/gif", ".webp": "image/webp",
    }[suffix.lower()]  # fmt: skip
    return send(request, payload, media, max_age=3600)


async def _render(pending: object) -> bytes:
    """Await a render; busy → 503 + Retry-After, failure → 500 (no detail for the public)."""
    try:
        outcome = await pending  # type: ignore[misc]
    except Busy as busy:
        raise HTTPException(
            503, "Le serveur est occupé, réessayez dans un instant.",
            headers={"Retry-After": str(busy.retry_after)},
        ) from None  # fmt: skip
    except WorkerLost:
        raise HTTPException(500, "La fabrication du PDF a échoué.") from None
    if outcome.data is None:
        status = 503 if outcome.timed_out else 500
        raise HTTPException(status, "La fabrication du PDF a échoué.")
    data: bytes = outcome.data
    return data


def _listed(folder: Path) -> set[str]:
    """The files an edition's checksums list: the only ones the server sends of it."""
    try:
        lines = (folder / SUMS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return set()
    return {line.split("  ", 1)[1] for line in lines if "  " in line}


def _thumbnail(pdf: bytes) -> bytes:
    with _PDFIUM:
        return tasks.page_image(pdf, THUMBNAIL_WIDTH)
