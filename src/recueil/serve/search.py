"""The catalogue's search index: SQLite FTS5 over French stems, facets, snippets, kept in a file.

The index lives in one SQLite file (the catalogue keeps it at ``build/.cache/search.sqlite``) and
follows the sources: ``update`` re-indexes only the sheets whose source changed (their
``source_hash``), adds new ones and forgets those gone, in one transaction. The file is in WAL
mode with a busy timeout, so two processes may update it at once (the second waits, then finds
little left to do) while searches keep reading the last committed state.

A query is plain words (never FTS5 syntax), at most 500 characters and 20 words, all of which
a sheet must contain as stems (search_text.py): accents, case and inflection do not matter.
Hits are ranked by bm25, title and keywords first; an empty query lists every sheet, newest
first. Facets combine with the query and with each other: values of one facet widen the
selection (OR), facets narrow it (AND); the counts of a facet are those of the other filters
(the usual "disjunctive" counts), so its other values say how many sheets they would add.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from recueil.serve.search_facets import FacetTable, Match, table_for
from recueil.serve.search_hits import COLUMNS, MARKS, TEXTS, PageReader
from recueil.serve.search_results import Facet, FacetValue, Hit, Results
from recueil.serve.search_snippets import indexed
from recueil.serve.search_text import Document, cut, document, fold, query_stems
from recueil.sources.sheet import Sheet

__all__ = ["FACETS", "Facet", "FacetValue", "Hit", "Results", "SearchIndex", "index_for"]

#: the facets a search may filter on and counts, in the order they are shown
FACETS: tuple[str, ...] = (
    "theme", "kind", "region", "departement", "cite", "status", "year", "keyword",
)  # fmt: skip
#: most hits on one page
MAX_PER_PAGE = 100
#: the sheets missing a rank are ranked alone when the sheets having the words are this many
#: times more numerous, all of those at once otherwise
FEW_RANKED = 3
#: bm25 weights of the full-text columns: title, keywords, chapô or abstract, territory, body
WEIGHTS = (10.0, 6.0, 3.0, 2.0, 1.0)
#: bump when what is indexed changes: an index of another version is rebuilt from scratch
SCHEMA_VERSION = 5
#: how often a thread looks whether the index file was replaced, in seconds
REPLACED_SECONDS = 1.0
#: how long a writer waits for another one, in milliseconds
BUSY_MS = 30_000

_SCHEMA = """
CREATE TABLE docs (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    source_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    theme TEXT NOT NULL,
    date TEXT NOT NULL,
    title TEXT NOT NULL,
    sort_title TEXT NOT NULL
);
CREATE TABLE texts (
    id INTEGER PRIMARY KEY,
    keywords TEXT NOT NULL,
    summary TEXT NOT NULL,
    territory TEXT NOT NULL,
    body TEXT NOT NULL,
    summary_marks BLOB NOT NULL,
    body_marks BLOB NOT NULL,
    territory_marks BLOB NOT NULL,
    keywords_marks BLOB NOT NULL
);
CREATE INDEX docs_order ON docs (date DESC, sort_title, slug);
CREATE TABLE facets (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (name, value, doc)
) WITHOUT ROWID;
CREATE INDEX facets_doc ON facets (doc, name, value);
CREATE TABLE state (generation TEXT NOT NULL);
INSERT INTO state (generation) VALUES ('');
CREATE VIRTUAL TABLE fts USING fts5 (
    title, keywords, summary, territory, body, tokenize = "unicode61 remove_diacritics 2"
);
"""
_TABLES = ("docs", "texts", "facets", "state", "fts")


class SearchIndex:
    """The search index in the SQLite file ``path`` (created, or rebuilt when of another version).

    Opening it is cheap (the web layer opens one per request); one object is for one thread.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open_waiting()
        except sqlite3.DatabaseError as exc:  # not a database: it is only a cache, start again
            if isinstance(exc, sqlite3.OperationalError):
                raise
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            self._db = self._open()

    def _open_waiting(self) -> sqlite3.Connection:
        """Open, waiting while another connection switches the file to WAL or creates the
        tables: SQLite answers 'database is locked' at once there, without its busy handler."""
        deadline = time.monotonic() + BUSY_MS / 1000
        while True:
            try:
                return self._open()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                with _transaction(db):
                    if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                        for table in _TABLES:
                            db.execute(f"DROP TABLE IF EXISTS {table}")
                        for statement in _SCHEMA.split(";"):
                            if statement.strip():
                                db.execute(statement)
                        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def update(self, sheets: Sequence[Sheet]) -> int:
        """Make the index hold exactly ``sheets``; returns how many were (re)indexed.

        Sheets gone are deleted (not counted). Texts are prepared before the write lock is
        taken; inside the one transaction the stored hashes are read again, so two processes
        updating at once never index a sheet twice, and a reader never sees half an update.
        """
        latest = {sheet.slug: sheet for sheet in sheets}
        stored = dict(self._db.execute("SELECT slug, source_hash FROM docs").fetchall())
        ready = {
            slug: document(sheet)
            for slug, sheet in latest.items()
            if stored.get(slug) != sheet.source_hash
        }
        written = 0
        with _transaction(self._db):
            rows = {
                slug: (doc, digest)
                for doc, slug, digest in self._db.execute("SELECT id, slug, source_hash FROM docs")
            }
            gone = [doc for slug, (doc, _) in rows.items() if slug not in latest]
            for doc in gone:
                self._forget(doc)
                self._db.execute("DELETE FROM docs WHERE id = ?", (doc,))
            for slug, sheet in latest.items():
                known = rows.get(slug)
                if known is not None and known[1] == sheet.source_hash:
                    continue
                self._write(ready.get(slug) or document(sheet), known[0] if known else None)
                written += 1
            if written or gone:  # searches of every process read the sheets again
                self._db.execute("UPDATE state SET generation = ?", (uuid.uuid4().hex,))
        return written

    def _forget(self, doc: int) -> None:
        self._db.execute("DELETE FROM fts WHERE rowid = ?", (doc,))
        self._db.execute("DELETE FROM texts WHERE id = ?", (doc,))
        self._db.execute("DELETE FROM facets WHERE doc = ?", (doc,))

    def _write(self, d: Document, doc: int | None) -> None:
        fields = (d.slug, d.source_hash, d.kind, d.theme, d.date, d.title, d.sort_title)
        if doc is None:
            cursor = self._db.execute(
                "INSERT INTO docs (slug, source_hash, kind, theme, date, title, sort_title)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                fields,
            )
            doc = cursor.lastrowid
        else:
            self._forget(doc)
            self._db.execute(
                "UPDATE docs SET slug = ?, source_hash = ?, kind = ?, theme = ?, date = ?,"
                " title = ?, sort_title = ? WHERE id = ?",
                (*fields, doc),
            )
        made = {name: indexed(text) for name, text in zip(COLUMNS, d.columns(), strict=True)}
        self._db.execute(
            f"INSERT INTO texts (id, {', '.join(TEXTS)}, {', '.join(MARKS)})"
            f" VALUES (?{', ?' * 2 * len(TEXTS)})",
            (doc, *(getattr(d, name) for name in TEXTS), *(made[n][1] for n in TEXTS)),
        )
        self._db.execute(
            "INSERT INTO fts (rowid, title, keywords, summary, territory, body)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (doc, *(made[name][0] for name in COLUMNS)),
        )
        self._db.executemany(
            "INSERT INTO facets (name, value, doc) VALUES (?, ?, ?)",
            [(name, value, doc) for name, value in d.facets],
        )

    # ------------------------------------------------------------------------ searching

    def generation(self) -> str:
        """A token that changes whenever the index does (in any process): what is kept of a
        search's answer is kept under it."""
        (generation,) = self._db.execute("SELECT generation FROM state").fetchone()
        return str(generation)

    def search(
        self,
        query: str = "",
        filters: Mapping[str, Sequence[str]] | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> Results:
        """One page of the sheets matching ``query`` and ``filters``, with every facet's counts.

        ``filters`` maps facet names (FACETS; any other raises ValueError) to the values
        wanted, matched exactly. Never raises on what a user types. SQLite finds the words;
        filtering, counting and ordering are done on bit sets (search_facets.py).
        """
        chosen = _filters(filters)
        text = cut(query)
        terms = query_stems(text)
        per_page = max(1, min(int(per_page), MAX_PER_PAGE))
        with _transaction(self._db, "BEGIN"):  # one snapshot for the table and the words
            (generation,) = self._db.execute("SELECT generation FROM state").fetchone()
            table = table_for(self.path, self._db, generation)
            words = " ".join(f'"{term}"' for term in terms)
            match = table.matches(
                terms,
                lambda: self._db.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (words,)),
            )
            matched = match.mask if terms else table.everything
            kept = table.narrow(matched, chosen)
            counts = {
                name: table.counts(name, table.narrow(matched, chosen, but=name))
                if name in chosen
                else table.counts(name, kept)
                for name in FACETS
            }
            total = kept.bit_count()
            pages = max(1, math.ceil(total / per_page))
            page = max(1, min(int(page), pages))
            start = (page - 1) * per_page
            ranks = self._ranks(table, match, kept, words) if terms else None
            shown = table.ordered(kept, ranks)[start : start + per_page]
            hits = PageReader(self._db).hits(shown, terms)
        facets = tuple(_facet(name, counts[name], chosen.get(name, ())) for name in FACETS)
        return Results(hits=hits, total=total, facets=facets, page=page, pages=pages, query=text)

    def _ranks(self, table: FacetTable, match: Match, kept: int, words: str) -> Mapping[int, float]:
        """The bm25 ranks of the sheets ``kept`` (and of the others already known), kept with
        the match. SQLite computes bm25 only for the rows its WHERE clause keeps: when the facets
        keep a few of the sheets having the words, only those are ranked (``+rowid``: the rows
        are filtered while the full-text query runs once, instead of one query per rowid),
        some 0.4 ms instead of 1.7 for a word of 800 sheets; otherwise all of them at once."""
        if match.complete:  # every sheet having the words ranked: nothing to look for
            return match.ranks
        missing = [row.doc for row in table.among(kept) if row.doc not in match.ranks]
        if not missing:
            return match.ranks
        weights = ", ".join(str(w) for w in WEIGHTS)
        ranked = f"SELECT rowid, bm25(fts, {weights}) FROM fts WHERE fts MATCH ?"
        every = len(missing) * FEW_RANKED > match.mask.bit_count() or len(missing) > 500
        if every:
            found = self._db.execute(ranked, (words,))
        else:
            marks = ", ".join("?" * len(missing))
            found = self._db.execute(f"{ranked} AND +rowid IN ({marks})", (words, *missing))
        table.ranked(match, dict(found), complete=every)
        return match.ranks


_OPEN = threading.local()


def index_for(path: Path) -> SearchIndex:
    """This thread's open index of the file ``path`` (opening one per search was a sixth of
    its time); opened again when the file was replaced (rebuilt after damage), which is looked
    at once a second at most (a stat per search was a twentieth of a page asked again)."""
    held: dict[Path, tuple[int, float, SearchIndex]] = _OPEN.__dict__.setdefault("indexes", {})
    known = held.get(path)
    now = time.monotonic()
    if known is not None and now - known[1] < REPLACED_SECONDS:
        return known[2]
    try:
        inode = path.stat().st_ino
    except OSError:
        inode = -1
    if known is not None and known[0] == inode:
        held[path] = (inode, now, known[2])
        return known[2]
    if known is not None:
        known[2].close()
    index = SearchIndex(path)
    with contextlib.suppress(OSError):
        inode = path.stat().st_ino
    held[path] = (inode, now, index)
    return index


def _filters(filters: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """The facet values asked for, by facet, in FACETS order; ValueError on an unknown facet."""
    given = dict(filters or {})
    unknown = sorted(set(given) - set(FACETS), key=str)
    if unknown:
        raise ValueError(f"unknown facet {unknown[0]!r} (facets: {', '.join(FACETS)})")
    chosen: dict[str, tuple[str, ...]] = {}
    for name in FACETS:
        values = given.get(name) or ()
        if isinstance(values, str):
            values = (values,)
        kept = tuple(dict.fromkeys(str(v) for v in values))
        if kept:
            chosen[name] = kept
    return chosen


def _facet(name: str, counts: Mapping[str, int], chosen: Sequence[str]) -> Facet:
    """A facet's values: those chosen first (even with no sheet), then by count, years newest
    first; ties in alphabetical order, accents and case aside."""
    values = [FacetValue(v, counts.get(v, 0), True) for v in chosen]
    values += [FacetValue(v, n, False) for v, n in counts.items() if v not in chosen]
    if name == "year":
        values.sort(key=lambda f: f.value, reverse=True)
        values.sort(key=lambda f: not f.selected)
    else:
        values.sort(key=lambda f: (not f.selected, -f.count, fold(f.value), f.value))
    return Facet(name, tuple(values))


@contextmanager
def _transaction(db: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """A transaction: committed when the block ends, rolled back when it raises."""
    db.execute(begin)
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    db.execute("COMMIT")
