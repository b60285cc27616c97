"""What the web catalogue makes for its visitors, kept on disk within a ceiling.

A public server makes files nobody published: the PDF of each visitor's selection (any sheets,
any title) and the first-page images of sheets. Kept, a selection asked again is sent in
milliseconds instead of seconds; kept without a bound, anyone could fill the disk by asking
for the same sheets under ever new titles. A :class:`Shelf` holds such folders under one
ceiling (the project's ``serve_cache_mb``): when a new file takes them past it, the files
asked for least recently are deleted, down to LOW_WATER of the ceiling, and made again when
someone asks for them.

When a file was last asked for is its access time, set when it is served (the modification
time stays: it is the download's Last-Modified, and the key of the server's memory of it);
reading does not set it on file systems mounted ``noatime`` or ``relatime``. Only regular
files of the shelf's folders are ever deleted, never a file being written (``write_atomic``'s
``.NAME.….tmp``), never the file just written.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

#: after a clean-up the folders hold at most this share of the ceiling (not one deletion for
#: every new file once the ceiling is reached)
LOW_WATER = 0.9
#: a file served again within this many seconds keeps its access time (no disk write for
#: every download of a popular selection)
TOUCH_SECONDS = 60.0
#: the folders are counted again after this many seconds: several server processes may write
#: in them, and each adds only its own files to its count in between
RECOUNT_SECONDS = 60.0


class Shelf:
    """Folders of files made on request, kept under ``ceiling`` bytes together, least
    recently used out first. Shared by the server's threads; several server processes may
    each hold one on the same folders (each counts again what is on disk when it cleans)."""

    def __init__(self, folders: Sequence[Path], ceiling: int) -> None:
        self.folders = tuple(folders)
        self.ceiling = ceiling
        self._lock = threading.Lock()
        #: bytes in the folders as last counted, plus what was written since (None: not counted)
        self._held: int | None = None
        self._counted = 0.0  # when (time.monotonic)

    def used(self, path: Path) -> None:
        """``path`` is being sent: it goes to the end of the line for deletion."""
        with contextlib.suppress(OSError):
            info = path.stat()
            now = time.time()
            if now - info.st_atime > TOUCH_SECONDS:
                os.utime(path, ns=(time.time_ns(), info.st_mtime_ns))

    def added(self, path: Path, size: int) -> int:
        """``path`` (``size`` bytes) was just written in one of the folders: when the folders
        now pass the ceiling, delete the files used least recently. Returns how many were."""
        with self._lock:
            files = None
            if self._held is None or time.monotonic() - self._counted > RECOUNT_SECONDS:
                files = self._files()
                self._held = sum(size for _, size, _ in files)
                self._counted = time.monotonic()
            else:
                self._held += size
            if self._held <= self.ceiling:
                return 0
            files = sorted(self._files() if files is None else files)  # least recently used first
            held = sum(size for _, size, _ in files)
            deleted = 0
            for _, size, found in files:
                if held <= self.ceiling * LOW_WATER:
                    break
                if found == path:
                    continue
                with contextlib.suppress(FileNotFoundError):  # another process was quicker
                    found.unlink()
                    deleted += 1
                held -= size
            self._held, self._counted = held, time.monotonic()
            return deleted

    def _files(self) -> list[tuple[float, int, Path]]:
        """(access time, size, path) of every file of the folders, but those being written."""
        found: list[tuple[float, int, Path]] = []
        for folder in self.folders:
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        found.append((info.st_atime, info.st_size, Path(entry.path)))
        return found
