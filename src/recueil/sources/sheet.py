"""Sheets: read one source file (front matter + Markdown) into a validated, typed Sheet.

Sources come from many contributors, so reading one is defensive: a source must be a regular file
inside the project (a symbolic link to ``/etc/passwd`` or ``/dev/zero`` is refused before it is
opened), it is read no further than ``max_file_bytes``, and its front matter is capped at
``max_front_matter_bytes``; nothing here takes more than linear time in the size of the file.
"""

from __future__ import annotations

import hashlib
import re
import stat
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recueil.core.diagnostics import Diagnostic, error, warning
from recueil.core.yamlsafe import Locations, YamlProblem, read_yaml
from recueil.sources.project import Project
from recueil.sources.schema import (
    SLUG_RE,
    FieldSpec,
    Kind,
    ValidationContext,
    closest,
    validate_fields,
)

_FENCE = re.compile(r"^(```|~~~)")
_H2 = re.compile(r"^##\s+\S")
_H1 = re.compile(r"^#\s+\S")
#: longest slug, as the 'slug' field type allows
MAX_SLUG = 64


@dataclass(frozen=True)
class Sheet:
    """One validated source: the typed front matter, the Markdown body and where it came from."""

    path: Path
    rel: str
    kind: str
    slug: str
    title: str
    meta: Mapping[str, Any]
    body: str
    body_line: int
    source_hash: str


def load_sheet(
    project: Project, path: Path, parse: Callable[[str], tuple[Any, Locations]] = read_yaml
) -> tuple[Sheet | None, list[Diagnostic]]:
    """Read, parse and validate one source; None when it has errors (all of them are returned).

    ``parse`` reads the front matter (read_yaml, or a cache of its results: parsed.py).
    """
    # The folder is resolved, not the file: a symbolic link is named as itself, not its target.
    rel = f"{project.relative(path.parent)}/{path.name}"
    settings = project.settings
    raw, text, problems = _read_text(project.root, path, rel, settings.max_file_bytes)
    if text is None:
        return None, problems

    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, [error(rel, 1, "missing front matter: the file must start with a '---' line")]
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return None, [error(rel, 1, "front matter is not closed by a '---' line")]
    front_bytes = sum(len(line.encode("utf-8")) + 1 for line in lines[1:end])
    if front_bytes > settings.max_front_matter_bytes:
        return None, [
            error(
                rel,
                1,
                f"front matter is {front_bytes:,} bytes, above the limit of "
                f"{settings.max_front_matter_bytes:,} (setting max_front_matter_bytes)",
            )
        ]
    try:
        data, locations = parse("\n".join(lines[1:end]))
    except YamlProblem as exc:
        line = exc.line + 1 if exc.line is not None else 1
        return None, [error(rel, line, exc.message, exc.column)]
    if not isinstance(data, dict):
        return None, [error(rel, 2, "front matter must be a mapping of 'field: value' lines")]

    diagnostics: list[Diagnostic] = []
    kind = _kind_of(project, path, data, locations, rel, diagnostics)
    if kind is None:
        return None, diagnostics
    ctx = ValidationContext(
        path=rel,
        source_dir=path.parent,
        project_dir=project.root,
        theme_codes=tuple(t.code for t in project.themes),
        locations=locations,
        line_offset=1,
        limits=settings.input_limits(),
    )
    specs, front = _as_written(kind, data, ctx, diagnostics)
    meta = validate_fields(specs, front, "", ctx)
    renamed = dict(kind.field_map)
    meta = {renamed.get(name, name): value for name, value in meta.items()}
    if kind.field("slug") is None:  # the kind leaves the slug to the file name
        meta["slug"] = slug_from_file_name(path)
        if not meta["slug"]:
            message = f"cannot make a slug of the file name '{path.name}': rename the file"
            ctx.diagnostics.append(error(rel, None, message))
    diagnostics += ctx.diagnostics
    body = "\n".join(lines[end + 1 :])
    body_line = end + 2
    diagnostics += check_sections(kind, body, body_line, rel)
    if any(d.level.value == "error" for d in diagnostics):
        return None, diagnostics
    sheet = Sheet(
        path=path,
        rel=rel,
        kind=kind.name,
        slug=meta["slug"],
        title=meta["title"],
        meta=MappingProxyType(meta),
        body=body,
        body_line=body_line,
        source_hash=hashlib.sha256(raw).hexdigest(),
    )
    return sheet, diagnostics


def slug_from_file_name(path: Path) -> str:
    """The slug of a source whose kind has no 'slug' field: its file name without '.md',
    transliterated to ASCII (accents dropped, 'œ' → 'oe'), anything but letters, digits, '-'
    and '_' made '-', at most MAX_SLUG characters; "" when nothing is left."""
    text = path.name.removesuffix(".md")
    for letter, spelt in (("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE"), ("ß", "ss")):
        text = text.replace(letter, spelt)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_text).strip("-_")
    slug = slug[:MAX_SLUG].rstrip("-_")
    return slug if SLUG_RE.match(slug) else ""


def _as_written(
    kind: Kind, data: Mapping[str, Any], ctx: ValidationContext, diagnostics: list[Diagnostic]
) -> tuple[tuple[FieldSpec, ...], dict[str, Any]]:
    """The kind's fields under the names the sources give them (``field_map``), and the front
    matter to validate: without ``kind``, and without the unknown top-level fields the kind lets
    pass (``extra_fields: ignore``, or ``warn`` with a warning at each one's line)."""
    specs = tuple(replace(spec, name=kind.source_name(spec.name)) for spec in kind.fields)
    known = tuple(spec.name for spec in specs)
    front: dict[str, Any] = {}
    for name, value in data.items():
        if name == "kind":
            continue
        if name in known or kind.extra_fields == "error":
            front[name] = value
        elif kind.extra_fields == "warn":
            line, column = ctx.locate(name)
            hint = closest(name, known)
            suggestion = f"; did you mean '{hint}'?" if hint else ""
            message = f"unknown field '{name}' ignored (kind '{kind.name}': extra_fields: warn)"
            diagnostics.append(warning(ctx.path, line, message + suggestion, column))
    return specs, front


class _Refused(Exception):
    """A source that must not be read; the message says why."""


def read_text_file(
    root: Path, path: Path, rel: str, limit: int
) -> tuple[str | None, list[Diagnostic]]:
    """The text of a file contributors or maintainers write (a source, an editorial), with
    Unix line ends, or None and the error named after ``rel``: the file must be a regular file
    inside the project ``root`` (symbolic links resolved), at most ``limit`` bytes (setting
    max_file_bytes), without NUL bytes, in UTF-8 (the line of the first bad byte is given).
    """
    _, text, problems = _read_text(root, path, rel, limit)
    return text, problems


def _read_text(
    root: Path, path: Path, rel: str, limit: int
) -> tuple[bytes, str | None, list[Diagnostic]]:
    """read_text_file, with the bytes read (a source's hash is that of its bytes)."""
    try:
        raw = _read_source(root, path, limit)
    except _Refused as exc:
        return b"", None, [error(rel, None, str(exc))]
    except RuntimeError:  # what Path.resolve raises on a loop of symbolic links
        return b"", None, [error(rel, None, "cannot read file: it is a loop of symbolic links")]
    except OSError as exc:
        return b"", None, [error(rel, None, f"cannot read file: {exc.strerror or exc}")]
    if b"\x00" in raw:
        return raw, None, [error(rel, None, "not a text file (it contains NUL bytes)")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return raw, None, [error(rel, line, "not valid UTF-8 text (save the file as UTF-8)")]
    return raw, text.replace("\r\n", "\n"), []


def _read_source(root: Path, path: Path, limit: int) -> bytes:
    """The bytes of a source: a regular file of the project, at most ``limit`` bytes long."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise _Refused("refused: the file is a symbolic link to a file outside the project")
    info = resolved.stat()
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("refused: not a regular file")
    if info.st_size > limit:
        raise _Refused(
            f"file is {info.st_size:,} bytes, above the limit of {limit:,} (setting max_file_bytes)"
        )
    with resolved.open("rb") as stream:
        raw = stream.read(limit + 1)
    if len(raw) > limit:  # it grew since stat()
        raise _Refused(f"file is above the limit of {limit:,} bytes (setting max_file_bytes)")
    return raw


def _kind_of(
    project: Project,
    path: Path,
    data: dict[str, Any],
    locations: dict[str, tuple[int, int]],
    rel: str,
    diagnostics: list[Diagnostic],
) -> Kind | None:
    """The kind named in front matter (``kind:``), else the one whose folder holds the file."""
    if "kind" in data:
        name = data["kind"]
        if isinstance(name, str) and name in project.kinds:
            return project.kinds[name]
        hint = closest(str(name), tuple(project.kinds))
        suggestion = f"; did you mean '{hint}'?" if hint else ""
        line = locations.get("kind", (1, 0))[0] + 1
        known = ", ".join(sorted(project.kinds))
        diagnostics.append(
            error(rel, line, f"field 'kind': unknown kind '{name}' ({known}){suggestion}")
        )
        return None
    folders: tuple[str, ...] = ()
    # the folders as the file is reached (a linked folder counts under its own name), then
    # as they are on disk
    pairs = ((path, project.content_dir), (path.resolve(), project.content_dir.resolve()))
    for inside, content in pairs:
        if inside.is_relative_to(content):
            folders += inside.relative_to(content).parts[:-1]
    for kind in project.kinds.values():
        if kind.folder in folders:
            return kind
    known = ", ".join(sorted(project.kinds))
    diagnostics.append(
        error(rel, 2, f"cannot tell the kind of this sheet: add a 'kind:' field ({known})")
    )
    return None


def _heading_text(line: str) -> str:
    """'## Objectifs ##' → 'Objectifs' (string methods: a regex here was cubic on spaces)."""
    text = line[2:].strip()
    return text.rstrip("#").rstrip() or text[:1]


def check_sections(kind: Kind, body: str, body_line: int, rel: str) -> list[Diagnostic]:
    """Check level-2 headings against the kind's sections: required, known, in order."""
    diagnostics: list[Diagnostic] = []
    headings: list[tuple[str, int]] = []
    in_fence = False
    for offset, line in enumerate(body.split("\n")):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and _H1.match(line):
            diagnostics.append(
                warning(
                    rel,
                    body_line + offset,
                    "level-1 heading in the body: the title "
                    "comes from the front matter, start sections with '## '",
                )
            )
        elif not in_fence and _H2.match(line):
            headings.append((_heading_text(line), body_line + offset))
    if not kind.sections:
        return diagnostics
    titles = [s.title for s in kind.sections]
    present = {title for title, _ in headings}
    for section in kind.sections:
        if section.required and section.title not in present:
            diagnostics.append(
                error(rel, body_line, f"missing required section '## {section.title}'")
            )
    last_index = -1
    for title, heading_line in headings:
        if title not in titles:
            hint = closest(title, titles)
            suggestion = f"; did you mean '{hint}'?" if hint else ""
            diagnostics.append(
                warning(
                    rel,
                    heading_line,
                    f"section '{title}' is not a section of kind '{kind.name}'{suggestion}",
                )
            )
            continue
        index = titles.index(title)
        if index < last_index:
            diagnostics.append(
                warning(
                    rel,
                    heading_line,
                    f"section '{title}' should come before '{titles[last_index]}'",
                )
            )
        last_index = max(last_index, index)
    return diagnostics
