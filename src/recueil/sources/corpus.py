"""Corpus: every source of a project loaded, validated and checked against the others.

Like MkDocs, everything is gathered and validated before anything is written; like Pelican, two
sources may not claim the same output (here: the same slug).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recueil.core.diagnostics import Diagnostic, Level, error, warning
from recueil.core.yamlsafe import Locations, YamlProblem, read_yaml
from recueil.sources.content_scan import ContentScan, Skipped
from recueil.sources.frontmatter_cache import ParsedFrontMatter
from recueil.sources.project import CACHE_DIR, Project
from recueil.sources.schema import Kind
from recueil.sources.sheet import Sheet, load_sheet, read_text_file, slug_from_file_name


@dataclass(frozen=True)
class FailedSource:
    """A source with errors, as far as it can be read: enough to tell who misses it.

    Sheets that link to it, and collections that would hold it, must say so instead of
    dropping it silently; its slug, title and kind come from a scan of its front matter, and
    ``meta`` is its front matter as raw strings when that much parses (None otherwise).
    """

    rel: str
    reason: str
    slug: str | None = None
    title: str | None = None
    kind: str | None = None
    meta: Mapping[str, Any] | None = None

    def describe(self) -> str:
        """'SLUG (path: first error)', for messages that list what is missing."""
        name = self.slug or "(slug unreadable)"
        return f"{name} ({self.rel}: {self.reason})"


@dataclass
class Corpus:
    """The valid sheets of a project, every sheet that loaded, and the loading diagnostics.

    ``sheets`` excludes sources with errors; ``loaded`` also holds those whose only problems are
    cross-references, so that other sheets can still link to them without cascading errors.
    """

    sheets: list[Sheet]
    diagnostics: list[Diagnostic]
    loaded: list[Sheet] = field(default_factory=list)
    #: sources with errors, which no sheet and no collection may lose without saying so
    failed: list[FailedSource] = field(default_factory=list)
    #: folders and files of the content folder left out ('_' names), for the command line
    skipped: list[Skipped] = field(default_factory=list)

    def by_slug(self) -> dict[str, Sheet]:
        """Every loaded sheet indexed by slug."""
        return {sheet.slug: sheet for sheet in self.loaded or self.sheets}


#: what reading one source gave: the sheet, its diagnostics, and when it failed what is left
Reading = tuple[Sheet | None, list[Diagnostic], FailedSource | None, Sheet | None]


class SourceMemo:
    """What each source gave when it was last read, while the file stays as it was.

    A long-lived reader of a project (the web catalogue, its render workers) loads the corpus
    again after every change; an author saving one sheet then costs one sheet's validation,
    not a thousand (0.9 s at 1,000 sheets). Reading a source depends on its file and on the
    project (kinds, themes, settings, the images it names): the owner makes a new memo when
    anything but the sources changed (``context``, a digest of those other files).
    """

    def __init__(self, context: str = "") -> None:
        self.context = context
        self._known: dict[Path, tuple[tuple[int, int], Reading]] = {}

    def get(self, path: Path, stamp: tuple[int, int]) -> Reading | None:
        """The reading of ``path`` if it was made from the file as it is (``stamp``)."""
        known = self._known.get(path)
        return known[1] if known is not None and known[0] == stamp else None

    def put(self, path: Path, stamp: tuple[int, int], reading: Reading) -> None:
        """Remember a reading; ``stamp`` is taken before reading, so a file changed while it
        was read is read again next time."""
        if stamp != (-1, -1):
            self._known[path] = (stamp, reading)


def _file_stamp(path: Path) -> tuple[int, int]:
    """Size and modification time of a file, (-1, -1) when it cannot be looked at."""
    try:
        info = path.stat()
    except OSError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)


def load_corpus(
    project: Project,
    paths: Iterable[Path] | None = None,
    focus: set[Path] | None = None,
    scanned: Corpus | None = None,
    memo: SourceMemo | None = None,
) -> Corpus:
    """Load and validate sources (all of them by default) and check them against each other.

    With ``focus``, only those files are fully read and validated; the others are only scanned
    for their slug and title (enough for links, "voir aussi" and duplicate slugs), which keeps
    ``recueil sheet`` on demand fast in a project of hundreds of sheets. The scans of an earlier
    call (``scanned``, loaded with a focus) are reused rather than read again.
    """
    known = {s.path: s for s in scanned.loaded if not s.kind} if scanned is not None else {}
    sheets: list[Sheet] = []
    content = project.scan_sources() if paths is None else ContentScan(list(paths))
    diagnostics: list[Diagnostic] = list(content.diagnostics)
    stubs: set[int] = set()
    broken: list[Sheet] = []
    failures: list[FailedSource] = []
    parsed = ParsedFrontMatter(project.build_dir / CACHE_DIR / "front-matter.json")
    parse = _ParseOnce(parsed.read)
    for path in content.paths:
        if focus is not None and path.resolve() not in focus:
            stub = known.get(path) or _scan(project, path, parse)
            if stub is not None:
                stubs.add(id(stub))
                sheets.append(stub)
                continue
        stamp = _file_stamp(path) if memo is not None else (-1, -1)
        reading = memo.get(path, stamp) if memo is not None else None
        if reading is None:
            sheet, found = load_sheet(project, path, parse)
            failure = stub = None
            if sheet is None:
                stub = _scan(project, path, parse)
                failure = _failed_source(project, path, found, parse, stub)
            reading = (sheet, found, failure, stub)
            if memo is not None:
                memo.put(path, stamp, reading)
        sheet, found, failure, stub = reading
        diagnostics += found
        if sheet is not None:
            sheets.append(sheet)
        else:
            assert failure is not None
            failures.append(failure)
            if stub is not None:
                broken.append(stub)  # its slug and title, so that links to it are not "unknown"
    first: dict[str, Sheet] = {}
    unique: list[Sheet] = []
    for sheet in sheets:
        if sheet.slug in first:
            diagnostics.append(_duplicate(project, sheet, first[sheet.slug]))
            continue
        first[sheet.slug] = sheet
        unique.append(sheet)
    failed = {stub.slug: stub for stub in broken if stub.slug not in first}
    valid: list[Sheet] = []
    for sheet in unique:
        missing = [ref for ref in sheet.meta.get("see_also", []) if ref not in first]
        for ref in missing:
            line = _line_of_field(sheet, "see_also")
            if ref in failed:
                # only the broken sheet fails: this one still builds and links to it
                diagnostics.append(
                    warning(
                        sheet.rel,
                        line,
                        f"field 'see_also': the sheet '{ref}' has errors ({failed[ref].rel}) "
                        "and is not built until they are fixed",
                    )
                )
            else:
                diagnostics.append(
                    error(sheet.rel, line, f"field 'see_also': no sheet has the slug '{ref}'")
                )
        if all(ref in failed for ref in missing) and id(sheet) not in stubs:
            valid.append(sheet)
    unique += failed.values()
    parsed.save(prune=paths is None and focus is None)
    # a valid sheet that links to a broken one is valid; its own problems are elsewhere
    return Corpus(valid, diagnostics, unique, failures, content.skipped)


_SLUG = re.compile(r"^slug:[ \t]*(\S+)[ \t]*$", re.M)
_TITLE = re.compile(r"^title:.*$", re.M)
_KIND = re.compile(r"^kind:", re.M)


def _duplicate(project: Project, sheet: Sheet, other: Sheet) -> Diagnostic:
    """The error of a sheet whose slug ``other`` has already: both files named."""
    kind = project.kinds.get(sheet.kind)
    if kind is not None and kind.field("slug") is None:
        return error(
            sheet.rel,
            None,
            f"slug '{sheet.slug}' (made from the file name) is already used by {other.rel}: "
            "rename one of the two files",
        )
    name = kind.source_name("slug") if kind is not None else "slug"
    return error(
        sheet.rel,
        _line_of_field(sheet, name),
        f"field '{name}': '{sheet.slug}' is already used by {other.rel}",
    )


def _folder_kind(project: Project, path: Path) -> Kind | None:
    """The kind whose folder holds a source (``content/articles/2020/x.md`` → articles)."""
    try:  # the folder is resolved, not the file: a link is named as itself (as load_sheet)
        folders = path.parent.resolve().relative_to(project.content_dir.resolve()).parts
    except (ValueError, OSError, RuntimeError):  # outside, unreadable, a loop of links
        folders = ()
    return next((k for k in project.kinds.values() if k.folder in folders), None)


def _scan(
    project: Project, path: Path, parse: Callable[[str], tuple[Any, Locations]] = read_yaml
) -> Sheet | None:
    """Slug and title of a source without validating it; None when that is not simple."""
    text = _safe_text(project, path)
    if text is None:
        return None
    head = text.split("\n---", 2)[0] if text.startswith("---") else ""
    slug, title = _SLUG.search(head), _TITLE.search(head)
    if title is None:
        return None
    if slug is not None:
        name = slug.group(1).strip("'\"")
    else:  # a kind without a 'slug' field names its sheets after their files
        kind = _folder_kind(project, path) if _KIND.search(head) is None else None
        name = slug_from_file_name(path) if kind is not None and kind.field("slug") is None else ""
        if not name:
            return None
    try:
        value, _ = parse(title.group(0))
    except YamlProblem:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("title"), str):
        return None
    meta = MappingProxyType({"slug": name, "title": value["title"]})
    return Sheet(path, project.relative(path), "", name, value["title"], meta, "", 0, "")


def _safe_text(project: Project, path: Path) -> str | None:
    """The text of a source read under the same rules as a sheet (inside the project, a
    regular file, within max_file_bytes, UTF-8), or None: a source refused for a symbolic link
    to a secret must not have its first lines read into messages through a side door."""
    text, _ = read_text_file(project.root, path, path.name, project.settings.max_file_bytes)
    return text


def _failed_source(
    project: Project,
    path: Path,
    found: list[Diagnostic],
    parse: Callable[[str], tuple[Any, Locations]],
    stub: Sheet | None,
) -> FailedSource:
    """What can still be read of a source that has errors (``stub``: its scanned slug, title)."""
    rel = f"{project.relative(path.parent)}/{path.name}"  # as load_sheet names it: links as such
    errors = [d for d in found if d.level is Level.ERROR]
    reason = errors[0].message if errors else "it cannot be read"
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more)"
    meta: Mapping[str, Any] | None = None
    text = _safe_text(project, path) if stub is not None or errors else None
    front = _front_matter(text) if text is not None else None
    if front is not None and len(front) <= project.settings.max_front_matter_bytes:
        try:
            value, _ = parse(front)
            meta = MappingProxyType(value) if isinstance(value, dict) else None
        except YamlProblem:
            meta = None
    kind = meta.get("kind") if meta is not None else None
    if not isinstance(kind, str) or kind not in project.kinds:
        by_folder = _folder_kind(project, path)
        kind = by_folder.name if by_folder is not None else None
    slug = stub.slug if stub is not None else None
    if kind is not None and project.kinds[kind].field_map and meta is not None:
        renamed = dict(project.kinds[kind].field_map)  # judged under the kind's own names
        meta = MappingProxyType({renamed.get(k, k): v for k, v in meta.items()})
    if slug is None and kind is not None and project.kinds[kind].field("slug") is None:
        slug = slug_from_file_name(path) or None  # what it is called once fixed
    return FailedSource(rel, reason, slug, stub.title if stub is not None else None, kind, meta)


def _front_matter(text: str) -> str | None:
    """The front matter's text exactly as load_sheet cuts it (so a parse of it is reused)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    return None if end is None else "\n".join(lines[1:end])


class _ParseOnce:
    """One load's parses, failures included: a failed source is read again to learn what it
    can of itself, and must not cost a second parse (nor report its error twice)."""

    def __init__(self, parse: Callable[[str], tuple[Any, Locations]]) -> None:
        self.parse = parse
        self.known: dict[str, tuple[Any, Locations] | YamlProblem] = {}

    def __call__(self, text: str) -> tuple[Any, Locations]:
        if text not in self.known:
            try:
                self.known[text] = self.parse(text)
            except YamlProblem as problem:
                self.known[text] = problem
        known = self.known[text]
        if isinstance(known, YamlProblem):
            raise known
        return known


def _line_of_field(sheet: Sheet, name: str) -> int | None:
    for number, line in enumerate(sheet.path.read_text(encoding="utf-8-sig").split("\n"), 1):
        if line.startswith(f"{name}:"):
            return number
    return None
