"""Notices as UNIMARC records, written by pymarc: ISO 2709 (what PMB imports) and XML.

ISO 2709 is written in UTF-8, as field 100 says (character set "50", ISO 10646). pymarc reads
and writes MARC 21 by default, so the leader is UNIMARC's own: positions 20-23 are "450 " and
position 9 is left blank (MARC 21 puts its encoding there). The XML is MARCXML (the MARC 21
"slim" schema, which any MARC tool reads) holding UNIMARC tags; its leader leaves blank what
describes the binary layout only (record length, base address, directory map), as that
schema allows.

Lengths are ISO 2709's: a field longer than 9,999 bytes is cut (charset.fit_bytes) and, in the
unlikely event that a record still exceeds 99,999 bytes, its last repeatable fields (keywords,
places, contributors, parts) are left out until it fits; both with a warning.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

from pymarc import Field, Indicators, Leader, MARCReader, Record, Subfield
from pymarc.marcxml import record_to_xml_node

from recueil.core.diagnostics import Diagnostic, warning
from recueil.records.charset import MAX_FIELD_BYTES, MAX_RECORD_BYTES, fit_bytes
from recueil.records.notice import Body, Link, Notice, Person

MARC_NS = "http://www.loc.gov/MARC21/slim"
MARC_SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
#: record type (6) by resource kind: a podcast is sound, a video projected, the rest text
_RECORD_TYPE = {"podcast": "i", "vidéo": "g"}
#: fields that may go, last first, when a record is too long for ISO 2709
_EXPENDABLE = ("610", "607", "702", "463", "606", "701")


def to_record(notice: Notice) -> tuple[Record, list[Diagnostic]]:
    """The UNIMARC record of a notice, and warnings about what did not fit."""
    record = Record(to_unicode=False, force_utf8=True)
    level = "1" if notice.parts else "2" if notice.part_of else "0"
    kind = _RECORD_TYPE.get(notice.document_type, "a")
    record.leader = Leader(f"00000n{kind}m{level} 2200000 i 450 ")
    problems: list[Diagnostic] = []
    record.fields.append(Field(tag="001", data=notice.identifier))
    if notice.datestamp:
        record.fields.append(Field(tag="005", data=f"{notice.datestamp:%Y%m%d}000000.0"))
    fields: list[Field] = []
    add = fields.append
    if notice.isbn:
        add(_field("010", "  ", ("a", notice.isbn)))
    add(_field("100", "  ", ("a", _general_data(notice))))
    add(_field("101", "0 ", ("a", notice.language)))
    add(_field("102", "  ", ("a", "FR")))
    add(_field("200", "1 ", ("a", notice.title), ("e", notice.subtitle), ("f", _statement(notice))))
    if notice.edition:
        add(_field("205", "  ", ("a", notice.edition), ("b", notice.edition_note)))
    year = f"{notice.date:%Y}" if notice.date else ""
    if notice.place or notice.publisher or year:
        add(_field("210", "  ", ("a", notice.place), ("c", notice.publisher), ("d", year)))
    if notice.extent:
        add(_field("215", "  ", ("a", notice.extent)))
    if notice.series:
        add(_field("225", "2 ", ("a", notice.series), ("v", notice.series_number)))
    add(_field("300", "  ", ("a", notice.kind_label)))
    if notice.abstract:
        add(_field("330", "  ", ("a", notice.abstract)))
    fields += [_link("461", link) for link in notice.part_of]
    fields += [_link("463", link) for link in notice.parts]
    fields += [_field("606", "  ", ("a", subject), ("2", "local")) for subject in notice.subjects]
    fields += [_field("607", "  ", ("a", place)) for place in notice.places]
    fields += [_field("610", "0 ", ("a", keyword)) for keyword in notice.keywords]
    for index, person in enumerate(notice.authors):
        fields.append(_person("700" if index == 0 else "701", person))
    fields += [_person("702", person) for person in notice.contributors]
    for index, body in enumerate(notice.bodies):
        fields.append(_body("710" if index == 0 else "711", body))
    fields += [_body("712", body) for body in notice.contributing_bodies]
    if notice.agency:
        stamp = f"{notice.datestamp:%Y%m%d}" if notice.datestamp else ""
        add(_field("801", " 0", ("a", "FR"), ("b", notice.agency), ("c", stamp)))
    for online in notice.online:
        size = str(online.size) if online.size is not None else ""
        add(
            _field(
                "856",
                "4 ",
                ("u", online.url),
                ("q", online.media_type),
                ("s", size),
                ("z", online.note),
            )
        )
    for item in sorted(fields, key=lambda f: f.tag):  # stable: same tags keep their order
        record.fields.append(_fit(item, notice, problems))
    _shorten(record, notice, problems)
    return record, problems


def iso2709(records: Iterable[Record]) -> bytes:
    """Records in ISO 2709, one after the other."""
    return b"".join(record.as_marc() for record in records)


def read_iso2709(data: bytes) -> list[Record]:
    """Records read back from ISO 2709 (UTF-8), for checks and tests."""
    reader = MARCReader(io.BytesIO(data), to_unicode=True, force_utf8=True)
    return [record for record in reader if record is not None]


def xml_record(record: Record) -> ET.Element:
    """One record as a MARCXML ``record`` element, in the MARC namespace."""
    node: ET.Element = record_to_xml_node(record)  # type: ignore[no-untyped-call]
    for element in node.iter():
        element.tag = f"{{{MARC_NS}}}{element.tag}"
    leader = node.find(f"{{{MARC_NS}}}leader")
    assert leader is not None and leader.text is not None
    leader.text = "     " + leader.text[5:12] + "     " + leader.text[17:20] + "    "
    return node


def xml_collection(records: Sequence[Record]) -> bytes:
    """Records as a MARCXML ``collection`` document."""
    ET.register_namespace("marc", MARC_NS)
    ET.register_namespace("xsi", XSI_NS)
    root = ET.Element(f"{{{MARC_NS}}}collection")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{MARC_NS} {MARC_SCHEMA}")
    root.extend(xml_record(record) for record in records)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _general_data(notice: Notice) -> str:
    """100 $a, 36 positions: date entered, dates of publication, audience, languages, sets."""
    entered = f"{notice.datestamp:%Y%m%d}" if notice.datestamp else "        "
    year = f"{notice.date:%Y}" if notice.date else "    "
    # d: monograph complete when issued; k: adult, serious; y: not a government publication;
    # 0: record not modified; fre: language of cataloguing; y: no transliteration;
    # 50: ISO 10646 (Unicode); ba: title in Latin script
    value = f"{entered}d{year}    k  y0frey50      ba"
    assert len(value) == 36, value
    return value


def _statement(notice: Notice) -> str:
    """200 $f: the first statement of responsibility, as the title page would give it."""
    names = [p.name for p in notice.authors] or [b.name for b in notice.bodies]
    return ", ".join(names)


def _field(tag: str, indicators: str, *subfields: tuple[str, str]) -> Field:
    return Field(
        tag=tag,
        indicators=Indicators(indicators[0], indicators[1]),
        subfields=[Subfield(code, value) for code, value in subfields if value],
    )


def _link(tag: str, link: Link) -> Field:
    """461/463 with the standard subfields technique: $t title, $v position, $0 identifier."""
    return _field(tag, " 1", ("t", link.title), ("v", link.position), ("0", link.identifier))


def _person(tag: str, person: Person) -> Field:
    return _field(tag, " 1", ("a", person.surname), ("b", person.forename), ("4", person.relator))


def _body(tag: str, body: Body) -> Field:
    return _field(tag, "02", ("a", body.name), ("4", body.relator))


def _length(item: Field) -> int:
    return len(item.as_marc(encoding="utf-8"))


def _fit(item: Field, notice: Notice, problems: list[Diagnostic]) -> Field:
    """The field, its longest subfield cut until the field fits ISO 2709's 9,999 bytes."""
    while _length(item) > MAX_FIELD_BYTES:
        longest = max(range(len(item.subfields)), key=lambda i: len(item.subfields[i].value))
        value = item.subfields[longest].value
        excess = _length(item) - MAX_FIELD_BYTES
        limit = max(len(value.encode("utf-8")) - excess, 4)
        item.subfields[longest] = Subfield(item.subfields[longest].code, fit_bytes(value, limit))
        problems.append(
            warning(
                notice.source,
                None,
                f"record: UNIMARC {item.tag} is longer than ISO 2709 allows "
                f"({MAX_FIELD_BYTES:,} bytes): it is cut",
            )
        )
    return item


def _shorten(record: Record, notice: Notice, problems: list[Diagnostic]) -> None:
    """Leave repeatable fields out, last first, until the record fits 99,999 bytes."""
    removed: list[str] = []
    while len(record.as_marc()) > MAX_RECORD_BYTES:
        present = [f for f in record.fields if f.tag in _EXPENDABLE]
        if not present:
            break
        victim = min(present, key=lambda f: _EXPENDABLE.index(f.tag))
        last = [f for f in present if f.tag == victim.tag][-1]
        record.remove_field(last)
        removed.append(last.tag)
    if removed:
        tags = ", ".join(sorted(set(removed)))
        problems.append(
            warning(
                notice.source,
                None,
                f"record: too long for ISO 2709 ({MAX_RECORD_BYTES:,} bytes): {len(removed)} "
                f"field(s) left out ({tags})",
            )
        )
