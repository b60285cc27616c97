"""The groups of a collection (a divider each) and the order of the sheets inside them.

``group_by`` names what makes a group: ``theme`` (the default: themes.yaml's order, colours,
intros and pictograms), ``kind``, ``none``, or any other top-level field of the sheets: a field
of type ``theme`` groups like ``theme``; any other field makes one group per value, in the order
of the enum's values when it is an enum and in French alphabetical order otherwise. Sheets
without a value come last, in a group of their own; when no sheet has one, there are no groups
(and no dividers) at all. Titles and places are sorted in French order (core/collation.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from recueil.collection.definition import GROUP_COLOUR, Collection, Group, region_of
from recueil.core.collation import Key, french_key
from recueil.sources.schema import Kind
from recueil.sources.sheet import Sheet
from recueil.sources.themes import Theme

#: group_by values that are not field names
BUILT_IN = ("kind", "none")
#: label of the last group, the sheets without a value for the grouping field
OTHERS = "Autres fiches"


def grouping_problem(name: str, kinds: Mapping[str, Kind]) -> str | None:
    """Why ``group_by: NAME`` cannot group the sheets of these kinds, or None."""
    if name in BUILT_IN or name == "theme":
        return None
    specs = [kind.field(name) for kind in kinds.values()]
    found = [spec for spec in specs if spec is not None]
    if not found:
        return f"no kind has a field '{name}' (group_by: theme, kind, none or a field's name)"
    if any(spec.type in ("list", "object") for spec in found):
        return f"field '{name}' holds a list or a mapping: a sheet could belong to several groups"
    return None


def _sort_key(order: str, sheet: Sheet) -> tuple[Key, ...]:
    title = french_key(sheet.title)
    if order == "territory":
        territory = sheet.meta.get("territory", {})
        return (
            french_key(region_of(sheet)),
            french_key(str(territory.get("departement", ""))),
            french_key(str(territory.get("cite_educative", ""))),
            title,
            french_key(sheet.slug),
        )
    return (title, french_key(sheet.slug))


def group_sheets(
    collection: Collection,
    chosen: Sequence[Sheet],
    themes: Sequence[Theme],
    kinds: Mapping[str, Kind],
) -> list[Group]:
    """Group (by theme in theme order, by kind, by a field, or not at all) and order the
    chosen sheets."""
    order = collection.option(
        "order", "explicit" if "slugs" in collection.meta.get("select", {}) else "title"
    )

    def arrange(items: list[Sheet]) -> tuple[Sheet, ...]:
        if order == "explicit":
            return tuple(items)
        return tuple(sorted(items, key=lambda s: _sort_key(order, s)))

    grouping = collection.option("group_by", "theme")
    if grouping == "kind":
        groups = []
        for number, (name, kind) in enumerate(kinds.items(), 1):
            members = [s for s in chosen if s.kind == name]
            if members:
                groups.append(Group(name, number, kind.label, GROUP_COLOUR, "", arrange(members)))
        return groups
    if grouping != "none" and any(_scalar(s, grouping) for s in chosen):
        return _by_field(grouping, chosen, themes, kinds, arrange)
    return [Group("all", 0, "", GROUP_COLOUR, "", arrange(list(chosen)))]


def _scalar(sheet: Sheet, name: str) -> str:
    """A sheet's value of a grouping field as text ("" when it has none, or a list...)."""
    value = sheet.meta.get(name)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (str, int)):  # bool is an int
        return str(value).lower() if isinstance(value, bool) else str(value)
    return ""


def _by_field(
    name: str,
    chosen: Sequence[Sheet],
    themes: Sequence[Theme],
    kinds: Mapping[str, Kind],
    arrange: Callable[[list[Sheet]], tuple[Sheet, ...]],
) -> list[Group]:
    specs = [spec for kind in kinds.values() if (spec := kind.field(name)) is not None]
    groups: list[Group] = []
    if name == "theme" or any(spec.type == "theme" for spec in specs):
        for number, theme in enumerate(themes, 1):
            members = [s for s in chosen if _scalar(s, name) == theme.code]
            if members:
                groups.append(
                    Group(
                        theme.code,
                        number,
                        theme.label,
                        theme.colour,
                        theme.intro,
                        arrange(members),
                        theme=True,
                    )
                )
        rest = [s for s in chosen if _scalar(s, name) not in {t.code for t in themes}]
    else:
        enum = list(dict.fromkeys(v for spec in specs if spec.type == "enum" for v in spec.values))
        values = {_scalar(s, name) for s in chosen} - {""}
        ordered = sorted(
            values,
            key=lambda v: (v not in enum, enum.index(v) if v in enum else 0, french_key(v)),
        )
        for number, value in enumerate(ordered, 1):
            members = [s for s in chosen if _scalar(s, name) == value]
            # keys are not slugs (the leading '_'), so that none is ever a theme's code
            groups.append(Group(f"_{number}", number, value, GROUP_COLOUR, "", arrange(members)))
        rest = [s for s in chosen if not _scalar(s, name)]
    if rest:
        groups.append(Group("_others", 0, OTHERS, GROUP_COLOUR, "", arrange(rest)))
    return groups
