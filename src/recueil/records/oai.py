"""The OAI-PMH 2.0 protocol over notices, independent of any web framework.

A :class:`Repository` holds the items (a notice each, or none for a deleted record), their
sets and the metadata formats, and answers a request given as its list of (argument, value)
pairs with the bytes of the XML response, as the specification
(http://www.openarchives.org/OAI/openarchivesprotocol.html) describes it:

- the six verbs, each with the arguments it requires, allows, or takes exclusively
  (``resumptionToken``), every other one being a ``badArgument``, a missing or unknown or
  repeated verb a ``badVerb``;
- datestamps to the day (granularity YYYY-MM-DD): an item's is the date its sheet was last
  updated; ``from`` and ``until`` select by it, and a finer or malformed value is a
  ``badArgument``;
- lists cut into pages with resumption tokens that carry the request itself (no state on the
  server, so any worker process can continue any harvest), with the list's size and cursor;
- sets as a hierarchy (``theme:parentalite`` is inside ``theme``);
- deleted records kept "transient": the sheets of the last edition that are no longer in the
  catalogue are answered with a deleted header, for as long as that edition is the last one.

The error answers carry the codes of section 3.6; ``badVerb`` and ``badArgument`` answers echo
no attribute of the request, as the specification asks.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from recueil.records import dublincore, unimarc
from recueil.records.notice import Notice
from recueil.records.oai_tokens import BadToken, Token

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
GRANULARITY = "YYYY-MM-DD"
#: per verb: the arguments it requires, and those it allows besides (resumptionToken is
#: exclusive: with it, nothing else is allowed)
VERBS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Identify": ((), ()),
    "ListMetadataFormats": ((), ("identifier",)),
    "ListSets": ((), ("resumptionToken",)),
    "GetRecord": (("identifier", "metadataPrefix"), ()),
    "ListIdentifiers": (("metadataPrefix",), ("from", "until", "set", "resumptionToken")),
    "ListRecords": (("metadataPrefix",), ("from", "until", "set", "resumptionToken")),
}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class MetadataFormat:
    """A metadata format the repository disseminates."""

    prefix: str
    schema: str
    namespace: str
    write: Callable[[Notice], ET.Element]


def _unimarc_xml(notice: Notice) -> ET.Element:
    record, _ = unimarc.to_record(notice)
    element = unimarc.xml_record(record)
    element.set(f"{{{XSI_NS}}}schemaLocation", f"{unimarc.MARC_NS} {unimarc.MARC_SCHEMA}")
    return element


FORMATS = {
    f.prefix: f
    for f in (
        MetadataFormat("oai_dc", dublincore.OAI_DC_SCHEMA, dublincore.OAI_DC_NS, dublincore.oai_dc),
        MetadataFormat("unimarcxml", unimarc.MARC_SCHEMA, unimarc.MARC_NS, _unimarc_xml),
    )
}


@dataclass(frozen=True)
class Item:
    """One record of the repository; ``notice`` is None for a deleted one."""

    identifier: str
    datestamp: dt.date
    sets: tuple[str, ...] = ()
    notice: Notice | None = None
    #: the prefixes it can be disseminated in (all by default)
    formats: tuple[str, ...] = tuple(FORMATS)


class OaiError(Exception):
    """A protocol error: its code (section 3.6) and a message for the harvester's operator."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Repository:
    """The items of a catalogue, answering OAI-PMH requests."""

    name: str
    base_url: str
    admin_email: str
    #: the namespace of identifiers, oai:NAMESPACE:LOCAL (a domain name of the catalogue)
    namespace: str
    items: Sequence[Item]
    #: (setSpec, setName); empty: the repository has no sets (noSetHierarchy)
    sets: Sequence[tuple[str, str]] = ()
    page_size: int = 25
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __post_init__(self) -> None:
        self._by_id = {item.identifier: item for item in self.items}
        self._ordered = sorted(self.items, key=lambda i: i.identifier)

    def oai_identifier(self, local: str) -> str:
        """The OAI identifier of an item."""
        return f"oai:{self.namespace}:{local}"

    def respond(self, params: Sequence[tuple[str, str]]) -> bytes:
        """The XML response to a request, errors included."""
        root = ET.Element(f"{{{OAI_NS}}}OAI-PMH")
        root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
        ET.SubElement(root, f"{{{OAI_NS}}}responseDate").text = _stamp(self.now)
        request = ET.SubElement(root, f"{{{OAI_NS}}}request")
        request.text = self.base_url
        try:
            verb, args = _checked(params)
            for name, value in (("verb", verb), *sorted(args.items())):
                request.set(name, value)
            root.append(getattr(self, f"_{verb}")(verb, args))
        except OaiError as exc:
            if exc.code in ("badVerb", "badArgument"):
                request.attrib.clear()
            error = ET.SubElement(root, f"{{{OAI_NS}}}error", code=exc.code)
            error.text = exc.message
        for prefix, uri in (("oai", OAI_NS), ("xsi", XSI_NS)):
            ET.register_namespace(prefix, uri)
        ET.indent(root)
        data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return data + b"\n"

    # -- the verbs

    def _Identify(self, verb: str, args: Mapping[str, str]) -> ET.Element:
        element = ET.Element(f"{{{OAI_NS}}}Identify")
        earliest = min((i.datestamp for i in self.items), default=self.now.date())
        for name, value in (
            ("repositoryName", self.name),
            ("baseURL", self.base_url),
            ("protocolVersion", "2.0"),
            ("adminEmail", self.admin_email),
            ("earliestDatestamp", earliest.isoformat()),
            ("deletedRecord", "transient"),
            ("granularity", GRANULARITY),
        ):
            ET.SubElement(element, f"{{{OAI_NS}}}{name}").text = value
        return element

    def _ListMetadataFormats(self, verb: str, args: Mapping[str, str]) -> ET.Element:
        prefixes: Sequence[str] = tuple(FORMATS)
        if "identifier" in args:
            prefixes = self._item(args["identifier"]).formats
            if not prefixes:
                raise OaiError("noMetadataFormats", "this item has no metadata format")
        element = ET.Element(f"{{{OAI_NS}}}ListMetadataFormats")
        for prefix in prefixes:
            known = FORMATS[prefix]
            entry = ET.SubElement(element, f"{{{OAI_NS}}}metadataFormat")
            for name, value in (
                ("metadataPrefix", known.prefix),
                ("schema", known.schema),
                ("metadataNamespace", known.namespace),
            ):
                ET.SubElement(entry, f"{{{OAI_NS}}}{name}").text = value
        return element

    def _ListSets(self, verb: str, args: Mapping[str, str]) -> ET.Element:
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "this repository lists its sets at once")
        if not self.sets:
            raise OaiError("noSetHierarchy", "this repository does not support sets")
        element = ET.Element(f"{{{OAI_NS}}}ListSets")
        for spec, name in self.sets:
            entry = ET.SubElement(element, f"{{{OAI_NS}}}set")
            ET.SubElement(entry, f"{{{OAI_NS}}}setSpec").text = spec
            ET.SubElement(entry, f"{{{OAI_NS}}}setName").text = name
        return element

    def _GetRecord(self, verb: str, args: Mapping[str, str]) -> ET.Element:
        item = self._item(args["identifier"])
        prefix = args["metadataPrefix"]
        if prefix not in FORMATS or prefix not in item.formats:
            raise OaiError("cannotDisseminateFormat", f"no format '{prefix}' for this item")
        element = ET.Element(f"{{{OAI_NS}}}GetRecord")
        element.append(self._record(item, FORMATS[prefix]))
        return element

    def _ListIdentifiers(self, verb: str, args: Mapping[str, str]) -> ET.Element:
        return self._list(verb, args)

    def _ListRecords(self, verb: str, args: Mapping[str, str]) -> ET.Element:
        return self._list(verb, args)

    # -- lists

    def _list(self, verb: str, args: Mapping[str, str]) -> ET.Element:
        if "resumptionToken" in args:
            try:
                token = Token.decode(args["resumptionToken"], verb)
            except BadToken as exc:
                raise OaiError("badResumptionToken", str(exc)) from None
            if not all(_DAY.match(v) for v in (token.start, token.end) if v):
                raise OaiError("badResumptionToken", "this resumption token has a bad date")
        else:
            token = Token(
                verb,
                args["metadataPrefix"],
                args.get("set", ""),
                args.get("from", ""),
                args.get("until", ""),
                0,
            )
        if token.prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat", f"no metadata format '{token.prefix}'")
        start, end = _bounds(token.start, token.end)
        if token.set and not self.sets:
            raise OaiError("noSetHierarchy", "this repository does not support sets")
        chosen = [
            item
            for item in self._ordered
            if token.prefix in item.formats
            and (start is None or item.datestamp >= start)
            and (end is None or item.datestamp <= end)
            and (not token.set or _in_set(item, token.set))
        ]
        if not chosen:
            raise OaiError("noRecordsMatch", "no record matches these arguments")
        if token.offset >= len(chosen):
            raise OaiError("badResumptionToken", "this resumption token is past the list's end")
        page = chosen[token.offset : token.offset + self.page_size]
        element = ET.Element(f"{{{OAI_NS}}}{verb}")
        for item in page:
            if verb == "ListRecords":
                element.append(self._record(item, FORMATS[token.prefix]))
            else:
                element.append(self._header(item))
        following = token.offset + len(page)
        if following < len(chosen) or token.offset:
            resumption = ET.SubElement(
                element,
                f"{{{OAI_NS}}}resumptionToken",
                completeListSize=str(len(chosen)),
                cursor=str(token.offset),
            )
            if following < len(chosen):
                resumption.text = token.next(following).encode()
        return element

    # -- parts of answers

    def _item(self, identifier: str) -> Item:
        prefix = f"oai:{self.namespace}:"
        local = identifier[len(prefix) :] if identifier.startswith(prefix) else None
        if local is None or local not in self._by_id:
            raise OaiError("idDoesNotExist", f"no item has the identifier '{identifier}'")
        return self._by_id[local]

    def _header(self, item: Item) -> ET.Element:
        header = ET.Element(f"{{{OAI_NS}}}header")
        if item.notice is None:
            header.set("status", "deleted")
        ET.SubElement(header, f"{{{OAI_NS}}}identifier").text = self.oai_identifier(item.identifier)
        ET.SubElement(header, f"{{{OAI_NS}}}datestamp").text = item.datestamp.isoformat()
        for spec in item.sets:
            ET.SubElement(header, f"{{{OAI_NS}}}setSpec").text = spec
        return header

    def _record(self, item: Item, known: MetadataFormat) -> ET.Element:
        record = ET.Element(f"{{{OAI_NS}}}record")
        record.append(self._header(item))
        if item.notice is not None:
            ET.SubElement(record, f"{{{OAI_NS}}}metadata").append(known.write(item.notice))
        return record


def _checked(params: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, or the protocol error that the request is."""
    verbs = [value for name, value in params if name == "verb"]
    if len(verbs) != 1 or verbs[0] not in VERBS:
        if not verbs:
            raise OaiError("badVerb", "no verb")
        if len(verbs) > 1:
            raise OaiError("badVerb", "the verb is repeated")
        raise OaiError("badVerb", f"'{verbs[0]}' is not a verb of OAI-PMH 2.0")
    verb = verbs[0]
    required, allowed = VERBS[verb]
    args: dict[str, str] = {}
    for name, value in params:
        if name == "verb":
            continue
        if name in args:
            raise OaiError("badArgument", f"the argument '{name}' is repeated")
        if name not in required and name not in allowed:
            raise OaiError("badArgument", f"'{name}' is not an argument of {verb}")
        args[name] = value
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OaiError("badArgument", "resumptionToken comes alone (with the verb)")
        return verb, args
    missing = [name for name in required if name not in args]
    if missing:
        raise OaiError("badArgument", f"{verb} requires the argument '{missing[0]}'")
    for name in ("from", "until"):
        if name in args and not (_DAY.match(args[name]) or _SECOND.match(args[name])):
            raise OaiError("badArgument", f"'{args[name]}' is not a date (YYYY-MM-DD)")
    return verb, args


def _bounds(start: str, end: str) -> tuple[dt.date | None, dt.date | None]:
    """``from`` and ``until`` as days; a finer granularity than the repository's, different
    granularities or impossible dates are bad arguments."""
    for value in (start, end):
        if _SECOND.match(value):
            message = f"'{value}' is finer than this repository's granularity, {GRANULARITY}"
            raise OaiError("badArgument", message)
    try:
        first = dt.date.fromisoformat(start) if start else None
        last = dt.date.fromisoformat(end) if end else None
    except ValueError:
        raise OaiError("badArgument", "'from' or 'until' is not a calendar date") from None
    return first, last


def _in_set(item: Item, spec: str) -> bool:
    """Whether an item is in a set or in a set below it (sets are a hierarchy)."""
    return any(s == spec or s.startswith(spec + ":") for s in item.sets)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
