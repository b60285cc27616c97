"""What the template of a collection's generated parts is given (``templates/collection.html``).

Everything the parts print that is data of the project comes from here: the groups and their
pages, the editorial and the reading guide (Markdown files named by the collection), the themes
of the legend and which of them have a pictogram, the meanings of the statuses (the
``descriptions`` of a kind's ``status`` field), the indexes from the fields the collection
chooses, and the names of the sheets' authors in French order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from recueil.collection.definition import Collection, Group
from recueil.collection.indexes import (
    KEYWORD_FIELDS,
    TERRITORY_FIELDS,
    keyword_index,
    territory_index,
)
from recueil.collection.plan import Plan
from recueil.core.collation import french_key
from recueil.markup.fragment import Fragment
from recueil.markup.markdown import MarkupOptions, to_html
from recueil.render.template import typography_options
from recueil.sources.edition_label import Edition
from recueil.sources.project import Project

#: the field whose values the reading guide explains, when its kind describes them
STATUS_FIELD = "status"


def markdown_part(project: Project, text: str, name: str) -> Fragment:
    """A Markdown file of the collection (editorial, reading guide) as sanitised HTML; front
    matter, if any, is skipped. ``name`` is the file as the collection names it, for messages."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":
        start = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
    options = MarkupOptions(
        slug="editorial",
        source_dir=project.root,
        project_dir=project.root,
        language=project.settings.language,
        typography=typography_options(project),
        limits=project.settings.input_limits(),
        site_root=project.site_root,
    )
    return to_html("\n".join(lines[start:]), start + 1, name, options)


def statuses(project: Project, kinds: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """Each value of the ``status`` field of ``kinds`` (default: all) that its kind describes,
    with its meaning."""
    found: dict[str, str] = {}
    for name, kind in project.kinds.items():
        spec = kind.field(STATUS_FIELD) if kinds is None or name in kinds else None
        for value, meaning in spec.descriptions if spec is not None else ():
            found.setdefault(value, meaning)
    return list(found.items())


def frame_context(
    project: Project,
    collection: Collection,
    groups: Sequence[Group],
    plan: Plan,
    html: dict[str, str],
    edition: Edition | None,
    missing: Sequence[str],
    kinds_in_use: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The template's context; ``html`` holds the editorial's and reading guide's HTML.

    The statuses explained are those of the kinds the project has sources of
    (``kinds_in_use``); the legend lists the themes of the groups, or every theme when the
    groups are not themes, and none when no sheet has a theme.
    """
    sheets = [sheet for group in groups for sheet in group.sheets]
    authors = {a for s in sheets for a in s.meta.get("authors", []) if isinstance(a, str)}
    by_theme = any(group.theme for group in groups)
    themed = any(sheet.meta.get("theme") for sheet in sheets)
    fields = collection.option("index_fields", {})
    return {
        "collection": collection.meta,
        "settings": project.settings,
        "groups": groups,
        "group_is_theme": by_theme,
        "group_noun": "thématiques" if by_theme else "parties",
        "legend_themes": [t for t in project.themes if any(g.key == t.code for g in groups)]
        if by_theme
        else list(project.themes)
        if themed
        else [],
        "pictos": project.pictograms(),
        "statuses": statuses(project, kinds_in_use),
        "sheet_count": len(sheets),
        "edition": edition,
        "pages": plan.sheet_pages,
        "group_pages": plan.group_pages,
        "part_pages": plan.part_pages,
        "indexes": list(collection.option("indexes", ["territories", "keywords"])),
        "editorial": Markup(html.get("editorial", "")),
        "reading_guide": Markup(html.get("reading_guide", "")),
        "territory_index": territory_index(sheets, fields.get("territories", TERRITORY_FIELDS)),
        "keyword_index": keyword_index(sheets, fields.get("keywords", KEYWORD_FIELDS)),
        "authors": sorted(authors, key=french_key),
        "missing": missing,
    }
