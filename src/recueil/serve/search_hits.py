"""What a page of search results shows of its sheets: their cards and snippets, read from the index.

The index (search.py) finds the sheets, ranks them and the facets count them; a page then needs,
for the twenty sheets it shows, their snippets (search_snippets.py), made from the stems and
texts the index stores, read here for all the page's sheets at once and kept by sheet (a sheet
is a hit of many searches: the 3,740 hits of 187 new searches at 1,000 sheets were 586 sheets).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from markupsafe import Markup

from recueil.serve.search_facets import Row
from recueil.serve.search_results import Hit
from recueil.serve.search_snippets import (
    SHOWN,
    SNIPPETS,
    STEMS,
    Window,
    best_window,
    kept,
    opening,
    window_snippet,
)

#: where a snippet may come from, each with its word marks (in the ``texts`` table)
TEXTS = ("summary", "body", "territory", "keywords")
MARKS = tuple(f"{name}_marks" for name in TEXTS)
#: the full-text table's columns, each text's stems
COLUMNS = ("title", "keywords", "summary", "territory", "body")
#: where a hit without a window begins (browsing, or the words in the title only): the first
#: text that is not empty, whole (a cut one would end the snippet without its " …")
_OPENING = "coalesce(nullif(summary, ''), nullif(body, ''), nullif(territory, ''), keywords)"


class PageReader:
    """Reads what a page of results shows, through one open connection to the index (inside
    the search's read transaction)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def hits(self, shown: list[tuple[Row, float]], terms: tuple[str, ...]) -> tuple[Hit, ...]:
        """The result cards of one page, with their snippets (remembered by sheet and words)."""
        wanted = frozenset(terms)
        known = {row.doc: SNIPPETS.get((row.slug, row.source_hash, wanted)) for row, _ in shown}
        missing = [row for row, _ in shown if known[row.doc] is None]
        made = self._snippets(missing, wanted) if missing else {}
        hits: list[Hit] = []
        for row, rank in shown:
            found = known[row.doc]
            if found is None:
                found = SNIPPETS.put((row.slug, row.source_hash, wanted), made[row.doc])
            hits.append(Hit(row.slug, row.title, row.kind, row.theme, row.date, found,
                            -float(rank) or 0.0))  # fmt: skip
        return tuple(hits)

    def _snippets(self, rows: list[Row], wanted: frozenset[str]) -> dict[int, Markup]:
        """The snippets of a page's hits. The texts' stems say which text of each hit shows
        the words best and from which word; that text and its word marks are then read for
        all the hits at once (a query per hit and per text was a tenth of a new search).
        Both are remembered by sheet (STEMS, SHOWN): a sheet is a hit of many searches."""
        windows: dict[int, Window | None] = {row.doc: None for row in rows}
        sheet = {row.doc: (row.slug, row.source_hash) for row in rows}
        made: dict[int, Markup] = {}
        if wanted:
            for doc, stemmed in self._stems(rows).items():
                windows[doc] = best_window(stemmed, wanted)
        # without a window (browsing, or the words in the title only): the start of the first text
        plain = [doc for doc, window in windows.items() if window is None]
        for doc, text in self._read(_OPENING, plain):
            made[doc] = opening(_text(text))
        for column, name in enumerate(TEXTS):
            chosen = {
                doc: (*sheet[doc], column)
                for doc, w in windows.items()
                if w is not None and w.column == column
            }
            texts = {doc: SHOWN.get(key) for doc, key in chosen.items()}
            missing = [doc for doc, found in texts.items() if found is None]
            for doc, text, marks in self._read(f"{name}, {name}_marks", missing):
                texts[doc] = kept(SHOWN, chosen[doc], (_text(text), bytes(marks or b"")))
            for doc, text_marks in texts.items():
                window = windows[doc]
                assert window is not None and text_marks is not None
                made[doc] = window_snippet(*text_marks, window, wanted)
        return {doc: made.get(doc, Markup("")) for doc in windows}

    def _stems(self, rows: Sequence[Row]) -> dict[int, tuple[str, ...]]:
        """The stems of the texts (TEXTS) of the sheets ``rows``, by document: kept by sheet
        (STEMS), read from the index for those not kept."""
        found = {row.doc: STEMS.get((row.slug, row.source_hash)) for row in rows}
        missing = {row.doc: (row.slug, row.source_hash) for row in rows if found[row.doc] is None}
        for doc, *stemmed in self._read(", ".join(TEXTS), list(missing), "fts", "rowid"):
            found[doc] = kept(STEMS, missing[doc], tuple(_text(v) for v in stemmed))
        return {doc: stemmed or ("",) * len(TEXTS) for doc, stemmed in found.items()}

    def _read(
        self, columns: str, docs: list[int], table: str = "texts", key: str = "id"
    ) -> Iterator[tuple[Any, ...]]:
        """The ``columns`` of ``docs`` in ``table``, after each one's id (no query when none)."""
        if not docs:
            return iter(())
        marks = ", ".join("?" * len(docs))
        query = f"SELECT {key}, {columns} FROM {table} WHERE {key} IN ({marks})"
        return iter(self._db.execute(query, docs))


def _text(value: object) -> str:
    """A text column's value (NULL: no text)."""
    return "" if value is None else str(value)
