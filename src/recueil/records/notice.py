"""A notice: what a library catalogue records of a sheet or a collection, format-neutral.

mapping.py fills it from the sources; unimarc.py, dublincore.py, csvexport.py and jsonld.py
write it. Each field is named after what it means, with its UNIMARC tag beside it (the README's
"Library records" section has the whole crosswalk). Every text is already clean (charset.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: identifiers of collection notices start with this (a slug cannot hold ':')
COLLECTION_PREFIX = "recueil:"
#: the notice kind of a collection (sheets have their own kind's name)
COLLECTION_KIND = "collection"

#: UNIMARC relator codes used, and how a French catalogue names them
RELATORS = {
    "070": "auteur",
    "340": "éditeur scientifique",
    "557": "organisateur",
    "605": "intervenant",
    "651": "directeur de publication",
}


@dataclass(frozen=True)
class Person:
    """A person responsible for the document (700, 701, 702)."""

    forename: str
    surname: str
    relator: str = "070"

    @property
    def name(self) -> str:
        """'Forename Surname', as written in the source."""
        return f"{self.forename} {self.surname}".strip()

    @property
    def inverted(self) -> str:
        """'Surname, Forename', as catalogues sort names (Dublin Core creator)."""
        return f"{self.surname}, {self.forename}" if self.forename else self.surname


@dataclass(frozen=True)
class Body:
    """A corporate body responsible for the document (710, 711, 712)."""

    name: str
    relator: str = "070"


@dataclass(frozen=True)
class Link:
    """Another notice this one is linked to (461 part of a set, 463 part of this set)."""

    identifier: str
    title: str
    #: where the part lies in the set, e.g. "p. 12-15" (463 $v)
    position: str = ""
    #: the linked notice's web address, when the catalogue's address is known
    url: str = ""


@dataclass(frozen=True)
class Online:
    """An electronic location of the document (856)."""

    url: str
    media_type: str = ""
    size: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Notice:
    """One catalogue notice; empty values are left out of every format."""

    identifier: str  # 001
    kind: str
    kind_label: str  # 300
    title: str  # 200 $a
    #: a resource's type (podcast, vidéo…): leader position 6, Dublin Core type
    document_type: str = ""
    subtitle: str = ""  # 200 $e
    edition: str = ""  # 205 $a
    edition_note: str = ""  # 205 $b
    place: str = ""  # 210 $a
    publisher: str = ""  # 210 $c
    date: dt.date | None = None  # 210 $d (year), 100 $a
    #: date of the last change (005, OAI-PMH datestamp): the sheet's update, else its date
    datestamp: dt.date | None = None
    extent: str = ""  # 215 $a
    series: str = ""  # 225 $a
    series_number: str = ""  # 225 $v
    isbn: str = ""  # 010 $a
    language: str = "fre"  # 101 $a
    abstract: str = ""  # 330 $a
    subjects: tuple[str, ...] = ()  # 606 $a: themes
    theme_codes: tuple[str, ...] = ()  # (OAI-PMH sets)
    places: tuple[str, ...] = ()  # 607 $a
    keywords: tuple[str, ...] = ()  # 610 $a
    authors: tuple[Person, ...] = ()  # 700 (the first), 701
    contributors: tuple[Person, ...] = ()  # 702
    bodies: tuple[Body, ...] = ()  # 710 (the first), 711
    contributing_bodies: tuple[Body, ...] = ()  # 712
    agency: str = ""  # 801 $b
    online: tuple[Online, ...] = ()  # 856
    part_of: tuple[Link, ...] = ()  # 461
    parts: tuple[Link, ...] = ()  # 463
    rights: str = ""  # (Dublin Core rights, schema.org license)
    #: the notice's web page in the catalogue, when its address is known
    page_url: str = ""
    #: the file the notice comes from, for messages
    source: str = ""

    @property
    def is_collection(self) -> bool:
        """A collection's notice rather than a sheet's."""
        return self.kind == COLLECTION_KIND

    @property
    def pdf(self) -> Online | None:
        """The document's own PDF, when it has an address."""
        return next((o for o in self.online if o.media_type == "application/pdf"), None)
