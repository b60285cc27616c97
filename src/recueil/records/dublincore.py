"""Notices in Dublin Core: ``oai_dc`` for OAI-PMH, and an export with the qualified links.

Simple Dublin Core has fifteen elements; the crosswalk from UNIMARC is DOMAIN.md's (200 title,
210 $c publisher, 700/701/710 creator, 702/712 contributor, 606 and 610 subject, 607 coverage,
330 description, 101 language, 010 identifier). ``oai_dc`` admits only those fifteen, so the
link between a sheet and its collection is there a ``relation``. The export (``recueil records
--format dc``) also writes it as the DCMI term it refines, ``dcterms:isPartOf`` (and
``dcterms:hasPart`` on the collection), one ``record`` element per notice.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from recueil.records.notice import Notice

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
#: DCMI types of resources that are not text
_TYPES = {"podcast": "Sound", "vidéo": "MovingImage"}


def elements(notice: Notice) -> list[tuple[str, str]]:
    """The notice as (Dublin Core element, value) pairs, in the order of the fifteen."""
    found: list[tuple[str, str]] = []
    title = f"{notice.title} : {notice.subtitle}" if notice.subtitle else notice.title
    found.append(("title", title))
    found += [("creator", p.inverted) for p in notice.authors]
    found += [("creator", b.name) for b in notice.bodies]
    found += [("subject", s) for s in (*notice.subjects, *notice.keywords)]
    if notice.abstract:
        found.append(("description", notice.abstract))
    if notice.publisher:
        found.append(("publisher", notice.publisher))
    found += [("contributor", p.inverted) for p in notice.contributors]
    found += [("contributor", b.name) for b in notice.contributing_bodies]
    if notice.date:
        found.append(("date", notice.date.isoformat()))
    found.append(("type", _TYPES.get(notice.document_type, "Text")))
    found.append(("type", notice.kind_label))
    if notice.pdf is not None:
        found.append(("format", notice.pdf.media_type))
    if notice.extent:
        found.append(("format", notice.extent))
    found += [("identifier", o.url) for o in notice.online]
    if notice.page_url:
        found.append(("identifier", notice.page_url))
    if notice.isbn:
        found.append(("identifier", f"urn:isbn:{notice.isbn.replace('-', '')}"))
    found.append(("language", notice.language))
    found += [("relation", link.url or link.identifier) for link in notice.part_of]
    found += [("relation", link.url or link.identifier) for link in notice.parts]
    found += [("coverage", place) for place in notice.places]
    if notice.rights:
        found.append(("rights", notice.rights))
    return found


def oai_dc(notice: Notice) -> ET.Element:
    """The notice as an ``oai_dc:dc`` element (what OAI-PMH's ``oai_dc`` format is)."""
    _register()
    root = ET.Element(f"{{{OAI_DC_NS}}}dc")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    for name, value in elements(notice):
        ET.SubElement(root, f"{{{DC_NS}}}{name}").text = value
    return root


def export(notices: Sequence[Notice]) -> bytes:
    """The notices as one XML document: ``records``, one ``record`` per notice holding its
    Dublin Core elements and its qualified links (dcterms:isPartOf, dcterms:hasPart)."""
    _register()
    root = ET.Element("records")
    for notice in notices:
        record = ET.SubElement(root, "record", identifier=notice.identifier)
        for name, value in elements(notice):
            if name != "relation":
                ET.SubElement(record, f"{{{DC_NS}}}{name}").text = value
        for term, links in (("isPartOf", notice.part_of), ("hasPart", notice.parts)):
            for link in links:
                ET.SubElement(record, f"{{{DCTERMS_NS}}}{term}").text = link.url or link.identifier
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _register() -> None:
    """Prefixes to write the namespaces with (ElementTree keeps them process-wide)."""
    for prefix, uri in (
        ("dc", DC_NS), ("dcterms", DCTERMS_NS), ("oai_dc", OAI_DC_NS), ("xsi", XSI_NS)
    ):  # fmt: skip
        ET.register_namespace(prefix, uri)
