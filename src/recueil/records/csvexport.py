"""Notices as a spreadsheet: one row per notice, one column per field.

Written for LibreOffice Calc and Excel as they open a file by double-click in France: UTF-8
with a byte order mark (without it, accents arrive as "Ã©"), ';' between columns (',' is the
decimal separator there), every value quoted when needed. A field holding several values
(authors, keywords) keeps them in one cell, separated by " | ". A value that a spreadsheet
would take for a formula (starting with '=', '+', '-' or '@') is prefixed with an apostrophe,
which makes the cell text: sources are written by many hands.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from recueil.records.notice import RELATORS, Body, Link, Notice, Person

SEPARATOR = " | "
_FORMULA = ("=", "+", "-", "@")


def _people(people: Sequence[Person]) -> str:
    return SEPARATOR.join(f"{p.name} ({RELATORS.get(p.relator, p.relator)})" for p in people)


def _bodies(bodies: Sequence[Body]) -> str:
    return SEPARATOR.join(f"{b.name} ({RELATORS.get(b.relator, b.relator)})" for b in bodies)


def _links(links: Sequence[Link]) -> str:
    return SEPARATOR.join(
        f"{link.identifier} {link.title}" + (f" ({link.position})" if link.position else "")
        for link in links
    )


#: the columns: heading (the field's name in the README's mapping table) and its value
COLUMNS: tuple[tuple[str, Callable[[Notice], str]], ...] = (
    ("identifier", lambda n: n.identifier),
    ("kind", lambda n: n.kind_label),
    ("title", lambda n: n.title),
    ("subtitle", lambda n: n.subtitle),
    ("edition", lambda n: SEPARATOR.join(x for x in (n.edition, n.edition_note) if x)),
    ("place", lambda n: n.place),
    ("publisher", lambda n: n.publisher),
    ("date", lambda n: n.date.isoformat() if n.date else ""),
    ("updated", lambda n: n.datestamp.isoformat() if n.datestamp else ""),
    ("extent", lambda n: n.extent),
    ("series", lambda n: n.series),
    ("series_number", lambda n: n.series_number),
    ("isbn", lambda n: n.isbn),
    ("language", lambda n: n.language),
    ("abstract", lambda n: n.abstract),
    ("themes", lambda n: SEPARATOR.join(n.subjects)),
    ("places", lambda n: SEPARATOR.join(n.places)),
    ("keywords", lambda n: SEPARATOR.join(n.keywords)),
    ("authors", lambda n: _people(n.authors)),
    ("contributors", lambda n: _people(n.contributors)),
    ("corporate_authors", lambda n: _bodies(n.bodies)),
    ("corporate_contributors", lambda n: _bodies(n.contributing_bodies)),
    ("agency", lambda n: n.agency),
    ("pdf_url", lambda n: n.pdf.url if n.pdf else ""),
    ("pdf_bytes", lambda n: str(n.pdf.size) if n.pdf and n.pdf.size is not None else ""),
    ("other_urls", lambda n: SEPARATOR.join(o.url for o in n.online if o is not n.pdf)),
    ("page_url", lambda n: n.page_url),
    ("is_part_of", lambda n: _links(n.part_of)),
    ("has_part", lambda n: _links(n.parts)),
    ("rights", lambda n: n.rights),
)


def export(notices: Sequence[Notice]) -> bytes:
    """The notices as CSV bytes (UTF-8 with BOM, ';', CRLF line ends as RFC 4180 says)."""
    stream = io.StringIO()
    writer = csv.writer(stream, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([heading for heading, _ in COLUMNS])
    for notice in notices:
        writer.writerow([_cell(value(notice)) for _, value in COLUMNS])
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA) else text
