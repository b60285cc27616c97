"""Writing outputs without ever leaving a half-written file or losing a good one.

Each file is written to a temporary file in its destination folder, flushed to disk, then
renamed over the destination: readers see the old file or the new one, never a mix, and a
failure leaves the previous good output in place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .project import Project

#: what `clean` may delete inside the build folder; editions are never on this list
BUILD_OUTPUTS = ("sheets", "collections", ".cache")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file, fsync, rename, fsync folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk, so a rename inside it survives a crash."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def output_holding_editions(project: Project) -> Path | None:
    """The build output folder the editions archive lies in, if any (then clean would delete it).

    Editions belong beside the outputs (``build/editions``), never inside ``build/sheets``,
    ``build/collections`` or the cache.
    """
    archive = project.editions_dir.resolve()
    for name in BUILD_OUTPUTS:
        target = (project.build_dir / name).resolve()
        if archive == target or archive.is_relative_to(target):
            return target
    return None


def check_cleanable(project: Project) -> None:
    """Raise ValueError if cleaning would delete the project, its sources or its editions."""
    build = project.build_dir.resolve()
    root = project.root.resolve()
    content = project.content_dir.resolve()
    if build == root or root.is_relative_to(build) or content.is_relative_to(build):
        raise ValueError(f"refusing to clean {build}: it contains the project's sources")
    holder = output_holding_editions(project)
    if holder is not None:
        raise ValueError(f"refusing to clean {holder}: it holds the editions (editions_dir)")


def clean_outputs(project: Project) -> list[Path]:
    """Delete the build outputs and caches, refusing anything that could hold sources.

    Like Pelican, refuse to clean a folder that contains the sources or the project itself;
    only the known output folders are removed, so editions and anything else stay (the build
    lock, `.lock`, too: another command may be waiting on it).
    """
    check_cleanable(project)
    build = project.build_dir.resolve()
    removed = []
    for name in BUILD_OUTPUTS:
        target = build / name
        if target.is_symlink():
            target.unlink()
            removed.append(target)
        elif target.is_dir():
            shutil.rmtree(target)
            removed.append(target)
    return removed
