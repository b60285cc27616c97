"""A project's catalogue as an OAI-PMH repository: its items, sets and deleted records.

Items are the notices of every sheet and declared collection. Sets are a two-level hierarchy:
``theme`` with one ``theme:CODE`` per theme (a sheet is in its main and secondary themes),
``kind`` with one ``kind:NAME`` per kind of document, ``collection`` with one
``collection:NAME`` per collection (a sheet is in each collection holding it, a collection's
own notice in its set). Deleted records are the sheets of the last edition that the catalogue
no longer has: their datestamp is the day the catalogue is asked, the day the deletion is
known to be in force (the repository keeps deletions "transient").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from recueil.records.notice import COLLECTION_PREFIX, Notice
from recueil.records.oai import Item, Repository
from recueil.sources.project import Project

#: names of the top-level sets
#: what a setSpec may not hold (OAI-PMH: unreserved characters of URIs, ':' between levels)
_NOT_SPEC = re.compile(r"[^A-Za-z0-9_.!~*'()-]")
SET_NAMES = {"theme": "Thématiques", "kind": "Types de document", "collection": "Recueils"}


def repository(
    project: Project,
    notices: Sequence[Notice],
    deleted: Iterable[str],
    base_url: str,
    now: dt.datetime | None = None,
    page_size: int = 25,
) -> Repository:
    """The repository answering at ``base_url`` (the /oai address) for these notices.

    ``deleted`` are the slugs of sheets removed since the last edition.
    """
    moment = now or dt.datetime.now(dt.UTC)
    holders: dict[str, list[str]] = {}
    for notice in notices:
        for link in notice.parts:
            holders.setdefault(link.identifier, []).append(
                notice.identifier.removeprefix(COLLECTION_PREFIX)
            )
    items = [
        Item(n.identifier, n.datestamp or moment.date(), _sets(n, holders), n) for n in notices
    ]
    known = {n.identifier for n in notices}
    items += [Item(slug, moment.date()) for slug in sorted(set(deleted) - known)]
    settings = project.settings
    host = urlsplit(settings.pdf_base_url or base_url).hostname or "localhost"
    sets: list[tuple[str, str]] = [("theme", SET_NAMES["theme"])]
    sets += [(f"theme:{_spec(t.code)}", t.label) for t in project.themes]
    sets.append(("kind", SET_NAMES["kind"]))
    sets += [(f"kind:{_spec(name)}", kind.label) for name, kind in project.kinds.items()]
    collections = [n for n in notices if n.is_collection]
    if collections:
        sets.append(("collection", SET_NAMES["collection"]))
        sets += [
            (f"collection:{_spec(n.identifier.removeprefix(COLLECTION_PREFIX))}", n.title)
            for n in collections
        ]
    return Repository(
        name=settings.title,
        base_url=base_url,
        admin_email=settings.oai_admin_email or f"webmaster@{_domain(host)}",
        namespace=host,
        items=items,
        sets=sets,
        page_size=page_size,
        now=moment,
    )


def _sets(notice: Notice, holders: dict[str, list[str]]) -> tuple[str, ...]:
    if notice.is_collection:
        return (
            "collection",
            f"collection:{_spec(notice.identifier.removeprefix(COLLECTION_PREFIX))}",
        )
    found = []
    if notice.theme_codes:
        found += ["theme", *(f"theme:{_spec(code)}" for code in notice.theme_codes)]
    found += ["kind", f"kind:{_spec(notice.kind)}"]
    names = holders.get(notice.identifier, [])
    if names:
        found += ["collection", *(f"collection:{_spec(name)}" for name in names)]
    return tuple(found)


def _domain(host: str) -> str:
    """A host name that an e-mail address accepts (OAI-PMH wants a dot in it)."""
    return host if "." in host else f"{host}.localdomain"


def _spec(name: str) -> str:
    """A name as one level of a setSpec (a character it may not hold becomes '-')."""
    return _NOT_SPEC.sub("-", name) or "-"
