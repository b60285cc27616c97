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
