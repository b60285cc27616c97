"""The text side of the search index: words, French stems, what a sheet says, highlighted snippets.

Words are runs of letters and digits of the text in NFC (``l'école`` is ``l`` and ``école``,
``Hauts-de-France`` three words), the same split as SQLite's unicode61 tokenizer. Each word is
lower-cased and stripped of its accents *before* the French Snowball stemmer sees it, at index
and query time alike, so ``éducative``, ``educatives`` and ``Éducatif`` all become ``educ``: a
query typed without accents always finds the accented text. The index stores, for each text, the
stems in the order of its words (one stem per word, none dropped), beside the original text, so
a snippet can mark the original words whose stems a query asked for without stemming anything
again.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from itertools import islice
from typing import Any

import markdown
import snowballstemmer
from markupsafe import Markup, escape

from recueil.core.limits import InputLimits, TooSlow, deadline
from recueil.markup.structure import source_problem
from recueil.serve.memo import Memo
from recueil.sources.sheet import Sheet

#: longest query taken into account, and most words searched (the rest is ignored)
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 20
#: words of a snippet
SNIPPET_WORDS = 30

_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")
_LAST_WORD = re.compile(r"[^\W_]+\Z")
_STEMMER = snowballstemmer.stemmer("french")
#: words a query ignores (unless it has nothing else), accents already removed
STOPWORDS = frozenset((
    "a", "au", "aux", "avec", "c", "ce", "ces", "cet", "cette", "d", "dans", "de", "des", "du",
    "elle", "elles", "en", "est", "et", "il", "ils", "j", "je", "l", "la", "le", "les", "leur",
    "leurs", "lui", "m", "me", "n", "ne", "nos", "notre", "nous", "on", "ou", "par", "pas",
    "pour", "qu", "que", "qui", "s", "sa", "se", "ses", "son", "sont", "sur", "t", "ta", "te",
    "tes", "ton", "tu", "un", "une", "vos", "votre", "vous", "y",
))  # fmt: skip


def fold(text: str) -> str:
    """Lower case, without accents: 'Éducative' → 'educative' (only letters and digits kept)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isalnum())


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The stem of one word (any case, any accents): 'Éducatives' → 'educ'."""
    key = fold(word)
    stemmed = _STEMMER.stemWord(key) if key else key
    return stemmed if stemmed and stemmed.isalnum() else key


def words(text: str) -> Iterator[re.Match[str]]:
    """The words of ``text`` with their positions, those that have a stem."""
    return (m for m in _WORD.finditer(text) if m[0].isascii() or _has_stem(m[0]))


@lru_cache(maxsize=200_000)
def _has_stem(word: str) -> bool:
    """Whether a word keeps a letter or digit once folded (remembered: snippets ask for the
    same words of French text over and over, and folding is most of their cost)."""
    return bool(fold(word))


def stems(text: str) -> str:
    """The stems of the words of ``text``, one per word, separated by spaces (what is indexed)."""
    return " ".join(stem(m[0]) for m in words(text))


def cut(query: str) -> str:
    """The query as searched: its first MAX_QUERY_CHARS characters, a word cut in two left out."""
    if len(query) <= MAX_QUERY_CHARS:
        return query.strip()
    text = query[:MAX_QUERY_CHARS]
    if _WORD.match(query, MAX_QUERY_CHARS) and _WORD.match(text, len(text) - 1):
        text = _LAST_WORD.sub("", text)
    return text.strip()


def query_stems(query: str) -> tuple[str, ...]:
    """The distinct stems a query looks for, stopwords left out (unless they are all it has)."""
    found: list[str] = []
    plain: list[str] = []
    for match in words(cut(query)):
        term = stem(match[0])
        target = plain if fold(match[0]) in STOPWORDS else found
        if term not in target:
            target.append(term)
    return tuple((found or plain)[:MAX_QUERY_TERMS])


def normalise(text: str) -> str:
    """NFC, one space between words: what is stored and shown."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


# ------------------------------------------------------------------------- a sheet's text


@dataclass(frozen=True)
class Document:
    """What the index holds of a sheet: its texts (original, normalised) and facet values."""

    slug: str
    source_hash: str
    kind: str
    theme: str
    date: str
    title: str
    sort_title: str
    keywords: str
    summary: str
    territory: str
    body: str
    facets: tuple[tuple[str, str], ...]

    def columns(self) -> tuple[str, str, str, str, str]:
        """The indexed texts, in the order of the full-text table's columns."""
        return (self.title, self.keywords, self.summary, self.territory, self.body)


def document(sheet: Sheet) -> Document:
    """A sheet's searchable texts and facet values."""
    meta = sheet.meta
    territory = meta.get("territory")
    place: Mapping[str, Any] = territory if isinstance(territory, Mapping) else {}
    keywords = _strings(meta.get("keywords"))
    date = meta.get("date")
    day = date.isoformat() if isinstance(date, dt.date) else _text(date)
    region = _text(place.get("region")) or _text(meta.get("region"))
    values = {
        "theme": [_text(meta.get("theme"))],
        "kind": [sheet.kind],
        "region": [region],
        "departement": [_text(place.get("departement"))],
        "cite": [_text(place.get("cite_educative"))],
        "status": [_text(meta.get("status"))],
        "year": [day[:4] if day[:4].isdigit() else ""],
        "keyword": keywords,
    }
    facets = tuple(dict.fromkeys((name, v) for name, vs in values.items() for v in vs if v).keys())
    summary = [meta.get("subtitle"), meta.get("chapo") or meta.get("abstract"), meta.get("event")]
    where = [
        place.get("cite_educative"),
        *_strings(place.get("communes")),
        *_strings(place.get("neighbourhoods")),
        place.get("intercommunality"),
        place.get("departement"),
        region,
        meta.get("place"),
    ]
    title = normalise(sheet.title)
    return Document(
        slug=sheet.slug,
        source_hash=sheet.source_hash,
        kind=sheet.kind,
        theme=_text(meta.get("theme")),
        date=day,
        title=title,
        sort_title=" ".join(fold(m[0]) for m in words(title)),
        keywords=_join([*keywords, meta.get("resource_type"), meta.get("document_type")], " · "),
        summary=_join(summary, " — "),
        territory=_join(where, ", "),
        body=normalise(plain_text(sheet.body)),
        facets=facets,
    )


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)


def _strings(value: object) -> list[str]:
    items = value if isinstance(value, list | tuple) else []
    return [t for t in (_text(item) for item in items) if t]


def _join(parts: Iterable[object], separator: str) -> str:
    kept = dict.fromkeys(t for t in (_text(p) for p in parts) if t)
    return normalise(separator.join(kept))


class _Text(HTMLParser):
    """The text of an HTML fragment, blocks separated by spaces, scripts and styles left out."""

    _SKIP = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        self.parts.append(" ")
        if tag == "img":
            self.parts.extend(v or "" for k, v in attrs if k in ("alt", "title"))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def plain_text(body: str) -> str:
    """A Markdown body as plain text (Markdown → HTML → text); the source itself when that fails.

    Python-Markdown is slow on deeply nested or huge input, so the source is first checked
    against the default limits and the conversion runs under their deadline.
    """
    limits = InputLimits()
    if source_problem(body, 1, "", limits) is not None:
        return body
    try:
        with deadline(limits.max_markup_seconds):
            html = markdown.markdown(
                body, extensions=["tables", "footnotes", "def_list", "fenced_code", "sane_lists"]
            )
            parser = _Text()
            parser.feed(html)
            parser.close()
    except (MemoryError, TimeoutError):
        raise
    except (TooSlow, RecursionError, Exception):
        return body
    return "".join(parser.parts).replace("\u21a9", " ").replace("\ufe0e", "")


# ------------------------------------------------------------------------------ snippets


def snippet(
    texts: Sequence[tuple[str, str]], wanted: frozenset[str], size: int = SNIPPET_WORDS
) -> Markup:
    """Some ``size`` words of the text that best shows the stems ``wanted`` (the most distinct
    ones, then the most words; the first text on a tie), with the words found in <mark>; the
    start of the first non-empty text when none of them has any.

    ``texts`` are (original text, its stems) pairs, as the index stores them: the stems say
    where the words found are without reading the text, which is only split up to the window.
    """
    chosen = best_window([indexed for _, indexed in texts], wanted, size)
    if chosen is None:
        return opening(next((t for t, _ in texts if t.strip()), ""), size)
    column, start = chosen
    text, indexed = texts[column]
    return window_snippet(text, indexed, wanted, start, size)


def best_window(
    stemmed: Sequence[str], wanted: frozenset[str], size: int = SNIPPET_WORDS
) -> tuple[int, int] | None:
    """Which of the texts of stems ``stemmed`` shows the stems ``wanted`` best, and from which
    word: (text number, first word); None when none has any. Only the stems are read, so a
    search fetches the original of one text per hit."""
    best: tuple[int, int, int, int] | None = None
    for column, indexed in enumerate(stemmed if wanted else ()):
        positions = _positions(indexed, wanted)
        if not positions:
            continue
        start, distinct, count = _window(positions, size)
        if best is None or (distinct, count) > (best[0], best[1]):
            best = (distinct, count, start, column)
    return None if best is None else (best[3], best[2])


def opening(text: str, size: int = SNIPPET_WORDS) -> Markup:
    """The first ``size`` words of ``text``, escaped (a hit whose texts show no word wanted)."""
    return _render(text, list(islice(words(text), size + 1)), [], 0, size)


def window_snippet(
    text: str, indexed: str, wanted: frozenset[str], start: int, size: int = SNIPPET_WORDS
) -> Markup:
    """Words ``start`` to ``start + size`` of ``text`` (whose stems are ``indexed``), those
    wanted in <mark>."""
    terms = indexed.split(" ", start + size)[: start + size]
    # every word of French text has a stem, so the regex's words are the stored ones: reading
    # them without the check words() makes halves the cost of a search (what is shown is
    # still checked against the stems just below); the words before the window are skipped
    # many at a time, never made into match objects
    skipped = _skip_words(text, start)
    spans: list[Any] = [None] * start  # only the window's words are read
    if skipped is not None:
        spans += islice(_WORD.finditer(text, skipped), size + 1)
    shown = range(start, min(start + size, len(spans)))
    if (
        skipped is None
        or len(spans) > indexed.count(" ") + 1
        or len(terms) < len(shown) + start
        or any(stem(spans[i][0]) != terms[i] for i in shown if terms[i] in wanted)
    ):  # the stored stems do not fit the text (another Unicode version?): stem it again
        spans = list(words(text))
        terms = [stem(m[0]) for m in spans]
        start = _window(_positions(" ".join(terms), wanted), size)[0]
    found = [False] * start + [t in wanted for t in terms[start : start + size]]
    return _render(text, spans, found, start, size)


#: runs of words skipped at once (possessive: a word is never cut to make up the count)
_WORD_RUNS = tuple((size, re.compile(rf"(?:[\W_]*+[^\W_]++){{{size}}}")) for size in (64, 8, 1))


def _skip_words(text: str, count: int) -> int | None:
    """Where the ``count``-th word of ``text`` begins its run (before the non-word characters
    ahead of it), or None when the text has fewer words."""
    at = 0
    for size, run in _WORD_RUNS:
        for _ in range(count // size):
            found = run.match(text, at)
            if found is None:
                return None
            at = found.end()
        count %= size
    return at


def _positions(indexed: str, wanted: frozenset[str]) -> list[tuple[int, str]]:
    """(word number, stem) of each stem ``wanted`` in ``indexed`` (stems separated by single
    spaces), in order: found with str.find, instead of splitting the whole text in words."""
    padded = f" {indexed} "
    hits: list[tuple[int, str]] = []
    for term in wanted:
        needle = f" {term} "
        at = padded.find(needle)
        while at >= 0:
            hits.append((at, term))
            at = padded.find(needle, at + len(term) + 1)
    hits.sort()
    found: list[tuple[int, str]] = []
    number, counted = 0, 0
    for at, term in hits:  # a word's number is the count of spaces before it
        number += padded.count(" ", counted, at)
        counted = at
        found.append((number, term))
    return found


def _window(positions: Sequence[tuple[int, str]], size: int) -> tuple[int, int, int]:
    """Where to start the snippet of ``size`` words with the most distinct stems wanted (then
    the most words found): (first word, distinct stems, words found), a few words before.
    ``positions`` are the words found, in order, as (word number, stem)."""
    best = (0, 0, 0)
    inside: Counter[str] = Counter()
    end = 0
    for index, (first, term) in enumerate(positions):
        while end < len(positions) and positions[end][0] < first + size - 4:
            inside[positions[end][1]] += 1
            end += 1
        if (len(inside), end - index) > best[1:]:
            best = (max(0, first - 4), len(inside), end - index)
        inside[term] -= 1
        if not inside[term]:
            del inside[term]
    return best


def _render(
    text: str, spans: Sequence[re.Match[str]], found: Sequence[bool], start: int, size: int
) -> Markup:
    """Words ``start`` to ``start + size`` of ``text`` (``spans`` holds at least those and
    the next one when there is one), escaped, those ``found`` in <mark>."""
    if not spans:
        return Markup("")
    end = min(len(spans), start + size)
    begin = 0 if start == 0 else spans[start].start()
    stop = len(text) if end == len(spans) else spans[end - 1].end()
    pieces: list[str] = ["… "] if begin > 0 else []
    cursor = begin
    for index in range(start, end):
        if index < len(found) and found[index]:
            match = spans[index]
            pieces.append(str(escape(text[cursor : match.start()])))
            pieces.append(f"<mark>{escape(match[0])}</mark>")
            cursor = match.end()
    pieces.append(str(escape(text[cursor:stop])))
    if stop < len(text):
        pieces.append(" …")
    return Markup("".join(pieces))


#: the snippets of this process (a few MB at most), by (slug, source hash, stems wanted): a
#: snippet depends on nothing else, building one reads the sheet's text, and visitors ask for
#: the same words again and again, with other facets or another page
SNIPPETS: Memo[tuple[str, str, frozenset[str]], Markup] = Memo(20_000)
