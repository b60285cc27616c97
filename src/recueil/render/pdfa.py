"""PDF/A for editions: the variant WeasyPrint writes, what merging loses, and a structural check.

Editions are PDF/A-2a. Level 2 because it is the level archives accept most widely and the first
to allow what WeasyPrint writes (transparency, compressed object streams, OpenType fonts); "a"
(accessible) because an archived sheet must stay readable by everyone: it includes "u" (every
glyph maps to Unicode, so the text can be searched and extracted years later) and adds a
structure tree in logical order, marked content, and the document's language. recueil's
documents are tagged anyway (PDF/UA-1, render/tagging.py; collection/structure_tree.py rebuilds
one tree per collection), so the claim costs nothing more. PDF/A-3 differs only by allowing
arbitrary embedded files, which recueil does not embed (and which some archiving services
refuse).

WeasyPrint writes a complete PDF/A document (XMP ``pdfaid``, sRGB output intent, embedded fonts,
printable annotations). A collection is assembled by pypdf, which starts a new document: the
catalog's XMP metadata and output intent are rebuilt here, consistent with the document
information dictionary as PDF/A requires. Without veraPDF on the machine, ``pdfa_problems``
checks the structure of the claim; the README tells how to run veraPDF where it is installed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

if TYPE_CHECKING:  # pypdf is imported by the functions that write: a render key needs only
    # PDF_VARIANT, and the web server computes keys without loading pypdf
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DecodedStreamObject

#: the variant handed to WeasyPrint for every edition render
PDF_VARIANT = "pdf/a-2a"
PDFA_PART, PDFA_CONFORMANCE = "2", "A"
PDF_HEADER = b"%PDF-1.7"


#: The PDF/UA-1 identification (ISO 14289-1, 5) and, as PDF/A wants for a schema that XMP does
#: not predefine, the extension schema that declares it (ISO 19005-2, 6.6.2.3.2). Editions are
#: tagged (their collections get one structure tree, collection/structure_tree.py).
PDFUA_XMP = """<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
<pdfuaid:part>1</pdfuaid:part>
</rdf:Description>
<rdf:Description rdf:about=""
 xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
 xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
 xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Part of ISO 14289 the document conforms to</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>"""


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
    """XMP metadata claiming PDF/A-2a and PDF/UA-1, with the same values as the information
    dictionary."""
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
{PDFUA_XMP}
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
    """Give an assembled document the PDF/A-2a claim its parts had (they come from WeasyPrint).

    ``source`` is one of the WeasyPrint PDF/A documents the pages came from: its sRGB output
    intent is copied, so the ICC profile is the one WeasyPrint ships. Links must already be
    printable (/F 4): the assembler marks them as it copies each page.
    """
    from pypdf.generic import DecodedStreamObject, NameObject, TextStringObject

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


def ua_metadata(title: str) -> DecodedStreamObject:
    """XMP metadata with the title and the PDF/UA-1 identification (ISO 14289-1, 5), for a
    tagged collection that is not an edition (an edition has ``xmp_packet``)."""
    from pypdf.generic import DecodedStreamObject, NameObject

    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<pdfuaid:part>1</pdfuaid:part>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    stream = DecodedStreamObject()
    stream.set_data(text.encode("utf-8"))
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return stream
