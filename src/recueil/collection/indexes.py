"""The indexes at the end of a collection: by territory and by keyword, in French order."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from recueil.sources.sheet import Sheet


def territory_index(
    sheets: Sequence[Sheet],
) -> list[tuple[str, list[tuple[str, list[tuple[str, list[Sheet]]]]]]]:
    """Région → département → cité éducative → sheets, each level in French sort order."""
    tree: dict[str, dict[str, dict[str, list[Sheet]]]] = {}
    for sheet in sheets:
        territory = sheet.meta.get("territory")
        if not isinstance(territory, Mapping):
            continue
        tree.setdefault(territory["region"], {}).setdefault(
            territory["departement"], {}
        ).setdefault(territory["cite_educative"], []).append(sheet)
    return [
        (
            region,
            [
                (
                    dept,
                    [
                        (cite, sorted(items, key=lambda s: s.title.casefold()))
                        for cite, items in sorted(cites.items(), key=lambda kv: fold(kv[0]))
                    ],
                )
                for dept, cites in sorted(depts.items(), key=lambda kv: fold(kv[0]))
            ],
        )
        for region, depts in sorted(tree.items(), key=lambda kv: fold(kv[0]))
    ]


def keyword_index(sheets: Sequence[Sheet]) -> list[tuple[str, list[Sheet]]]:
    """Keyword → sheets, keywords merged case-insensitively and sorted ignoring accents."""
    found: dict[str, tuple[str, list[Sheet]]] = {}
    for sheet in sheets:
        for keyword in sheet.meta.get("keywords", []):
            key = fold(keyword)
            found.setdefault(key, (keyword, []))[1].append(sheet)
    return [found[key] for key in sorted(found)]


def fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
