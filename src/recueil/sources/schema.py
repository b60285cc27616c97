"""Kinds of document as data: a schema of typed fields, read from ``kinds/NAME.yaml``.

A kind's schema says which front-matter fields exist, their types, which are required and what
values are allowed. Validation converts the strings read from YAML into typed values and reports
every problem at once, each naming the field and its line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recueil.core.diagnostics import Diagnostic, error
from recueil.core.limits import InputLimits, image_problem
from recueil.core.yamlsafe import Locations

FIELD_TYPES = (
    "string", "text", "integer", "boolean", "date", "enum", "list", "object",
    "email", "url", "age_range", "theme", "slug", "image", "sheet_ref",
)  # fmt: skip

SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
URL_RE = re.compile(r"^https?://[^\s<>\"]+$")
AGE_RE = re.compile(r"^\s*(\d{1,2})\s*(?:-|à|–)\s*(\d{1,2})\s*(?:ans\s*)?$")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
MAX_AGE = 25


@dataclass(frozen=True)
class FieldSpec:
    """One field of a kind's schema (or of an object or list item inside it)."""

    name: str
    type: str
    required: bool = False
    help: str = ""
    values: tuple[str, ...] = ()
    items: FieldSpec | None = None
    fields: tuple[FieldSpec, ...] = ()
    min: int | None = None
    max: int | None = None
    #: what each value of an enum means, in the order of ``values`` (printed in reading guides)
    descriptions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Section:
    """A body section a kind expects, as a level-2 heading, in schema order."""

    title: str
    required: bool = False


@dataclass(frozen=True)
class Kind:
    """A kind of document: its schema, its default content folder and its template."""

    name: str
    label: str
    folder: str
    template: str
    fields: tuple[FieldSpec, ...]
    sections: tuple[Section, ...] = ()
    source: str = ""
    #: front-matter names of a corpus written for another tool → this kind's field names
    field_map: tuple[tuple[str, str], ...] = ()
    #: what to do with a top-level field the schema does not know: error, warn or ignore
    extra_fields: str = "error"

    def field(self, name: str) -> FieldSpec | None:
        """The top-level field of that name, if the schema has one."""
        return next((f for f in self.fields if f.name == name), None)

    def source_name(self, name: str) -> str:
        """The name a field has in the sources (its own, unless ``field_map`` renames it)."""
        return next((source for source, target in self.field_map if target == name), name)


@dataclass
class ValidationContext:
    """What validating a field needs beyond the value itself."""

    path: str
    source_dir: Path
    project_dir: Path
    theme_codes: tuple[str, ...]
    locations: Locations
    line_offset: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    limits: InputLimits = field(default_factory=InputLimits)
    #: image fields validated so far, against limits.max_images
    images: int = 0

    def report(self, field_path: str, message: str) -> None:
        """Record an error at the line of ``field_path`` (or its nearest located parent)."""
        line, column = self.locate(field_path)
        self.diagnostics.append(error(self.path, line, message, column))

    def locate(self, field_path: str) -> tuple[int | None, int | None]:
        """Line and column of a field in the source file, walking up to a located parent."""
        probe = field_path
        while probe:
            if probe in self.locations:
                line, column = self.locations[probe]
                return line + self.line_offset, column
            parent = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
            if parent == probe:
                break
            probe = parent
        return (1 + self.line_offset if self.line_offset else 1), None


def closest(name: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The candidate an author most probably meant, for "did you mean" hints."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def validate_fields(
    specs: tuple[FieldSpec, ...], data: Mapping[str, Any], prefix: str, ctx: ValidationContext
) -> dict[str, Any]:
    """Validate a mapping against field specs; unknown and missing fields are reported."""
    known = {spec.name: spec for spec in specs}
    result: dict[str, Any] = {}
    for key in data:
        if key not in known:
            hint = closest(key, tuple(known))
            suggestion = f" (did you mean '{hint}'?)" if hint else ""
            where = f" in '{prefix}'" if prefix else ""
            ctx.report(_join(prefix, key), f"unknown field '{key}'{where}{suggestion}")
    for spec in specs:
        path = _join(prefix, spec.name)
        if spec.name not in data or _is_empty(data[spec.name]):
            if spec.required and spec.name in data:
                # present but blank, as `recueil new` leaves it: the author must fill it in
                ctx.report(path, f"field '{path}' is empty: it is required, fill it in")
            elif spec.required:
                ctx.report(path, f"missing required field '{path}'")
            continue
        value = validate_value(spec, data[spec.name], path, ctx)
        if value is not None:
            result[spec.name] = value
    return result


def validate_value(spec: FieldSpec, raw: Any, path: str, ctx: ValidationContext) -> Any:
    """Convert one raw YAML value to the spec's type; report and return None when it is wrong."""
    if spec.type == "list":
        if not isinstance(raw, list):
            ctx.report(path, f"field '{path}' must be a list (one '- item' per line)")
            return None
        assert spec.items is not None
        items = [
            validate_value(spec.items, item, f"{path}[{i}]", ctx) for i, item in enumerate(raw)
        ]
        return [item for item in items if item is not None]
    if spec.type == "object":
        if not isinstance(raw, dict):
            ctx.report(path, f"field '{path}' must be a mapping of sub-fields")
            return None
        return validate_fields(spec.fields, raw, path, ctx)
    if not isinstance(raw, str):
        ctx.report(path, f"field '{path}' must be a single value, not a list or mapping")
        return None
    checker = _SCALARS[spec.type]
    try:
        return checker(raw.strip(), spec, ctx)
    except ValueError as exc:
        ctx.report(path, f"field '{path}': {exc}")
        return None


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _string(raw: str, spec: FieldSpec, ctx: ValidationContext) -> str:
    return raw


def _integer(raw: str, spec: FieldSpec, ctx: ValidationContext) -> int:
    if not re.fullmatch(r"-?\d+", raw):
        raise ValueError(f"'{raw}' is not a whole number (write digits only, e.g. 12500)")
    value = int(raw)
    if spec.min is not None and value < spec.min:
        raise ValueError(f"{value} is below the minimum {spec.min}")
    if spec.max is not None and value > spec.max:
        raise ValueError(f"{value} is above the maximum {spec.max}")
    return value


def _boolean(raw: str, spec: FieldSpec, ctx: ValidationContext) -> bool:
    lowered = raw.lower()
    if lowered in ("true", "oui"):
        return True
    if lowered in ("false", "non"):
        return False
    raise ValueError(f"'{raw}' is not true or false")


def _date(raw: str, spec: FieldSpec, ctx: ValidationContext) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise ValueError(f"'{raw}' is not a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"'{raw}' is not a valid calendar date") from None


def _enum(raw: str, spec: FieldSpec, ctx: ValidationContext) -> str:
    if raw in spec.values:
        return raw
    hint = closest(raw, spec.values)
    suggestion = f"; did you mean '{hint}'?" if hint else ""
    allowed = ", ".join(f"'{v}'" for v in spec.values)
    raise ValueError(f"'{raw}' is not allowed (allowed: {allowed}){suggestion}")


def _email(raw: str, spec: FieldSpec, ctx: ValidationContext) -> str:
    if not EMAIL_RE.match(raw):
        raise ValueError(f"'{raw}' is not an e-mail address")
    return raw


def _url(raw: str, spec: FieldSpec, ctx: ValidationContext) -> str:
    if not URL_RE.match(raw):
        raise ValueError(f"'{raw}' is not an http:// or https:// address")
    return raw


def _age_range(raw: str, spec: FieldSpec, ctx: ValidationContext) -> tuple[int, int]:
    match = AGE_RE.match(raw)
    if match is None:
        if re.fullmatch(r"\d{1,2}", raw):
            low = high = int(raw)
        else:
            raise ValueError(f"'{raw}' is not an age range such as 6-11")
    else:
        low, high = int(match[1]), int(match[2])
    if low > high:
        raise ValueError(f"age range '{raw}' starts after it ends")
    if high > MAX_AGE:
        raise ValueError(f"age range '{raw}' goes beyond {MAX_AGE}, the programme's upper age")
    return (low, high)


def _theme(raw: str, spec: FieldSpec, ctx: ValidationContext) -> str:
    if raw in ctx.theme_codes:
        return raw
    hint = closest(raw, ctx.theme_codes)
    suggestion = f"; did you mean '{hint}'?" if hint else ""
    raise ValueError(f"unknown theme '{raw}' (not in themes.yaml){suggestion}")


def _slug(raw: str, spec: FieldSpec, ctx: ValidationContext) -> str:
    if not SLUG_RE.match(raw):
        raise ValueError(
            f"'{raw}' is not a valid slug (letters, digits, '-' and '_', at most 64 characters)"
        )
    return raw


def _image(raw: str, spec: FieldSpec, ctx: ValidationContext) -> str:
    if "://" in raw or raw.startswith(("/", "data:", "file:")):
        raise ValueError(f"image '{raw}' must be a path relative to the sheet, inside the project")
    if not raw.lower().endswith(IMAGE_SUFFIXES):
        raise ValueError(f"image '{raw}' must be one of {', '.join(IMAGE_SUFFIXES)}")
    try:
        target = (ctx.source_dir / raw).resolve()
        inside = target.is_relative_to(ctx.project_dir.resolve())
        exists = inside and target.is_file()
    except (OSError, ValueError, RuntimeError) as exc:  # too long, NUL byte, symlink loop
        raise ValueError(f"image '{raw}' refused: its path cannot be used ({exc})") from None
    if not inside:
        raise ValueError(f"image '{raw}' is outside the project")
    if not exists:
        raise ValueError(f"image '{raw}' does not exist")
    ctx.images += 1
    if ctx.images > ctx.limits.max_images:
        raise ValueError(
            f"image '{raw}' refused: more than {ctx.limits.max_images} images in the front "
            "matter (setting max_images)"
        )
    problem = image_problem(target, ctx.project_dir, ctx.limits)
    if problem is not None:
        raise ValueError(f"image '{raw}' refused: {problem}")
    return target.relative_to(ctx.project_dir.resolve()).as_posix()


def _sheet_ref(raw: str, spec: FieldSpec, ctx: ValidationContext) -> str:
    # Existence is checked once every sheet is loaded (see project validation).
    return _slug(raw, spec, ctx)


_SCALARS: dict[str, Callable[[str, FieldSpec, ValidationContext], Any]] = {
    "string": _string,
    "text": _string,
    "integer": _integer,
    "boolean": _boolean,
    "date": _date,
    "enum": _enum,
    "email": _email,
    "url": _url,
    "age_range": _age_range,
    "theme": _theme,
    "slug": _slug,
    "image": _image,
    "sheet_ref": _sheet_ref,
}
