"""PDF/A for editions: the variant WeasyPrint writes, what merging loses, and a structural check.

Editions are PDF/A-2u. Level 2 because it is the level archives accept most widely and the first
to allow what WeasyPrint writes (transparency, compressed object streams, OpenType fonts); "u"
because every glyph must map to Unicode, so an archived collection stays searchable and its text
can be extracted years later. PDF/A-3 differs only by allowing arbitrary embedded files, which
recueil does not embed (and which some archiving services refuse). The accessible levels ("a",
tagged) are not claimed: WeasyPrint can tag one document, but pypdf cannot merge structure trees,
so the stamped page numbers and the assembled collections would break the claim.

WeasyPrint writes a complete PDF/A document (XMP ``pdfaid``, sRGB output intent, embedded fonts,
printable annotations). A collection is assembled by pypdf, which starts a new document: the
catalog's XMP metadata and output intent are rebuilt here, consistent with the document
information dictionary as PDF/A requires. Without veraPDF on the machine, ``pdfa_problems``
checks the structure of the claim; the README tells how to run veraPDF where it is installed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    NameObject,
    TextStringObject,
)

#: the variant handed to WeasyPrint for every edition render
PDF_VARIANT = "pdf/a-2u"
PDFA_PART, PDFA_CONFORMANCE = "2", "U"
PDF_HEADER = b"%PDF-1.7"


def pdf_date(date: dt.date) -> str:
    """A date as a PDF date string at midnight UTC (no clock enters an edition)."""
    return f"D:{date:%Y%m%d}000000+00'00'"


def xmp_date(date: dt.date) -> str:
    """The same instant as ``pdf_date``, in the XMP (ISO 8601) form."""
    return f"{date:%Y-%m-%d}T00:00:00+00:00"


def xmp_packet(
    *,
    title: str,
    authors: Sequence[str],
    subject: str,
    keywords: str,
    language: str,
    creator: str,
    producer: str,
    date: dt.date,
) -> bytes:
    """XMP metadata claiming PDF/A-2u, with the same values as the information dictionary."""
    creators = "".join(f"<rdf:li>{escape(a)}</rdf:li>" for a in authors)
    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<pdfaid:part>{PDFA_PART}</pdfaid:part>
<pdfaid:conformance>{PDFA_CONFORMANCE}</pdfaid:conformance>
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq>{creators}</rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(subject)}</rdf:li></rdf:Alt>\
</dc:description>
<dc:language><rdf:Bag><rdf:li>{escape(language)}</rdf:li></rdf:Bag></dc:language>
<pdf:Keywords>{escape(keywords)}</pdf:Keywords>
<pdf:Producer>{escape(producer)}</pdf:Producer>
<xmp:CreatorTool>{escape(creator)}</xmp:CreatorTool>
<xmp:CreateDate>{xmp_date(date)}</xmp:CreateDate>
<xmp:ModifyDate>{xmp_date(date)}</xmp:ModifyDate>
<xmp:MetadataDate>{xmp_date(date)}</xmp:MetadataDate>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>"""
    return text.encode("utf-8")


def claim_pdfa(
    writer: PdfWriter,
    source: PdfReader,
    *,
    title: str,
    authors: Sequence[str],
    subject: str,
    keywords: str,
    language: str,
    date: dt.date,
) -> None:
    """Give an assembled document the PDF/A-2u claim its parts had (they come from WeasyPrint).

    ``source`` is one of the WeasyPrint PDF/A documents the pages came from: its sRGB output
    intent is copied, so the ICC profile is the one WeasyPrint ships. Links must already be
    printable (/F 4): the assembler marks them as it copies each page.
    """
    creator, producer = "recueil", "recueil (WeasyPrint, pypdf)"
    mark_pdfa_header(writer)
    writer.add_metadata(
        {
            "/Title": title,
            "/Author": ", ".join(authors),
            "/Subject": subject,
            "/Keywords": keywords,
            "/Creator": creator,
            "/Producer": producer,
            "/CreationDate": pdf_date(date),
            "/ModDate": pdf_date(date),
        }
    )
    source_root: Any = source.trailer["/Root"]
    intents = source_root.get("/OutputIntents")
    if intents is None:
        raise ValueError("the source document has no output intent: was it rendered as PDF/A?")
    root = writer._root_object
    root[NameObject("/OutputIntents")] = intents.get_object().clone(writer)
    stream = DecodedStreamObject()
    stream.set_data(
        xmp_packet(
            title=title,
            authors=authors,
            subject=subject,
            keywords=keywords,
            language=language,
            creator=creator,
            producer=producer,
            date=date,
        )
    )
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    root[NameObject("/Metadata")] = writer._add_object(stream)
    root[NameObject("/Lang")] = TextStringObject(language)


def mark_pdfa_header(writer: PdfWriter) -> None:
    """pypdf writes a 1.3 header by default; PDF/A-2 documents announce PDF 1.7."""
    writer.pdf_header = PDF_HEADER


_PDFAID = re.compile(rb"pdfaid:part(?:>|=\")(\d)")
_CONFORMANCE = re.compile(rb"pdfaid:conformance(?:>|=\")([ABU])")


def pdfa_problems(pdf: bytes) -> list[str]:
    """What breaks the PDF/A-2u claim structurally (empty when the structure is sound).

    Checked: the XMP claim (part 2, conformance U), an sRGB output intent with its ICC
    profile, every font embedded, a title in the information dictionary and the XMP, the
    document language, a file identifier, no encryption, no JavaScript or launch actions,
    no external streams, printable annotations. This is not a validator (veraPDF is): it
    catches what recueil itself could get wrong when assembling.
    """
    problems: list[str] = []
    reader = PdfReader(io.BytesIO(pdf))
    if reader.is_encrypted:
        return ["the document is encrypted"]
    root: Any = reader.trailer["/Root"]
    metadata = root.get("/Metadata")
    xmp = metadata.get_object().get_data() if metadata is not None else b""
    part = _PDFAID.search(xmp)
    conformance = _CONFORMANCE.search(xmp)
    if part is None or part.group(1) != PDFA_PART.encode():
        problems.append("XMP metadata does not claim pdfaid:part 2")
    if conformance is None or conformance.group(1) != PDFA_CONFORMANCE.encode():
        problems.append("XMP metadata does not claim pdfaid:conformance U")
    found: Any = root.get("/OutputIntents")
    intents = found.get_object() if found is not None else ArrayObject()
    if not any(
        i.get_object().get("/S") == "/GTS_PDFA1" and "/DestOutputProfile" in i.get_object()
        for i in intents
    ):
        problems.append("no PDF/A output intent with an ICC profile")
    info: Any = reader.metadata or {}
    title = info.get("/Title")
    if not title:
        problems.append("no document title")
    elif str(title) not in _xmp_titles(xmp):
        problems.append("the title of the information dictionary is not the XMP dc:title")
    if not root.get("/Lang"):
        problems.append("no document language")
    if "/ID" not in reader.trailer:
        problems.append("no file identifier")
    if "/Names" in root and "/JavaScript" in root["/Names"]:
        problems.append("JavaScript in the name tree")
    if "/OpenAction" in root or "/AA" in root:
        problems.append("automatic actions")
    for number, page in enumerate(reader.pages, 1):
        problems += [f"page {number}: {p}" for p in _page_problems(page)]
    return problems


def _xmp_titles(xmp: bytes) -> list[str]:
    """Every dc:title value of an XMP packet (an unreadable packet has none)."""
    start, end = xmp.find(b"<x:xmpmeta"), xmp.rfind(b"</x:xmpmeta>")
    try:
        tree = ElementTree.fromstring(xmp[start : end + len(b"</x:xmpmeta>")])
    except ElementTree.ParseError:
        return []
    dc = "{http://purl.org/dc/elements/1.1/}title"
    return [item.text or "" for title in tree.iter(dc) for item in title.iter() if item.text]


def _page_problems(page: Any) -> list[str]:
    problems: list[str] = []
    for annotation in page.get("/Annots", []) or []:
        annotation = annotation.get_object()
        if not int(annotation.get("/F", 0)) & 4:
            problems.append("an annotation is not printable")
        action = annotation.get("/A")
        kind = action.get_object().get("/S") if action is not None else None
        if kind in ("/JavaScript", "/Launch"):
            problems.append(f"forbidden action {kind}")
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else {}
    fonts = resources.get("/Font")
    for name, font in (fonts.get_object() if fonts is not None else {}).items():
        if not _embedded(font.get_object()):
            problems.append(f"font {name} is not embedded")
    xobjects = resources.get("/XObject")
    for name, xobject in (xobjects.get_object() if xobjects is not None else {}).items():
        if "/F" in xobject.get_object():
            problems.append(f"XObject {name} refers to an external file")
    return problems


def _embedded(font: Any) -> bool:
    if font.get("/Subtype") == "/Type3":
        return True
    descendants = font.get("/DescendantFonts")
    if descendants is not None:
        return all(_embedded(d.get_object()) for d in descendants.get_object())
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    descriptor = descriptor.get_object()
    return any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
