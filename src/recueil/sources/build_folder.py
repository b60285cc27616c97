"""The build folder: which outputs ``clean`` may delete, and what it must refuse to touch.

Like Pelican, cleaning refuses a folder that holds the sources or the project itself, and the
editions archive is never among the outputs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from recueil.core.cache_prune import DAY, Removed, remove_unused
from recueil.sources.project import CACHE_DIR, Project

#: what `clean` may delete inside the build folder; editions are never on this list
BUILD_OUTPUTS = ("sheets", "collections", ".cache")
#: seconds a file's modification time may lag time.time() taken just before it
CLOCK_SLACK = 2.0


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


def remove_unused_caches(project: Project, started: float) -> Removed:
    """Delete the renders and copied structure trees of the cache that no build has used for
    the project's ``cache_days`` before ``started`` (a build's start, time.time()).

    Called at the end of a whole build, which has read every entry the project needs now
    (cache_prune.py); the entries it wrote or read are newer than ``started``, within the
    CLOCK_SLACK a file's time may lag time.time() (the kernel stamps files from a coarser
    clock)."""
    before = started - project.settings.cache_days * DAY - CLOCK_SLACK
    cache = project.build_dir / CACHE_DIR
    removed = remove_unused(cache / "renders", before, marker="facts.json")
    removed.add(remove_unused(cache / "trees", before))
    return removed
