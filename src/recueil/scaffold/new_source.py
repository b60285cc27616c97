"""``recueil new``: a new source file whose front matter lists every field of its kind.

An author fills in blanks rather than remembering field names: each field is present, with its
help text and whether it is required as a comment; empty values count as absent, so ``check``
points at the required ones still to fill.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from recueil.sources.schema import FieldSpec, Kind


def slug_from_title(title: str, max_length: int = 48) -> str:
    """'Le café des parents !' → 'le-cafe-des-parents' (ASCII, lower-case, hyphens)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "fiche"


def new_source(kind: Kind, title: str, slug: str, today: dt.date) -> str:
    """The text of a new source file of ``kind``: front matter with every field, and sections."""
    lines = [
        "---",
        f"# {kind.label} — créée le {today.isoformat()}.",
        "# Champs marqués (obligatoire) : à remplir ; les autres peuvent rester vides.",
        f"kind: {kind.name}",
    ]
    for spec in kind.fields:
        written = _field_lines(spec, 0, title, slug, today)
        name = kind.source_name(spec.name)  # as the kind's sources write it (field_map)
        if name != spec.name:
            written[0] = name + written[0].removeprefix(spec.name)
        lines += written
    lines.append("---")
    lines.append("")
    for section in kind.sections:
        lines.append(f"## {section.title}")
        lines.append("")
        if section.required:
            lines.append("<!-- Section obligatoire : à rédiger. -->")
            lines.append("")
    return "\n".join(lines) + ("\n" if not kind.sections else "")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(spec: FieldSpec) -> str:
    parts = [
        spec.type if spec.type != "list" or spec.items is None else f"liste de {spec.items.type}"
    ]
    if spec.required:
        parts.append("obligatoire")
    if spec.values:
        parts.append("valeurs : " + " | ".join(spec.values))
    if spec.items is not None and spec.items.values:
        parts.append("valeurs : " + " | ".join(spec.items.values))
    if spec.help:
        parts.append(spec.help)
    return "  # " + " ; ".join(parts)


def _field_lines(spec: FieldSpec, depth: int, title: str, slug: str, today: dt.date) -> list[str]:
    pad = "  " * depth
    if depth == 0 and spec.name == "title":
        return [f"{pad}title: {_quote(title)}{_comment(spec)}"]
    if depth == 0 and spec.name == "slug":
        return [f"{pad}slug: {slug}{_comment(spec)}"]
    if depth == 0 and spec.name == "date":
        return [f"{pad}date: {today.isoformat()}{_comment(spec)}"]
    if spec.type == "object":
        lines = [f"{pad}{spec.name}:{_comment(spec)}"]
        for sub in spec.fields:
            lines += _field_lines(sub, depth + 1, title, slug, today)
        return lines
    if spec.type == "list":
        lines = [f"{pad}{spec.name}: []{_comment(spec)}"]
        if spec.items is not None and spec.items.type == "object":
            example = ", ".join(f"{sub.name}: …" for sub in spec.items.fields)
            lines.append(f"{pad}#   - {{{example}}}")
        return lines
    return [f"{pad}{spec.name}:{_comment(spec)}"]
