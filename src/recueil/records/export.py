"""The record formats, by name: what ``recueil records --format`` and editions write.

Each format turns a list of notices into the bytes of one file; the UNIMARC ones may add
warnings (a field or a record too long for ISO 2709). Files are written atomically by the
caller (core.atomic), so a failed export never leaves half a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pymarc import Record

from recueil.core.diagnostics import Diagnostic
from recueil.records import csvexport, dublincore, jsonld, unimarc
from recueil.records.notice import Notice


@dataclass(frozen=True)
class Format:
    """One record format: its name, the file name it is written under, its media type."""

    name: str
    file_name: str
    media_type: str
    write: Callable[[Sequence[Notice]], tuple[bytes, list[Diagnostic]]]


def _unimarc(notices: Sequence[Notice]) -> tuple[bytes, list[Diagnostic]]:
    records, problems = _records(notices)
    return unimarc.iso2709(records), problems


def _unimarcxml(notices: Sequence[Notice]) -> tuple[bytes, list[Diagnostic]]:
    records, problems = _records(notices)
    return unimarc.xml_collection(records), problems


def _records(notices: Sequence[Notice]) -> tuple[list[Record], list[Diagnostic]]:
    records = []
    problems: list[Diagnostic] = []
    for notice in notices:
        record, found = unimarc.to_record(notice)
        records.append(record)
        problems += found
    return records, problems


FORMATS = {
    f.name: f
    for f in (
        Format("unimarc", "notices.mrc", "application/marc", _unimarc),
        Format("unimarcxml", "notices.unimarc.xml", "application/xml", _unimarcxml),
        Format("dc", "notices.dc.xml", "application/xml", lambda n: (dublincore.export(n), [])),
        Format(
            "csv", "notices.csv", "text/csv; charset=utf-8", lambda n: (csvexport.export(n), [])
        ),
        Format(
            "jsonld", "notices.jsonld", "application/ld+json", lambda n: (jsonld.document(n), [])
        ),
    )
}


def export(notices: Sequence[Notice], name: str) -> tuple[bytes, list[Diagnostic]]:
    """The notices in the format ``name`` (a key of FORMATS), and warnings."""
    return FORMATS[name].write(notices)
