"""Read kind schemas (``kinds/NAME.yaml``) into Kind objects, reporting mistakes in them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recueil.core.diagnostics import Diagnostic, error
from recueil.core.yamlsafe import YamlProblem, read_yaml
from recueil.sources.schema import FIELD_TYPES, FieldSpec, Kind, Section

_SPEC_KEYS = {
    "type", "required", "help", "values", "items", "fields", "min", "max", "descriptions",
}  # fmt: skip
_KIND_KEYS = {
    "name", "label", "folder", "template", "fields", "sections", "field_map", "extra_fields",
}  # fmt: skip
EXTRA_FIELDS = ("error", "warn", "ignore")


class _KindError(Exception):
    pass


def load_kind(path: Path, display: str) -> tuple[Kind | None, list[Diagnostic]]:
    """Parse one kind file; on any mistake return None and say where it is."""
    try:
        data, locations = read_yaml(path.read_text(encoding="utf-8"))
    except YamlProblem as exc:
        return None, [error(display, exc.line, exc.message, exc.column)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(display, None, f"cannot read kind file: {exc}")]
    try:
        if not isinstance(data, dict):
            raise _KindError("a kind file must be a mapping with name, template and fields")
        unknown = sorted(set(data) - _KIND_KEYS)
        if unknown:
            raise _KindError(f"unknown key(s) in kind file: {', '.join(unknown)}")
        name = _text(data, "name", default=path.stem)
        fields = data.get("fields")
        if not isinstance(fields, dict) or not fields:
            raise _KindError("'fields' must map field names to their specification")
        specs = tuple(_spec(field, raw) for field, raw in fields.items())
        names = {spec.name for spec in specs}
        if "title" not in names:
            raise _KindError("every kind needs a 'title' field")
        # without a 'slug' field, a sheet's slug is its file name (sheet.slug_from_file_name)
        sections = tuple(_section(raw) for raw in data.get("sections", []) or [])
        extra = _text(data, "extra_fields", default="error")
        if extra not in EXTRA_FIELDS:
            raise _KindError(f"'extra_fields' must be one of {', '.join(EXTRA_FIELDS)}")
        kind = Kind(
            name=name,
            label=_text(data, "label", default=name),
            folder=_text(data, "folder", default=name),
            template=_text(data, "template", default=f"{name}.html"),
            fields=specs,
            sections=sections,
            source=display,
            field_map=_field_map(data.get("field_map"), names),
            extra_fields=extra,
        )
    except _KindError as exc:
        line = locations.get("", (None, None))[0]
        return None, [error(display, line, str(exc))]
    return kind, []


def _text(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise _KindError(f"'{key}' must be a string")
    return value


def _field_map(raw: Any, names: set[str]) -> tuple[tuple[str, str], ...]:
    """``field_map: {source name: field of this kind}``, checked: every target a field of the
    kind, no source a field of its own (it would hide it), no target named twice."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise _KindError("'field_map' must map names used in the sources to fields of this kind")
    seen: dict[str, str] = {}
    for source, target in raw.items():
        if target not in names:
            raise _KindError(f"field_map: '{target}' (for '{source}') is not a field of this kind")
        if source in names or source == "kind":
            raise _KindError(f"field_map: '{source}' is already a field name of this kind")
        if target in seen:
            raise _KindError(f"field_map: '{seen[target]}' and '{source}' both map to '{target}'")
        seen[target] = source
    return tuple(raw.items())


def _descriptions(name: str, raw: Any, values: list[Any]) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise _KindError(f"field '{name}': 'descriptions' must map values to their meaning")
    unknown = [str(key) for key in raw if key not in values]
    if unknown:
        raise _KindError(f"field '{name}': descriptions of unknown value(s) {', '.join(unknown)}")
    return tuple((str(v), raw[v]) for v in values if v in raw)


def _spec(name: str, raw: Any) -> FieldSpec:
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, dict):
        raise _KindError(f"field '{name}': specification must be a mapping")
    unknown = sorted(set(raw) - _SPEC_KEYS)
    if unknown:
        raise _KindError(f"field '{name}': unknown key(s) {', '.join(unknown)}")
    kind = raw.get("type", "string")
    if kind not in FIELD_TYPES:
        raise _KindError(f"field '{name}': unknown type '{kind}' (one of {', '.join(FIELD_TYPES)})")
    values = raw.get("values", [])
    if kind == "enum" and (not isinstance(values, list) or not values):
        raise _KindError(f"field '{name}': an enum needs a list of 'values'")
    descriptions: tuple[tuple[str, str], ...] = ()
    if "descriptions" in raw:
        if kind != "enum":
            raise _KindError(f"field '{name}': only an enum has 'descriptions'")
        descriptions = _descriptions(name, raw["descriptions"], values)
    items = None
    if kind == "list":
        if "items" not in raw:
            raise _KindError(f"field '{name}': a list needs 'items'")
        items = _spec(name, raw["items"])
    sub: tuple[FieldSpec, ...] = ()
    if kind == "object":
        if not isinstance(raw.get("fields"), dict):
            raise _KindError(f"field '{name}': an object needs 'fields'")
        sub = tuple(_spec(key, value) for key, value in raw["fields"].items())
    return FieldSpec(
        name=name,
        type=kind,
        required=str(raw.get("required", "false")).lower() == "true",
        help=str(raw.get("help", "")),
        values=tuple(str(v) for v in values),
        items=items,
        fields=sub,
        min=int(raw["min"]) if "min" in raw else None,
        max=int(raw["max"]) if "max" in raw else None,
        descriptions=descriptions,
    )


def _section(raw: Any) -> Section:
    if isinstance(raw, str):
        return Section(raw)
    if not isinstance(raw, dict) or "title" not in raw:
        raise _KindError("each section needs a 'title'")
    return Section(str(raw["title"]), str(raw.get("required", "false")).lower() == "true")
