"""The text side of the search index: words, French stems, what a sheet says.

Words are runs of letters and digits of the text in NFC (``l'école`` is ``l`` and ``école``,
``Hauts-de-France`` three words), the same split as SQLite's unicode61 tokenizer. Each word is
lower-cased and stripped of its accents *before* the French Snowball stemmer sees it, at index
and query time alike, so ``éducative``, ``educatives`` and ``Éducatif`` all become ``educ``: a
query typed without accents always finds the accented text. The index stores, for each text, the
stems in the order of its words (one stem per word, none dropped), beside the original text, so
a snippet (search_snippets.py) can mark the original words whose stems a query asked for without
stemming anything again.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import markdown
import snowballstemmer

from recueil.core.limits import InputLimits, TooSlow, deadline
from recueil.markup.structure import source_problem
from recueil.sources.sheet import Sheet

#: longest query taken into account, and most words searched (the rest is ignored)
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 20

#: a word: a run of letters and digits
WORD = re.compile(r"[^\W_]+")
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
    return (m for m in WORD.finditer(text) if m[0].isascii() or _has_stem(m[0]))


@lru_cache(maxsize=200_000)
def _has_stem(word: str) -> bool:
    """Whether a word keeps a letter or digit once folded (remembered: snippets ask for the
    same words of French text over and over, and folding is most of their cost)."""
    return bool(fold(word))


def cut(query: str) -> str:
    """The query as searched: its first MAX_QUERY_CHARS characters, a word cut in two left out."""
    if len(query) <= MAX_QUERY_CHARS:
        return query.strip()
    text = query[:MAX_QUERY_CHARS]
    if WORD.match(query, MAX_QUERY_CHARS) and WORD.match(text, len(text) - 1):
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
