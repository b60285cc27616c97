"""From sources to notices: which front-matter field feeds which part of a catalogue notice.

The crosswalk follows the shared domain notes (DOMAIN.md, "Catalogue") and is tabled in the
README ("Library records"). A sheet lacking a field that a notice needs (its date, its
abstract, a responsible person or body, its theme) still gets a notice without it, and a
warning naming the sheet, the field and the UNIMARC tag left out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from recueil.collection.definition import Collection
from recueil.core.diagnostics import Diagnostic
from recueil.records.charset import Cleaner
from recueil.records.notice import (
    COLLECTION_KIND,
    COLLECTION_PREFIX,
    Body,
    Link,
    Notice,
    Online,
    Person,
)
from recueil.records.pdf_files import Layout, PdfFile
from recueil.sources.project import Project
from recueil.sources.sheet import Sheet

PDF = "application/pdf"
#: BCP 47 languages of the settings → ISO 639-2/B codes of UNIMARC 101
LANGUAGES = {
    "fr": "fre", "en": "eng", "de": "ger", "es": "spa", "it": "ita", "pt": "por",
    "nl": "dut", "ar": "ara", "br": "bre", "oc": "oci", "ca": "cat", "eu": "baq",
}  # fmt: skip
#: what a sheet's notice needs: (fields that can give it, UNIMARC tag, what it is)
REQUIRED = (
    (("date",), "210 $d", "publication date"),
    (("chapo", "abstract"), "330", "abstract"),
    (("authors", "resource_centre"), "700/710", "responsibility"),
    (("theme",), "606", "subject"),
)
_POSTCODE_CITY = re.compile(r"\b\d{5}\s+(.+?)\s*$")
_PARENTHESES = re.compile(r"\([^)]*\)")


def sheet_notice(
    project: Project,
    sheet: Sheet,
    layout: Layout,
    part_of: Sequence[Link] = (),
    edition: str = "",
) -> tuple[Notice, list[Diagnostic]]:
    """The notice of one sheet, and the warnings about what it lacks or had to change."""
    meta = sheet.meta
    settings = project.settings
    clean = Cleaner(sheet.rel)
    for names, tag, what in REQUIRED:
        if not any(meta.get(name) for name in names):
            fields = " nor ".join(f"'{name}'" for name in names)
            clean.warn(f"no field {fields}: the notice is written without UNIMARC {tag} ({what})")
    centre = clean.text(meta.get("resource_centre", ""), "resource_centre", "710")
    publisher = centre or clean.text(settings.publisher, "publisher", "210")
    pdf = layout.sheet(sheet.slug)
    themes = [meta.get("theme"), *meta.get("secondary_themes", [])]
    labels = {t.code: t.label for t in project.themes}
    codes = tuple(dict.fromkeys(str(c) for c in themes if c in labels))
    kind = project.kinds.get(sheet.kind)
    notice = Notice(
        identifier=sheet.slug,
        kind=sheet.kind,
        kind_label=clean.text(kind.label if kind else sheet.kind, "kind", "300"),
        document_type=str(meta.get("resource_type", "")),
        title=clean.text(sheet.title, "title", "200"),
        subtitle=clean.text(meta.get("subtitle", ""), "subtitle", "200"),
        edition=edition,
        place=_city(settings.publisher_address) if publisher == settings.publisher else "",
        publisher=publisher,
        date=_date(meta.get("date")),
        datestamp=_date(meta.get("updated")) or _date(meta.get("date")),
        extent=_extent(meta, pdf, clean),
        series=clean.text(settings.title, "title", "225"),
        series_number=sheet.slug,
        language=language_code(settings.language),
        abstract=clean.text(meta.get("chapo") or meta.get("abstract") or "", "chapo", "330"),
        subjects=tuple(clean.text(labels[c], "theme", "606") for c in codes),
        theme_codes=codes,
        places=_places(meta, clean),
        keywords=tuple(dict.fromkeys(clean.texts(meta.get("keywords"), "keywords", "610"))),
        authors=tuple(
            _person(a, "070") for a in clean.texts(meta.get("authors"), "authors", "700")
        ),
        contributors=tuple(
            _person(clean.text(s.get("name", ""), "speakers", "702"), "605")
            for s in meta.get("speakers", [])
            if isinstance(s, Mapping) and s.get("name")
        ),
        bodies=(Body(centre, "070"),) if centre else (),
        contributing_bodies=tuple(
            Body(name, "557") for name in clean.texts(meta.get("organisers"), "organisers", "712")
        ),
        agency=clean.text(settings.publisher or centre, "publisher", "801"),
        online=_online(pdf, clean.text(meta.get("url", ""), "url", "856")),
        part_of=tuple(part_of),
        page_url=layout.sheet_page(sheet.slug),
        source=sheet.rel,
    )
    return notice, clean.diagnostics


def collection_notice(
    project: Project,
    collection: Collection,
    sheets: Sequence[Sheet],
    layout: Layout,
    pages: Mapping[str, tuple[int, int]] | None = None,
    edition: str = "",
) -> tuple[Notice, list[Diagnostic]]:
    """The notice of a collection, linked to each of its sheets (463) in printed order."""
    meta = collection.meta
    colophon: Mapping[str, Any] = meta.get("colophon", {})
    clean = Cleaner(collection.source)
    pdf = layout.collection(collection.name)
    labels = {t.code: t.label for t in project.themes}
    used = {s.meta.get("theme") for s in sheets}
    codes = tuple(t.code for t in project.themes if t.code in used)
    changes = (_date(s.meta.get("updated")) or _date(s.meta.get("date")) for s in sheets)
    stamps = [d for d in changes if d is not None]
    label = clean.text(meta.get("edition", ""), "edition", "205")
    parts = []
    for sheet in sheets:
        first, last = (pages or {}).get(sheet.slug, (0, 0))
        position = (f"p. {first}" if first == last else f"p. {first}-{last}") if first else ""
        title = clean.text(sheet.title, "title", "463")
        parts.append(Link(sheet.slug, title, position, layout.sheet_page(sheet.slug)))
    notice = Notice(
        identifier=COLLECTION_PREFIX + collection.name,
        kind=COLLECTION_KIND,
        kind_label="Recueil",
        title=clean.text(collection.title, "title", "200"),
        subtitle=clean.text(meta.get("subtitle", ""), "subtitle", "200"),
        edition=label or edition,
        edition_note=edition if label else "",
        place=_city(str(colophon.get("publisher_address", ""))),
        publisher=clean.text(colophon.get("publisher", ""), "colophon.publisher", "210"),
        date=collection.date,
        datestamp=max([collection.date, *stamps]),
        extent=f"{pdf.pages} p." if pdf.pages else "",
        isbn=clean.text(colophon.get("isbn", ""), "colophon.isbn", "010"),
        language=language_code(project.settings.language),
        abstract=clean.text(meta.get("blurb", ""), "blurb", "330"),
        subjects=tuple(clean.text(labels[c], "theme", "606") for c in codes),
        theme_codes=codes,
        contributors=(
            *(_person(n, "651") for n in clean.texts(colophon.get("director"), "director", "702")),
            *(_person(n, "340") for n in clean.texts(colophon.get("editors"), "editors", "702")),
        ),
        agency=clean.text(
            project.settings.publisher or colophon.get("publisher", ""), "publisher", "801"
        ),
        online=_online(pdf, ""),
        parts=tuple(parts),
        rights=clean.text(colophon.get("licence", ""), "colophon.licence", "-"),
        page_url=layout.collection_page(collection.name),
        source=collection.source,
    )
    return notice, clean.diagnostics


def collection_link(collection: Collection, layout: Layout, position: str = "") -> Link:
    """How a sheet's notice points to a collection holding it (461)."""
    return Link(
        COLLECTION_PREFIX + collection.name,
        collection.title,
        position,
        layout.collection_page(collection.name),
    )


def language_code(language: str) -> str:
    """The ISO 639-2/B code of a BCP 47 language ('fr-FR' → 'fre'); 'und' when unknown."""
    primary = language.split("-")[0].lower()
    if primary in LANGUAGES:
        return LANGUAGES[primary]
    return primary if re.fullmatch(r"[a-z]{3}", primary) else "und"


def split_name(text: str) -> tuple[str, str]:
    """'Sophie Berthier, chargée de mission (personnage fictif)' → ('Sophie', 'Berthier').

    The name is what precedes the first comma, without parentheses; its first word is the
    forename (a compound one keeps its hyphen: 'Pierre-Yves'), the rest the surname (particles
    included: 'Le Roux')."""
    name = " ".join(_PARENTHESES.sub(" ", text.split(",")[0]).split())
    forename, _, surname = name.partition(" ")
    return (forename, surname) if surname else ("", forename)


def _person(text: str, relator: str) -> Person:
    forename, surname = split_name(text)
    return Person(forename, surname, relator)


def _date(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


def _city(address: str) -> str:
    """The city of a postal address ('12 rue de l'Exemple, 75000 Paris' → 'Paris')."""
    found = _POSTCODE_CITY.search(address)
    if found:
        return found.group(1)
    return address.split(",")[-1].strip() if "," in address else ""


def _extent(meta: Mapping[str, Any], pdf: PdfFile, clean: Cleaner) -> str:
    """215 $a: a resource's own pages or duration, else the pages of the sheet's PDF."""
    if meta.get("pages"):
        return f"{meta['pages']} p."
    if meta.get("duration"):
        return clean.text(meta["duration"], "duration", "215")
    return f"{pdf.pages} p." if pdf.pages else ""


def _places(meta: Mapping[str, Any], clean: Cleaner) -> tuple[str, ...]:
    """607: the territory from the widest to the narrowest (region, département, communes,
    neighbourhoods), or the region of kinds without a territory."""
    territory = meta.get("territory")
    found: list[str] = []
    if isinstance(territory, Mapping):
        for key in ("region", "departement"):
            found += clean.texts(territory.get(key), f"territory.{key}", "607")
        for key in ("communes", "neighbourhoods"):
            found += clean.texts(territory.get(key), f"territory.{key}", "607")
    else:
        found += clean.texts(meta.get("region"), "region", "607")
    return tuple(dict.fromkeys(found))


def _online(pdf: PdfFile, other: str) -> tuple[Online, ...]:
    """856: the PDF (address, format, size), and the resource's own address if it has one."""
    found = []
    if pdf.url:
        found.append(Online(pdf.url, PDF, pdf.size))
    if other:
        found.append(Online(other, "", None, "Ressource en ligne"))
    return tuple(found)
