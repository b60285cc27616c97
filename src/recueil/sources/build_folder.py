"""The build folder: which outputs ``clean`` may delete, and what it must refuse to touch.

Like Pelican, cleaning refuses a folder that holds the sources or the project itself, and the
editions archive is never among the outputs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from recueil.sources.project import Project

#: what `clean` may delete inside the build folder; editions are never on this list
BUILD_OUTPUTS = ("sheets", "collections", ".cache")


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
