"""What a search answers: one page of hits, the total, and every facet's values and counts."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup


@dataclass(frozen=True)
class Hit:
    """One sheet found: what a result card shows, and its bm25 score (higher is better)."""

    slug: str
    title: str
    kind: str
    theme: str
    date: str
    snippet: Markup
    score: float


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet, how many sheets it would show, and whether it is a filter now."""

    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    """A facet (one of FACETS) and its values: chosen ones first, then by count."""

    name: str
    values: tuple[FacetValue, ...]


@dataclass(frozen=True)
class Results:
    """One page of hits, how many in all, every facet, and the query as searched (cut)."""

    hits: tuple[Hit, ...]
    total: int
    facets: tuple[Facet, ...]
    page: int
    pages: int
    query: str


#: Results as tuples of strings and numbers: what crosses to and from the search process
#: (search_process.py). Pickling the dataclasses themselves cost 0.4 ms a page, tuples 0.05.
Plain = tuple[
    tuple[tuple[str, str, str, str, str, str, float], ...],
    int,
    tuple[tuple[str, tuple[tuple[str, int, bool], ...]], ...],
    int,
    int,
    str,
]


def plain(results: Results) -> Plain:
    """``results`` as tuples (:data:`Plain`)."""
    return (
        tuple((h.slug, h.title, h.kind, h.theme, h.date, str(h.snippet), h.score)
              for h in results.hits),
        results.total,
        tuple((f.name, tuple((v.value, v.count, v.selected) for v in f.values))
              for f in results.facets),
        results.page,
        results.pages,
        results.query,
    )  # fmt: skip


def from_plain(found: Plain) -> Results:
    """The Results that :func:`plain` made ``found`` of (snippets are HTML: Markup again)."""
    hits, total, facets, page, pages, query = found
    return Results(
        tuple(Hit(slug, title, kind, theme, date, Markup(snippet), score)
              for slug, title, kind, theme, date, snippet, score in hits),
        total,
        tuple(Facet(name, tuple(FacetValue(*value) for value in values))
              for name, values in facets),
        page,
        pages,
        query,
    )  # fmt: skip
