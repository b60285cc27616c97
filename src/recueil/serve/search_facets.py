"""The search index's sheets and facet values in memory, as bit sets: filtering and counting.

SQLite answers the full-text part of a search (FTS5 and bm25); what follows it (keep the
sheets that have one of the chosen values of each facet, count every facet value over what
is kept, sort and cut a page) took 5 to 7 ms of SQL per search at 1,000 sheets, most of a
search's time. Here each facet value is one Python integer whose bit *i* says whether the
*i*-th sheet has it, so a filter is an ``&`` and a count a ``bit_count()``: microseconds.

The table is read from the index file once per *generation* (a token the index renews in the
transaction that changes it) and shared by the threads and requests of a process; another
process updating the same file bumps the generation, and the next search here reads it again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FacetTable", "Match", "Row", "table_for"]

#: word sets whose matches a table remembers (each at most a few tens of KB)
MATCHES_KEPT = 256


@dataclass
class Match:
    """The sheets having every stem of a search (a bit set over the table's rows) and their
    bm25 ranks known so far, by document id: every one of them once ``complete``."""

    mask: int
    ranks: dict[int, float] = field(default_factory=dict)
    complete: bool = False


@dataclass(frozen=True)
class Row:
    """What a result card shows of a sheet, from the index's ``docs`` table."""

    doc: int
    slug: str
    title: str
    kind: str
    theme: str
    date: str
    source_hash: str


class FacetTable:
    """Every indexed sheet in the order a browse shows them (newest first), and one bit set
    per facet value over that order."""

    def __init__(self, generation: str, rows: list[Row], facets: Iterable[tuple[str, str, int]]):
        self.generation = generation
        self.rows = rows  # sorted: date DESC, sort_title, slug
        self.bit = {row.doc: position for position, row in enumerate(rows)}
        self.everything = (1 << len(rows)) - 1
        masks: dict[str, dict[str, int]] = {}
        for name, value, doc in facets:
            position = self.bit.get(doc)
            if position is not None:
                values = masks.setdefault(name, {})
                values[value] = values.get(value, 0) | (1 << position)
        self.masks = masks
        self._matches: OrderedDict[tuple[str, ...], Match] = OrderedDict()
        self._lock = threading.Lock()

    def matches(self, terms: tuple[str, ...], find: Callable[[], Iterable[tuple[int]]]) -> Match:
        """The sheets having all ``terms`` (all of them when there are none): ``find`` asks
        SQLite for their ids the first time, then the match and the ranks learnt since are
        remembered for this generation of the index (the MATCHES_KEPT latest word sets:
        visitors search the same words again and again, with other facets or pages, and the
        full-text query was a third of a search)."""
        terms = tuple(sorted(set(terms)))  # the same sheets and ranks in any order
        if not terms:
            return Match(self.everything)
        with self._lock:
            known = self._matches.get(terms)
            if known is not None:
                self._matches.move_to_end(terms)
                return known
        found = Match(self.mask_of(doc for (doc,) in find()))
        with self._lock:
            self._matches[terms] = found
            while len(self._matches) > MATCHES_KEPT:
                self._matches.popitem(last=False)
        return found

    def ranked(self, match: Match, ranks: Mapping[int, float], complete: bool) -> None:
        """Remember the bm25 ``ranks`` of some of ``match``'s sheets (all when ``complete``)."""
        with self._lock:
            match.ranks.update(ranks)
            match.complete = match.complete or complete

    def among(self, kept: int) -> list[Row]:
        """The rows of the sheets in the bit set ``kept``, in browsing order."""
        return [self.rows[position] for position in positions(kept)]

    @classmethod
    def read(cls, db: sqlite3.Connection, generation: str) -> FacetTable:
        rows = [
            Row(*row)
            for row in db.execute(
                "SELECT id, slug, title, kind, theme, date, source_hash FROM docs"
                " ORDER BY date DESC, sort_title, slug"
            )
        ]
        return cls(generation, rows, db.execute("SELECT name, value, doc FROM facets"))

    def mask_of(self, docs: Iterable[int]) -> int:
        """The bit set of these documents (ids of the index; unknown ones are left out)."""
        mask = 0
        for doc in docs:
            position = self.bit.get(doc)
            if position is not None:
                mask |= 1 << position
        return mask

    def chosen(self, name: str, values: Iterable[str]) -> int:
        """The sheets with any of ``values`` of facet ``name`` (a facet widens within itself)."""
        known = self.masks.get(name, {})
        mask = 0
        for value in values:
            mask |= known.get(value, 0)
        return mask

    def narrow(self, matched: int, chosen: Mapping[str, tuple[str, ...]], but: str = "") -> int:
        """``matched`` kept to the sheets having a chosen value of every facet but ``but``
        (facets narrow each other)."""
        for name, values in chosen.items():
            if name != but:
                matched &= self.chosen(name, values)
        return matched

    def counts(self, name: str, within: int) -> dict[str, int]:
        """How many sheets of ``within`` have each value of facet ``name`` (none: left out)."""
        found: dict[str, int] = {}
        if within:
            for value, mask in self.masks.get(name, {}).items():
                count = (mask & within).bit_count()
                if count:
                    found[value] = count
        return found

    def ordered(self, kept: int, ranks: Mapping[int, float] | None) -> list[tuple[Row, float]]:
        """The sheets of ``kept``, best first: by rank (bm25, lower is better) when there are
        ranks (every sheet kept has one: it matched the words), then newest first, title, slug."""
        if ranks is None:
            return [(self.rows[position], 0.0) for position in positions(kept)]
        found = [
            (position, ranks.get(self.rows[position].doc, 0.0)) for position in positions(kept)
        ]
        found.sort(key=lambda pair: (pair[1], pair[0]))
        return [(self.rows[position], rank) for position, rank in found]


def positions(mask: int) -> list[int]:
    """The numbers of the bits set in ``mask``, in order. Read from its binary digits: shifting
    a thousand-bit integer once per sheet was a twentieth of a search."""
    digits = format(mask, "b")[::-1]
    if mask.bit_count() * 8 > len(digits):  # many: one look at each digit
        return [at for at, digit in enumerate(digits) if digit == "1"]
    found: list[int] = []
    at = digits.find("1")
    while at >= 0:
        found.append(at)
        at = digits.find("1", at + 1)
    return found


_TABLES: dict[Path, FacetTable] = {}
_LOCK = threading.Lock()


def table_for(path: Path, db: sqlite3.Connection, generation: str) -> FacetTable:
    """The table of the index file ``path`` at ``generation``, read through ``db`` (inside the
    search's read transaction, so it matches what the full-text query sees) when not held."""
    table = _TABLES.get(path)
    if table is not None and table.generation == generation:
        return table
    table = FacetTable.read(db, generation)
    with _LOCK:  # the last one read wins: an older one is read again when next asked for
        _TABLES[path] = table
    return table


def forget() -> None:
    """Drop every table (a server at rest: the next search reads its table again)."""
    with _LOCK:
        _TABLES.clear()
