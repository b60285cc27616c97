"""Finding the sources: every Markdown file under the content folder, and what was left out.

Hidden files and folders (``.git``, ``.obsidian``) are ignored. A folder or a file whose name
starts with ``_`` is left out on purpose (drafts, notes kept beside the sheets): it is not read,
and a note says so, with how many sources it holds, so that a folder of sheets named that way
is never skipped without a word. A folder that is a symbolic link is followed when it leads
inside the project; one that leads outside is refused with an error and never read (not even
listed), like a source file that links outside (sheet.py). A link back to a folder being read
is not followed again, and a source reached both directly and through a linked folder is read
once, under its own path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from recueil.core.diagnostics import Diagnostic, error

SUFFIX = ".md"
OUTSIDE = "not read: this folder is a symbolic link to a folder outside the project"
LOOP = "not read: this folder is a loop of symbolic links"


@dataclass(frozen=True)
class Skipped:
    """A folder or a file of the content folder left out because its name starts with '_'."""

    path: str  # relative to the project, a folder ends with '/'
    sources: int

    def message(self) -> str:
        """What the command line says about it."""
        what = "folder" if self.path.endswith("/") else "file"
        return (
            f"{self.sources} source(s) not read: a {what} whose name starts with '_' is left out "
            "(rename it to build them)"
        )


@dataclass
class ContentScan:
    """The sources found, in a stable order, and what the scan left out or refused."""

    paths: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def scan_content(root: Path, content: Path) -> ContentScan:
    """Every source under ``content`` (a folder of the project ``root``, which is resolved)."""
    scan = ContentScan()
    if not content.is_dir():
        return scan
    direct: list[Path] = []
    linked: list[Path] = []

    def shown(path: Path) -> str:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return str(path)

    def walk(folder: Path, seen: frozenset[Path], through_link: bool) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            path = folder / entry.name
            if entry.name.startswith("."):
                continue
            is_link = entry.is_symlink()
            if _is_dir(entry):
                if entry.name.startswith("_"):
                    count = 0 if is_link else _count_sources(path)
                    if count:
                        scan.skipped.append(Skipped(shown(path) + "/", count))
                    continue
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    scan.diagnostics.append(error(shown(path) + "/", None, LOOP))
                    continue
                if is_link and not target.is_relative_to(root):
                    scan.diagnostics.append(error(shown(path) + "/", None, OUTSIDE))
                    continue
                if target not in seen:  # a link back up is read already
                    walk(path, seen | {target}, through_link or is_link)
            elif entry.name.endswith(SUFFIX):
                if entry.name.startswith("_"):
                    scan.skipped.append(Skipped(shown(path), 1))
                    continue
                (linked if through_link else direct).append(path)

    walk(content, frozenset({content.resolve()}), False)
    scan.paths = direct
    if linked:
        known = {_resolved(path) for path in direct}
        for path in sorted(linked, key=shown):
            target = _resolved(path)
            if target is None or target not in known:
                scan.paths.append(path)
                if target is not None:
                    known.add(target)
    scan.paths.sort(key=shown)
    return scan


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether an entry is a folder, through links (False for a broken link or a loop: a
    source named so is then reported by the reading, sheet.py)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None


def _count_sources(folder: Path) -> int:
    """Markdown files under a folder, links not followed (it is not read, only counted)."""
    return sum(
        1
        for _, _, files in os.walk(folder)
        for name in files
        if name.endswith(SUFFIX) and not name.startswith(".")
    )
