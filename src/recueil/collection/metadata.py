"""A collection's document information: title, author, keywords, dates, language, identifier
(and for an edition, the PDF/A claim with the edition's date)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, NameObject, TextStringObject

from recueil.collection.definition import Collection, Group
from recueil.render.pdfa import claim_pdfa
from recueil.sources.edition_label import Edition
from recueil.sources.project import Project


def describe(
    writer: PdfWriter,
    frame: PdfReader,
    project: Project,
    collection: Collection,
    groups: Sequence[Group],
    edition: Edition | None,
) -> None:
    """Set the document information of an assembled collection (``frame``: its first
    generated document, whose output intent an edition's PDF/A claim reuses)."""
    meta = collection.meta
    date: dt.date = meta["date"]
    codes = {g.key for g in groups if g.theme}
    keywords = sorted({t.label for t in project.themes if t.code in codes})
    if edition is not None:
        claim_pdfa(
            writer,
            frame,
            title=meta["title"],
            authors=[meta["colophon"]["publisher"]],
            subject=meta.get("subtitle", meta["title"]),
            keywords=", ".join(keywords),
            language=project.settings.language,
            date=edition.date,
        )
        identity = (meta["title"], edition.version, str(edition.date))
        digest = hashlib.sha256(repr(identity).encode()).digest()[:16]
        writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
        return
    writer.add_metadata(
        {
            "/Title": meta["title"],
            "/Author": meta["colophon"]["publisher"],
            "/Subject": meta.get("subtitle", meta["title"]),
            "/Keywords": ", ".join(keywords),
            "/Creator": "recueil",
            "/Producer": "recueil (WeasyPrint, pypdf)",
            "/CreationDate": f"D:{date:%Y%m%d}",
            "/ModDate": f"D:{date:%Y%m%d}",
        }
    )
    writer._root_object[NameObject("/Lang")] = TextStringObject(project.settings.language)
    digest = hashlib.sha256(repr((meta["title"], str(date))).encode()).digest()[:16]
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
