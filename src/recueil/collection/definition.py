"""Collections as data (``collections/NAME.yaml``): what goes in, in which order, and the colophon.

A collection file names its sheets by selection (kind, theme, region, keyword, status, explicit
slugs, exclusions), chooses the grouping and the order inside groups (grouping.py), and carries
the legal mentions of the printed book. It is validated like front matter: every problem with
its file, line and field.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recueil.collection.print_options import MAX_BLEED_MM
from recueil.core.diagnostics import Diagnostic, error
from recueil.core.yamlsafe import YamlProblem, read_yaml
from recueil.sources.corpus import FailedSource
from recueil.sources.schema import FieldSpec, ValidationContext, validate_fields
from recueil.sources.sheet import Sheet, read_text_file

COLLECTIONS_DIR = "collections"
#: colour of groups that are not themes (kinds, values of a field)
GROUP_COLOUR = "#3D5A80"
#: what ``select.exclude`` accepts: a slug, or a pattern of slugs with * ? [...]
_EXCLUDE = re.compile(r"^[A-Za-z0-9_\-*?\[\]!]{1,64}$")


def _list(name: str, item: str = "string", **kw: Any) -> FieldSpec:
    return FieldSpec(name, "list", items=FieldSpec(name, item), **kw)


SELECT_SPECS = (
    _list("kinds", help="Kinds of sheet to include (default: all)"),
    _list("themes", "theme", help="Theme codes"),
    _list("regions", help="Regions (territory.region, or region for other kinds)"),
    _list("keywords", help="Sheets having at least one of these keywords"),
    _list("statuses", help="Statuses of experience sheets"),
    _list(
        "slugs", "slug", help="Explicit list of slugs (their order is kept with order: explicit)"
    ),
    _list("exclude", help="Slugs, or patterns of slugs such as HDF-2020-*, to leave out"),
)
INDEX_FIELD_SPECS = (
    _list("keywords", help="Fields whose values feed the keyword index (default: keywords)"),
    _list(
        "territories",
        help="Fields giving the 1 to 3 levels of the territory index (default: territory.region, "
        "territory.departement, territory.cite_educative)",
    ),
)
COLOPHON_SPECS = (
    FieldSpec("publisher", "string", required=True, help="Publisher's name"),
    FieldSpec("publisher_address", "string", required=True),
    FieldSpec("director", "string", help="Directeur ou directrice de la publication"),
    _list("editors", help="Coordination éditoriale"),
    FieldSpec("design", "string", help="Conception graphique"),
    FieldSpec("photo_credits", "string"),
    FieldSpec("printer", "string"),
    FieldSpec("printer_address", "string"),
    FieldSpec("printed", "date", help="Achevé d'imprimer (date)"),
    FieldSpec("legal_deposit", "string", help="Dépôt légal, e.g. 'octobre 2022'"),
    FieldSpec("isbn", "string", help="ISBN-13 (validated) of this format"),
    FieldSpec("licence", "string", help="e.g. CC BY-NC-ND 4.0"),
    FieldSpec("price", "string", help="Price, or 'Ne peut être vendu'"),
    FieldSpec("thanks", "text", help="Remerciements"),
)
PRINT_SHOP_SPECS = (
    FieldSpec(
        "bleed_mm",
        "integer",
        required=True,
        min=1,
        max=MAX_BLEED_MM,
        help="Bleed on each side, in millimetres (printers usually ask for 3)",
    ),
    FieldSpec("crop_marks", "boolean", help="Draw crop marks outside the bleed (default: true)"),
)
COLLECTION_SPECS = (
    FieldSpec("title", "string", required=True),
    FieldSpec("subtitle", "string"),
    FieldSpec("edition", "string", help="Edition label, e.g. '1re édition'"),
    FieldSpec("date", "date", required=True, help="Publication date (also the PDF's date)"),
    FieldSpec("editorial", "string", help="Markdown file of the editorial, relative to this file"),
    FieldSpec("editorial_signature", "string"),
    FieldSpec(
        "reading_guide",
        "string",
        help="Markdown file printed at the top of the reading guide, relative to this file",
    ),
    FieldSpec("template", "string", help="Template of the generated parts (collection.html)"),
    FieldSpec("blurb", "text", help="Back-cover text"),
    FieldSpec("select", "object", fields=SELECT_SPECS),
    FieldSpec("group_by", "string", help="theme (default), kind, none, or a field's name"),
    FieldSpec("order", "enum", values=("title", "territory", "explicit")),
    FieldSpec("recto_verso", "boolean", help="Dividers and sheets start on right-hand pages"),
    FieldSpec(
        "print_shop",
        "object",
        fields=PRINT_SHOP_SPECS,
        help="Also build NAME-imprimeur.pdf for the printer: bleed, crop marks",
    ),
    FieldSpec(
        "indexes", "list", items=FieldSpec("indexes", "enum", values=("territories", "keywords"))
    ),
    FieldSpec("index_fields", "object", fields=INDEX_FIELD_SPECS),
    FieldSpec("colophon", "object", required=True, fields=COLOPHON_SPECS),
)


@dataclass(frozen=True)
class Collection:
    """A validated collection declaration."""

    name: str
    source: str
    meta: Mapping[str, Any]
    editorial_markdown: str = ""
    reading_guide_markdown: str = ""

    @property
    def title(self) -> str:
        """The collection's title."""
        return str(self.meta["title"])

    @property
    def date(self) -> dt.date:
        """Publication date."""
        value: dt.date = self.meta["date"]
        return value

    def option(self, key: str, default: Any) -> Any:
        """A top-level setting with its default."""
        return self.meta.get(key, default)

    @property
    def template(self) -> str:
        """The template of the generated parts (one of the project's or the default)."""
        return str(self.meta.get("template", "collection.html"))


@dataclass(frozen=True)
class Group:
    """Sheets printed together after one divider (a theme, a kind) or without divider."""

    key: str
    number: int
    label: str
    colour: str
    intro: str
    sheets: tuple[Sheet, ...] = field(default_factory=tuple)
    #: the group is a theme of themes.yaml (its key is the theme's code): pictogram, legend
    theme: bool = False


def isbn13_valid(text: str) -> bool:
    """True for a well-formed ISBN-13 (hyphens allowed) whose check digit is right."""
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"97[89]\d{10}", digits):
        return False
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])


def load_collection(
    root: Path, path: Path, theme_codes: tuple[str, ...], max_file_bytes: int = 2_000_000
) -> tuple[Collection | None, list[Diagnostic]]:
    """Read and validate one collection file; None when it has errors.

    Its editorial is read like a source (``sheet.read_text_file``): capped at ``max_file_bytes``,
    UTF-8, a regular file of the project; a problem is an error of the editorial file itself.
    """
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        data, locations = read_yaml(path.read_text(encoding="utf-8"))
    except YamlProblem as exc:
        return None, [error(rel, exc.line, exc.message, exc.column)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(rel, None, f"cannot read collection file: {exc}")]
    if not isinstance(data, dict):
        return None, [error(rel, 1, "a collection file must be a mapping of fields")]
    ctx = ValidationContext(rel, path.parent, root, theme_codes, locations)
    meta = validate_fields(COLLECTION_SPECS, data, "", ctx)
    isbn = meta.get("colophon", {}).get("isbn")
    if isbn is not None and not isbn13_valid(isbn):
        ctx.report(
            "colophon.isbn",
            f"field 'colophon.isbn': '{isbn}' is not a valid ISBN-13 "
            "(13 digits starting 978 or 979, with a correct check digit)",
        )
    for index, pattern in enumerate(meta.get("select", {}).get("exclude", [])):
        if not _EXCLUDE.match(pattern):
            ctx.report(
                f"select.exclude[{index}]",
                f"field 'select.exclude[{index}]': '{pattern}' is neither a slug nor a pattern of "
                "slugs (letters, digits, '-', '_', and * ? [...])",
            )
    template = meta.get("template")
    if template is not None and not re.fullmatch(r"[A-Za-z0-9][\w.-]*\.html", template):
        ctx.report("template", "field 'template': give the file name of a template in templates/")
    levels = meta.get("index_fields", {}).get("territories")
    if levels is not None and not 1 <= len(levels) <= 3:
        ctx.report(
            "index_fields.territories",
            "field 'index_fields.territories': give 1 to 3 fields (region, département, place)",
        )
    editorial = _markdown_file(root, path, meta, "editorial", ctx, max_file_bytes)
    guide = _markdown_file(root, path, meta, "reading_guide", ctx, max_file_bytes)
    if ctx.diagnostics:
        return None, ctx.diagnostics
    return Collection(path.stem, rel, MappingProxyType(meta), editorial, guide), []


def _markdown_file(
    root: Path,
    path: Path,
    meta: Mapping[str, Any],
    key: str,
    ctx: ValidationContext,
    max_file_bytes: int,
) -> str:
    """The text of the Markdown file field ``key`` names (relative to the collection file), read
    like a source; "" and an error in ``ctx`` when it cannot be."""
    if key not in meta:
        return ""
    try:
        target = (path.parent / meta[key]).resolve()
        exists = target.is_relative_to(root.resolve()) and target.is_file()
    except (OSError, ValueError, RuntimeError):  # too long, NUL byte, symlink loop
        exists = False
    if not exists:
        ctx.report(key, f"field '{key}': file '{meta[key]}' does not exist")
        return ""
    target_rel = target.relative_to(root.resolve()).as_posix()
    text, problems = read_text_file(root, target, target_rel, max_file_bytes)
    ctx.diagnostics += problems
    return text or ""


def select_sheets(collection: Collection, sheets: Sequence[Sheet]) -> list[Sheet]:
    """The sheets a collection's ``select`` keeps, before grouping and ordering."""
    rules: Mapping[str, list[str]] = collection.meta.get("select", {})
    chosen = list(sheets)
    if "kinds" in rules:
        chosen = [s for s in chosen if s.kind in rules["kinds"]]
    if "themes" in rules:
        chosen = [s for s in chosen if s.meta.get("theme") in rules["themes"]]
    if "regions" in rules:
        chosen = [s for s in chosen if region_of(s) in rules["regions"]]
    if "keywords" in rules:
        wanted = {k.lower() for k in rules["keywords"]}
        chosen = [s for s in chosen if wanted & {k.lower() for k in s.meta.get("keywords", [])}]
    if "statuses" in rules:
        chosen = [s for s in chosen if s.meta.get("status") in rules["statuses"]]
    if "slugs" in rules:
        position = {slug: i for i, slug in enumerate(rules["slugs"])}
        chosen = [s for s in chosen if s.slug in position]
        chosen.sort(key=lambda s: position[s.slug])
    if "exclude" in rules:
        chosen = [s for s in chosen if not excluded(s.slug, rules["exclude"])]
    return chosen


def excluded(slug: str, patterns: Sequence[str]) -> bool:
    """Whether ``select.exclude`` names a slug, itself or by a pattern (case counts)."""
    return any(fnmatch.fnmatchcase(slug, pattern) for pattern in patterns)


def might_select(collection: Collection, source: FailedSource) -> bool:
    """Whether ``select`` could keep a source that has errors, judged on what can be read of it.

    A rule that cannot be judged (its field unreadable) counts as kept: a collection must not be
    published without a sheet only because the sheet is too broken to tell where it belongs.
    An explicit list of slugs keeps only what it names (a name nobody has is reported apart).
    """
    rules: Mapping[str, list[str]] = collection.meta.get("select", {})
    meta = source.meta
    if "slugs" in rules and source.slug not in rules["slugs"]:
        return False
    if "exclude" in rules and source.slug is not None and excluded(source.slug, rules["exclude"]):
        return False
    if "kinds" in rules and source.kind is not None and source.kind not in rules["kinds"]:
        return False
    if meta is None:
        return True
    checks: list[tuple[str, Any]] = [
        ("themes", meta.get("theme")),
        ("statuses", meta.get("status")),
        ("regions", _raw_region(meta)),
    ]
    for rule, value in checks:
        if rule in rules and isinstance(value, str) and value not in rules[rule]:
            return False
    keywords = meta.get("keywords")
    if "keywords" in rules and isinstance(keywords, list):
        wanted = {k.lower() for k in rules["keywords"]}
        if not wanted & {str(k).lower() for k in keywords}:
            return False
    return True


def _raw_region(meta: Mapping[str, Any]) -> Any:
    territory = meta.get("territory")
    if isinstance(territory, Mapping):
        return territory.get("region")
    return meta.get("region")


def region_of(sheet: Sheet) -> str:
    """The region a sheet belongs to, whatever its kind."""
    territory = sheet.meta.get("territory")
    if isinstance(territory, Mapping) and "region" in territory:
        return str(territory["region"])
    return str(sheet.meta.get("region", ""))
