"""The project's themes (``themes.yaml``): code, order, label, short label, colour, intro."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from recueil.core.diagnostics import Diagnostic, error
from recueil.core.yamlsafe import YamlProblem, read_yaml
from recueil.sources.schema import FieldSpec, ValidationContext, validate_fields

THEMES_FILE = "themes.yaml"
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_SPECS = (
    FieldSpec("code", "slug", required=True),
    FieldSpec("order", "integer", required=True, min=0),
    FieldSpec("label", "string", required=True),
    FieldSpec("short", "string", required=True),
    FieldSpec("colour", "string", required=True),
    FieldSpec("intro", "text"),
)


@dataclass(frozen=True)
class Theme:
    """A theme of the collection, with the colour of its band and divider."""

    code: str
    order: int
    label: str
    short: str
    colour: str
    intro: str = ""
    #: line of the theme in themes.yaml, for messages (not part of what a theme looks like)
    line: int | None = field(default=None, compare=False, repr=False)


def load_themes(
    path: Path, display: str = THEMES_FILE
) -> tuple[tuple[Theme, ...], list[Diagnostic]]:
    """Read and validate the themes file, sorted by their order."""
    try:
        data, locations = read_yaml(path.read_text(encoding="utf-8"))
    except YamlProblem as exc:
        return (), [error(display, exc.line, exc.message, exc.column)]
    except OSError as exc:
        return (), [error(display, None, f"cannot read themes: {exc.strerror}")]
    if not isinstance(data, list) or not data:
        return (), [error(display, 1, "themes must be a non-empty list")]
    ctx = ValidationContext(display, path.parent, path.parent, (), locations)
    themes: list[Theme] = []
    seen: set[str] = set()
    for index, raw in enumerate(data):
        where = f"[{index}]"
        if not isinstance(raw, dict):
            ctx.report(where, "each theme must be a mapping")
            continue
        # validate_fields reports on paths relative to the item; prefix them with its index
        values = validate_fields(_SPECS, raw, where, ctx)
        if len(values) < 5:
            continue
        if not _COLOUR.match(values["colour"]):
            ctx.report(f"{where}.colour", f"colour '{values['colour']}' must be written #RRGGBB")
            continue
        if values["code"] in seen:
            ctx.report(f"{where}.code", f"theme code '{values['code']}' is used twice")
            continue
        seen.add(values["code"])
        themes.append(Theme(**values, line=ctx.locate(f"{where}.code")[0]))
    themes.sort(key=lambda t: (t.order, t.code))
    return tuple(themes), ctx.diagnostics
