"""The entries of the build's caches that no build has used for a while, removed.

The render cache (the sheets' renders, a collection's generated parts) and the sheets' copied
structure trees are kept by key: an edit makes a new entry and leaves the old one, and a new
version of recueil or of a library makes every entry new. Nothing removed the old ones: the
1,000-sheet benchmark project held 6,955 renders (905 MB) for its 1,000 sheets and 37 generated
parts after two days of edits and two changes of every key. Each entry now tells its last use by
its modification time (reading an entry touches it: :func:`mark_used`), and ``recueil build``,
which reads every entry the project needs now, then removes those last used more than
``cache_days`` before it started (:func:`remove_unused`). A collection that is up to date is
not assembled, so its generated parts and tree copies are not read: the entries an assembly used
are listed in its record (:func:`journal`), and marked used again when it is found up to date.
The days left are what another branch or an edition made from the cache still find there.

Removing an entry is safe beside its readers (a server, another command): a render entry's
facts file goes first, and an entry without its facts is absent to every reader (cache.py); a
tree copy is a single file. A reader that loses an entry lays it out again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: seconds in a day
DAY = 86_400.0
#: the journals open in this process (journal()): each collects the entries used meanwhile
_JOURNALS: list[set[Path]] = []


@dataclass
class Removed:
    """What a pruning removed: entries and bytes."""

    entries: int = 0
    size: int = 0

    def add(self, other: Removed) -> None:
        self.entries += other.entries
        self.size += other.size


def mark_used(path: Path) -> None:
    """Record that the entry whose marker is ``path`` was used now (a missing or read-only
    entry keeps its time: it is only removed earlier)."""
    with contextlib.suppress(OSError):
        os.utime(path)
    note_written(path)  # a read counts in the journals as a write does


def note_written(path: Path) -> None:
    """An entry whose marker is ``path`` was just written (or read: mark_used): added to the
    journals open in this process."""
    for entries in _JOURNALS:
        entries.add(path)


@contextlib.contextmanager
def journal() -> Iterator[set[Path]]:
    """The markers of the entries read or written in this process while it is open."""
    entries: set[Path] = set()
    _JOURNALS.append(entries)
    try:
        yield entries
    finally:
        _JOURNALS.remove(entries)


def remove_unused(folder: Path, before: float, marker: str = "") -> Removed:
    """Remove the entries of ``folder`` (``folder/XX/NAME``, files or directories) last used
    before ``before`` (seconds since the epoch, as time.time()).

    A directory entry's last use is the modification time of its ``marker`` file, which is
    removed first; one without its marker (a write interrupted, or under way) goes by the
    directory's own time, which a write under way keeps recent."""
    removed = Removed()
    try:
        shards = [s for s in folder.iterdir() if len(s.name) == 2 and s.is_dir()]
    except OSError:
        return removed  # no cache yet, or not readable: nothing to remove
    for shard in shards:
        with contextlib.suppress(OSError):
            for entry in list(shard.iterdir()):
                removed.add(_remove_if_unused(entry, before, marker))
    return removed


def _remove_if_unused(entry: Path, before: float, marker: str) -> Removed:
    try:
        if entry.is_dir() and not entry.is_symlink():
            try:
                used = (entry / marker).stat().st_mtime if marker else entry.stat().st_mtime
            except FileNotFoundError:
                used = entry.stat().st_mtime
            if used >= before:
                return Removed()
            size = sum(f.stat().st_size for f in entry.iterdir() if f.is_file())
            if marker:
                with contextlib.suppress(FileNotFoundError):
                    (entry / marker).unlink()  # absent to readers from here on
            shutil.rmtree(entry, ignore_errors=True)
            return Removed(1, size)
        info = entry.lstat()
        if info.st_mtime >= before:
            return Removed()
        entry.unlink()
        return Removed(1, info.st_size)
    except OSError:
        return Removed()  # gone meanwhile, or not ours to remove: left as it is
