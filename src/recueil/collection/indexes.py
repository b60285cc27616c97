"""The indexes at the end of a collection: by territory and by keyword, in French order.

Which fields feed them is the collection's choice (``index_fields``): by default the keyword
index reads ``keywords`` and the territory index ``territory.region``, ``territory.departement``
and ``territory.cite_educative``; a corpus with other names lists its own (dotted paths).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from recueil.core.collation import french_key
from recueil.sources.sheet import Sheet

KEYWORD_FIELDS = ("keywords",)
TERRITORY_FIELDS = ("territory.region", "territory.departement", "territory.cite_educative")
TerritoryIndex = list[tuple[str, list[tuple[str, list[tuple[str, list[Sheet]]]]]]]


def field_value(meta: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of front matter ('territory.region'), or None."""
    value: Any = meta
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def territory_index(
    sheets: Sequence[Sheet], levels: Sequence[str] = TERRITORY_FIELDS
) -> TerritoryIndex:
    """Région → département → cité éducative → sheets, each level in French sort order.

    ``levels`` are the fields of the (up to) three levels; a sheet without the first is left out,
    a missing lower level is "" (the template prints no heading for it).
    """
    tree: dict[str, dict[str, dict[str, list[Sheet]]]] = {}
    for sheet in sheets:
        values = [field_value(sheet.meta, path) for path in levels]
        if not isinstance(values[0], str) or not values[0]:
            continue
        region, dept, cite = [v if isinstance(v, str) else "" for v in values] + [""] * (
            3 - len(values)
        )
        tree.setdefault(region, {}).setdefault(dept, {}).setdefault(cite, []).append(sheet)
    return [
        (
            region,
            [
                (
                    dept,
                    [
                        (cite, sorted(items, key=lambda s: (french_key(s.title), s.slug)))
                        for cite, items in sorted(cites.items(), key=lambda kv: french_key(kv[0]))
                    ],
                )
                for dept, cites in sorted(depts.items(), key=lambda kv: french_key(kv[0]))
            ],
        )
        for region, depts in sorted(tree.items(), key=lambda kv: french_key(kv[0]))
    ]


def keyword_index(
    sheets: Sequence[Sheet], fields: Sequence[str] = KEYWORD_FIELDS
) -> list[tuple[str, list[Sheet]]]:
    """Keyword → sheets, keywords merged ignoring case and accents, in French order.

    ``fields`` hold a keyword or a list of them; a sheet is listed once under each keyword.
    """
    found: dict[str, tuple[str, list[Sheet]]] = {}
    for sheet in sheets:
        for path in fields:
            value = field_value(sheet.meta, path)
            for keyword in value if isinstance(value, list) else [value]:
                if not isinstance(keyword, str) or not keyword.strip():
                    continue
                entries = found.setdefault(fold(keyword), (keyword, []))[1]
                if all(entry is not sheet for entry in entries):
                    entries.append(sheet)
    return sorted(found.values(), key=lambda entry: french_key(entry[0]))


def fold(text: str) -> str:
    """Text without accents nor case, to merge 'Numérique' and 'numerique'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
