"""``/oai``: the catalogue's OAI-PMH 2.0 endpoint, for library catalogues that harvest it.

The protocol itself is records.oai; this module gathers the current snapshot's notices, the
sheets deleted since the last edition, and the addresses to write, then answers GET and POST
(``application/x-www-form-urlencoded``, as the specification allows) alike. The catalogue's
public address is the setting ``pdf_base_url`` when set (behind a reverse proxy the server
cannot see it), otherwise the address the request reached.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from recueil.edition.archive import ArchiveError
from recueil.records.pdf_files import Layout, with_slash
from recueil.records.scope import make_notices, project_scope
from recueil.serve.catalogue import Snapshot
from recueil.serve.site import site_of

#: largest POST body accepted (the same cap as a query string)
MAX_BODY_BYTES = 4096


async def endpoint(request: Request) -> Response:
    """Answer one OAI-PMH request."""
    site = site_of(request)
    snapshot = site.snapshot()
    if request.method == "POST":
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise HTTPException(413, "Requête trop longue.")
        text = body.decode("utf-8", errors="replace")
        params = parse_qsl(text, keep_blank_values=True)
    else:
        params = list(request.query_params.multi_items())
    base = catalogue_address(request, snapshot)
    answer = await asyncio.to_thread(_respond, snapshot, base, params)
    return Response(answer, media_type="text/xml; charset=utf-8")


def catalogue_address(request: Request, snapshot: Snapshot) -> str:
    """The catalogue's public address, ending with '/'."""
    return with_slash(snapshot.project.settings.pdf_base_url) or str(request.base_url)


def deleted_since_last_edition(snapshot: Snapshot) -> list[str]:
    """Slugs of the last edition's sheets that the catalogue no longer has (a sheet that only
    has errors for now is not deleted)."""
    archive = snapshot.archive
    try:
        latest = archive.latest()
        manifest = archive.manifest(latest) if latest else {}
    except (ArchiveError, OSError):
        return []
    slugs = [s.get("slug") for s in manifest.get("sheets", []) if isinstance(s, dict)]
    return [
        slug
        for slug in slugs
        if isinstance(slug, str) and slug not in snapshot.sheets and slug not in snapshot.failed
    ]


def _respond(snapshot: Snapshot, base: str, params: list[tuple[str, str]]) -> bytes:
    # the protocol and its formats (pymarc for UNIMARC) are loaded by the first harvest, not
    # by every server: most visitors are people, not library catalogues
    from recueil.records.oai_catalogue import repository

    project = snapshot.project
    scope = project_scope(project, list(snapshot.sheets.values()), snapshot.collections)
    layout = Layout(project.build_dir, base)
    notices, _ = make_notices(project, scope, layout)
    oai = repository(project, notices, deleted_since_last_edition(snapshot), base + "oai")
    return oai.respond(params)
