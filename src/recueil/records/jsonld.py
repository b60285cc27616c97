"""Notices as schema.org JSON-LD: in each sheet's web page, and as an export.

Search engines and reference managers read schema.org: a sheet is a ``Report`` (experience
sheets and seminar syntheses are reports by non-governmental bodies), a resource notice a
``CreativeWork``, a collection a ``Book``. The PDF is the work's ``encoding``.

In a web page the data sits in ``<script type="application/ld+json">``: a data block, never
executed, so the catalogue's Content-Security-Policy (``script-src 'self'``) does not apply to
it. Its text must still not close the element early: ``<``, ``>`` and ``&`` are written as
JSON escapes (``\\u003c``…), which JSON readers decode back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from recueil.records.mapping import PDF
from recueil.records.notice import Link, Notice, Person

CONTEXT = "https://schema.org"
#: BCP 47 of the ISO 639-2/B codes written in UNIMARC 101
_LANGUAGES = {"fre": "fr", "eng": "en", "ger": "de", "spa": "es", "ita": "it", "por": "pt"}


def _type(notice: Notice) -> str:
    if notice.is_collection:
        return "Book"
    return "CreativeWork" if notice.kind == "resource" else "Report"


def _person(person: Person) -> dict[str, Any]:
    data = {"@type": "Person", "name": person.name, "familyName": person.surname}
    if person.forename:
        data["givenName"] = person.forename
    return data


def _link(link: Link, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": kind, "identifier": link.identifier, "name": link.title}
    if link.url:
        data["@id"] = link.url
        data["url"] = link.url
    if link.position:
        data["pagination"] = link.position.removeprefix("p. ")
    return data


def describe(notice: Notice) -> dict[str, Any]:
    """The notice as a schema.org node (without ``@context``)."""
    data: dict[str, Any] = {"@type": _type(notice)}
    if notice.page_url:
        data["@id"] = notice.page_url
        data["url"] = notice.page_url
    data["identifier"] = notice.identifier
    data["name"] = notice.title
    if notice.subtitle:
        data["alternativeHeadline"] = notice.subtitle
    if notice.abstract:
        data["abstract"] = notice.abstract
    authors: list[dict[str, Any]] = [_person(p) for p in notice.authors]
    authors += [{"@type": "Organization", "name": b.name} for b in notice.bodies]
    if authors:
        data["author"] = authors
    contributors: list[dict[str, Any]] = [_person(p) for p in notice.contributors]
    contributors += [{"@type": "Organization", "name": b.name} for b in notice.contributing_bodies]
    if contributors:
        data["contributor"] = contributors
    if notice.publisher:
        data["publisher"] = {"@type": "Organization", "name": notice.publisher}
    if notice.date:
        data["datePublished"] = notice.date.isoformat()
    if notice.datestamp:
        data["dateModified"] = notice.datestamp.isoformat()
    data["inLanguage"] = _LANGUAGES.get(notice.language, notice.language)
    if notice.subjects:
        data["about"] = [{"@type": "Thing", "name": s} for s in notice.subjects]
    if notice.keywords:
        data["keywords"] = list(notice.keywords)
    if notice.places:
        data["spatialCoverage"] = [{"@type": "Place", "name": p} for p in notice.places]
    if notice.edition:
        data["bookEdition" if notice.is_collection else "version"] = notice.edition
    if notice.isbn:
        data["isbn"] = notice.isbn
    if notice.extent.endswith(" p."):
        data["numberOfPages"] = int(notice.extent.removesuffix(" p.").strip() or 0)
    if notice.pdf is not None:
        encoding: dict[str, Any] = {
            "@type": "MediaObject", "contentUrl": notice.pdf.url, "encodingFormat": PDF,
        }  # fmt: skip
        if notice.pdf.size is not None:
            encoding["contentSize"] = f"{notice.pdf.size} B"
        data["encoding"] = encoding
    if notice.part_of:
        data["isPartOf"] = [_link(link, "Book") for link in notice.part_of]
    if notice.parts:
        data["hasPart"] = [_link(link, "Report") for link in notice.parts]
    if notice.series:
        data["isPartOf"] = [
            *data.get("isPartOf", []),
            {"@type": "CreativeWorkSeries", "name": notice.series},
        ]
    if notice.rights:
        data["license"] = notice.rights
    return data


def document(notices: Sequence[Notice]) -> bytes:
    """The notices as one JSON-LD document (``@graph``), UTF-8, indented."""
    data = {"@context": CONTEXT, "@graph": [describe(n) for n in notices]}
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def script_text(notice: Notice) -> str:
    """The notice's JSON-LD as the text of a ``<script type="application/ld+json">``."""
    data = {"@context": CONTEXT, **describe(notice)}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
