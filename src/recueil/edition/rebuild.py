"""Rebuilding an edition from the sources it records, to prove it can be made again.

The sources come from the git revision in the manifest (exported with ``git archive`` into a
temporary folder, so the working tree is never touched) when the edition was made from a clean
checkout; otherwise from the current sources, which is said. The edition is built again with
the same version, date, title, collections and previous edition, without the render cache,
into a temporary archive, and every file is compared byte for byte with the published one.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from recueil.core.diagnostics import Diagnostic
from recueil.edition.archive import SUMS, Archive, ArchiveError, remove_tree, verify
from recueil.edition.create import EditionRequest, create_edition
from recueil.render.cache import versions
from recueil.render.sheet_build import Limits, ProgressCallback
from recueil.sources.edition_label import Edition
from recueil.sources.project import Project, load_project


@dataclass
class Rebuilt:
    """The outcome of a rebuild: identical or not, which files differ, and caveats."""

    identical: bool
    differing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def rebuild_check(
    project: Project,
    archive: Archive,
    version: str,
    limits: Limits,
    on_progress: ProgressCallback | None = None,
    on_note: Callable[[str], None] | None = None,
) -> Rebuilt:
    """Rebuild ``version`` in a temporary folder and compare it with the archive."""
    manifest = archive.manifest(version)
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        if on_note is not None:
            on_note(text)

    recorded = {k: v for k, v in manifest.get("versions", {}).items()}
    current = {k: v for k, v in versions().items() if k in recorded}
    if recorded != current:
        drift = ", ".join(
            f"{k} {recorded[k]} → {current.get(k)}"
            for k in sorted(recorded)
            if recorded[k] != current.get(k)
        )
        note(f"library versions differ from the edition's ({drift}): bytes may differ")
    previous = manifest.get("previous")
    request = EditionRequest(
        edition=Edition(
            manifest["version"], dt.date.fromisoformat(manifest["date"]), manifest["title"]
        ),
        collections=tuple(c["name"] for c in manifest["collections"]),
        limits=limits,
        use_cache=False,
        source=manifest["source"],
        previous=archive.manifest(previous) if previous else None,
    )
    with tempfile.TemporaryDirectory(prefix="recueil-rebuild-") as scratch:
        root = Path(scratch)
        source = manifest.get("source") or {}
        if source.get("commit") and source.get("dirty") is False:
            project_dir = _export(project.root, source["commit"], source.get("path") or "", root)
            note(f"sources: git revision {source['commit'][:12]}")
        else:
            project_dir = project.root
            reason = (
                "had uncommitted changes"
                if source.get("dirty")
                else "was not made from a git checkout"
            )
            note(f"sources: the current files (the edition {reason})")
        rebuilt_project, found = load_project(project_dir)
        published, diagnostics = create_edition(
            rebuilt_project, request, Archive(root / "archive"), on_progress, found
        )
        if published is None:
            return Rebuilt(False, [], notes, diagnostics)
        differing = _compare(archive.path(version), published.folder)
        remove_tree(published.folder)
        return Rebuilt(not differing, differing, notes, diagnostics)


def _export(repository: Path, commit: str, prefix: str, scratch: Path) -> Path:
    """Extract the project's files at ``commit`` into ``scratch/tree`` and return the project."""
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    )
    if top.returncode != 0:
        raise ArchiveError(f"{repository} is no longer a git checkout: cannot fetch {commit}")
    exported = subprocess.run(
        ["git", "archive", "--format=tar", commit],
        cwd=top.stdout.strip(),
        capture_output=True,
        check=False,
    )
    if exported.returncode != 0:
        message = exported.stderr.decode(errors="replace").strip()
        raise ArchiveError(f"cannot export revision {commit}: {message}")
    tree = scratch / "tree"
    with tarfile.open(fileobj=io.BytesIO(exported.stdout)) as archive:
        archive.extractall(tree, filter="data")
    return tree / prefix if prefix else tree


def _compare(published: Path, rebuilt: Path) -> list[str]:
    """Files that differ, are missing from one side, or are altered in the archive."""
    damaged = [str(problem) for problem in verify(published)]
    ours = {p.relative_to(published).as_posix(): p for p in published.rglob("*") if p.is_file()}
    theirs = {p.relative_to(rebuilt).as_posix(): p for p in rebuilt.rglob("*") if p.is_file()}
    differing = [
        rel
        for rel in sorted(set(ours) | set(theirs))
        if rel not in ours
        or rel not in theirs
        or ours[rel].read_bytes() != theirs[rel].read_bytes()
    ]
    if SUMS in differing and len(differing) > 1:
        differing.remove(SUMS)  # follows from the others
    return damaged + differing
