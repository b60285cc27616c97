"""Snippets of search hits: some thirty words of a sheet's text around the words asked for, marked.

The index keeps three things of each text a snippet may come from: the text (as shown), its
stems (one per word, search_text.py) and its *word marks*, where every MARK_EVERY-th word
begins. The stems say which text shows the words asked for best and from which word, without
reading the text; the marks then lead to that word with fewer than MARK_EVERY words read, wherever
it lies. Reading the text word by word up to the window was half of a new search's time at
1,000 sheets (the windows of French bodies lie some 200 words in).
"""

from __future__ import annotations

import re
import struct
from bisect import bisect_left
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from markupsafe import Markup, escape

from recueil.serve.memo import Memo
from recueil.serve.search_text import WORD as _WORD
from recueil.serve.search_text import stem, words

#: words of a snippet
SNIPPET_WORDS = 30
#: one word in this many has its start kept in the index
MARK_EVERY = 16
#: how a word mark is stored: 4 bytes, in the machine's order (the index is this machine's cache)
_MARK = struct.Struct("=I")
#: a word's number in its text and its stem: where a word asked for was found
Found = tuple[int, str]


@dataclass(frozen=True)
class Window:
    """Where a hit's snippet lies: in which of its texts, from which word, and the words
    asked for that the window holds."""

    column: int
    start: int
    found: tuple[Found, ...]


def indexed(text: str) -> tuple[str, bytes]:
    """What the index stores beside ``text``: its stems, one per word separated by single
    spaces, and its word marks (the start of words 0, MARK_EVERY, 2 × MARK_EVERY…)."""
    found = list(words(text))
    starts = [m.start() for m in found[::MARK_EVERY]]
    return " ".join(stem(m[0]) for m in found), struct.pack(f"={len(starts)}I", *starts)


def best_window(
    stemmed: Sequence[str], wanted: frozenset[str], size: int = SNIPPET_WORDS
) -> Window | None:
    """Which of the texts of stems ``stemmed`` shows the stems ``wanted`` best (the most
    distinct ones, then the most words; the first text on a tie) and from which word; None
    when none has any."""
    best: tuple[int, int, int, int, list[Found]] | None = None
    for column, stems_of in enumerate(stemmed if wanted else ()):
        if not any(term in stems_of for term in wanted):  # most texts have none of them
            continue
        positions = _positions(stems_of, wanted)
        if not positions:
            continue
        start, distinct, count = _window(positions, size)
        if best is None or (distinct, count) > (best[0], best[1]):
            best = (distinct, count, start, column, positions)
    if best is None:
        return None
    start, column, positions = best[2], best[3], best[4]
    inside = tuple(p for p in positions if start <= p[0] < start + size)
    return Window(column, start, inside)


def opening(text: str, size: int = SNIPPET_WORDS) -> Markup:
    """The first ``size`` words of ``text``, escaped (a hit whose texts show no word wanted)."""
    return _render(text, list(islice(words(text), size + 1)), (), False, size)


def window_snippet(
    text: str, marks: bytes, window: Window, wanted: frozenset[str], size: int = SNIPPET_WORDS
) -> Markup:
    """The ``size`` words of ``text`` from ``window.start`` (reached through the text's word
    ``marks``), those asked for in <mark>."""
    start = window.start
    spans = _words_from(text, marks, start, size + 1)
    marked = {number - start: term for number, term in window.found}
    if any(i >= len(spans) or stem(spans[i][0]) != term for i, term in marked.items()):
        # the stored stems or marks do not fit the text (another Unicode version?): stem it again
        every = list(words(text))
        terms = [stem(m[0]) for m in every]
        start = _window(_positions(" ".join(terms), wanted), size)[0]
        spans = every[start : start + size + 1]
        marked = {i: t for i, t in enumerate(terms[start : start + size]) if t in wanted}
    return _render(text, spans, sorted(marked), start > 0, size)


def _words_from(text: str, marks: bytes, start: int, count: int) -> list[re.Match[str]]:
    """Words ``start`` to ``start + count`` of ``text``, read from the last mark before them.

    The words are the regular expression's, without the check that each has a stem (words()):
    every word of French text has one, and the check was a quarter of a snippet's time; a
    text where it matters shows marked words that are not the stems asked for, and is read
    again in full (window_snippet)."""
    mark = min(start // MARK_EVERY, len(marks) // _MARK.size - 1)
    at = _MARK.unpack_from(marks, mark * _MARK.size)[0] if mark > 0 else 0
    at, skip = (at, start - mark * MARK_EVERY) if 0 < at <= len(text) else (0, start)
    for run, pattern in _SKIPS:
        while skip >= run:
            skipped = pattern.match(text, at)
            if skipped is None:
                return []
            at, skip = skipped.end(), skip - run
    return list(islice(_WORD.finditer(text, at), count))


#: runs of words skipped at once, each word with what lies before it (possessive: a word is
#: never cut to make up the count); compiled once, not by the first searches after a start
_SKIPS = tuple((run, re.compile(rf"(?:[\W_]*+[^\W_]++){{{run}}}")) for run in (8, 4, 2, 1))


def _positions(indexed: str, wanted: frozenset[str]) -> list[Found]:
    """(word number, stem) of each stem ``wanted`` in ``indexed`` (stems separated by single
    spaces), in order: found with str.find, instead of splitting the whole text in words."""
    padded = f" {indexed} "
    hits: list[tuple[int, str]] = []
    for term in wanted:
        needle = f" {term} "
        at = padded.find(needle)
        while at >= 0:
            hits.append((at, term))
            at = padded.find(needle, at + len(needle) - 1)
    if len(wanted) > 1:
        hits.sort()
    found: list[Found] = []
    number, counted = 0, 0
    for at, term in hits:  # a word's number is the count of spaces before it
        number += padded.count(" ", counted, at)
        counted = at
        found.append((number, term))
    return found


def _window(positions: Sequence[Found], size: int) -> tuple[int, int, int]:
    """Where to start the snippet of ``size`` words with the most distinct stems wanted (then
    the most words found): (first word, distinct stems, words found), a few words before.
    ``positions`` are the words found, in order, as (word number, stem)."""
    reach = size - 4
    numbers = [number for number, _ in positions]
    if len({term for _, term in positions}) == 1:  # one stem: the most words within reach
        count, first = max(
            (bisect_left(numbers, number + reach, index) - index, -number)
            for index, number in enumerate(numbers)
        )
        return max(0, -first - 4), 1, count
    best = (0, 0, 0)
    inside: dict[str, int] = {}
    end, total = 0, len(positions)
    for index, (first, term) in enumerate(positions):
        while end < total and numbers[end] < first + reach:
            found = positions[end][1]
            inside[found] = inside.get(found, 0) + 1
            end += 1
        if (len(inside), end - index) > best[1:]:
            best = (max(0, first - 4), len(inside), end - index)
        if inside[term] == 1:
            del inside[term]
        else:
            inside[term] -= 1
    return best


def _render(
    text: str, spans: Sequence[re.Match[str]], marked: Sequence[int], cut: bool, size: int
) -> Markup:
    """The first ``size`` words of ``spans`` (the words of ``text`` from the window's start,
    and the next one when there is one), escaped, words number ``marked`` (in order) in
    <mark>; "… " ahead when the window does not start the text (``cut``), " …" behind when it
    does not end it."""
    if not spans:
        return Markup("")
    end = min(len(spans), size)
    begin = spans[0].start() if cut else 0
    stop = len(text) if end == len(spans) else spans[end - 1].end()
    pieces: list[str] = ["… "] if begin > 0 else []
    cursor = begin
    for index in marked:
        if index < end:
            match = spans[index]
            pieces.append(escape(text[cursor : match.start()]))
            pieces.append(f"<mark>{escape(match[0])}</mark>")
            cursor = match.end()
    pieces.append(escape(text[cursor:stop]))
    if stop < len(text):
        pieces.append(" …")
    return Markup("".join(pieces))


#: the snippets of this process (a few MB at most), by (slug, source hash, stems wanted): a
#: snippet depends on nothing else, building one reads the sheet's text, and visitors ask for
#: the same words again and again, with other facets or another page
SNIPPETS: Memo[tuple[str, str, frozenset[str]], Markup] = Memo(20_000)
#: what snippets read of a sheet, by (slug, source hash): the stems of its texts, and (by
#: column too) the text shown with its word marks. A sheet is a hit of many searches (the
#: 3,740 hits of 187 searches at 1,000 sheets were 586 sheets), and reading its texts from the
#: index was a fifth of a new search; some 15 KB a sheet. A sheet whose texts are longer than
#: KEPT_CHARS is read again each time (600 sheets of a few MB would hold gigabytes)
STEMS: Memo[tuple[str, str], tuple[str, ...]] = Memo(SHEETS_KEPT := 600)
SHOWN: Memo[tuple[str, str, int], tuple[str, bytes]] = Memo(SHEETS_KEPT)
KEPT_CHARS = 40_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V", tuple[str, ...], tuple[str, bytes])


def kept(memo: Memo[K, V], key: K, value: V) -> V:
    """``value`` (texts, or a text and its marks), kept in ``memo`` unless its texts are long."""
    if sum(len(part) for part in value) <= KEPT_CHARS:
        memo.put(key, value)
    return value


def forget() -> None:
    """Empty the memos (a server at rest)."""
    for memo in (SNIPPETS, STEMS, SHOWN):
        memo.clear()
