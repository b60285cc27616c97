"""The archive folder: where editions are published once and never touched again.

Publishing follows the rules of GUIDE §5. An edition is written into a hidden staging folder
beside its final place, every file flushed to disk, made read-only, then renamed into place
with ``renameat2(RENAME_NOREPLACE)``: a crash leaves the complete edition or nothing, and a
rename can never land on an existing folder (a plain rename silently replaces an *empty* one).
Creations are serialised by a lock on the archive folder, so two concurrent ``edition create``
of one version cannot both succeed. Staging folders left by a killed process are removed by
the next creation. ``SHA256SUMS`` (the format ``sha256sum -c`` reads) makes every file
verifiable without recueil.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recueil.core.atomic import fsync_folder

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CHANGES = "CHANGES.md"
LOCK = ".lock"
STAGING_PREFIX = ".staging-"


class ArchiveError(Exception):
    """A refusal of the archive (edition exists, unreadable manifest…), said plainly."""


@dataclass(frozen=True)
class Problem:
    """One finding of ``verify``: what is wrong (missing, altered, extra…) and with which file."""

    kind: str
    path: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}"


class Archive:
    """The folder holding a project's editions, one sub-folder per version."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, version: str) -> Path:
        """Where the edition ``version`` is (or would be) published."""
        return self.folder / version

    def versions(self) -> list[str]:
        """Published editions, oldest first (by date, then version)."""
        found = []
        for entry in self.folder.iterdir() if self.folder.is_dir() else []:
            if entry.name.startswith(".") or not (entry / MANIFEST).is_file():
                continue
            try:
                found.append((self.manifest(entry.name)["date"], entry.name))
            except ArchiveError:
                found.append(("", entry.name))
        return [version for _, version in sorted(found)]

    def manifest(self, version: str) -> dict[str, Any]:
        """The manifest of a published edition."""
        path = self.path(version) / MANIFEST
        if not self.path(version).is_dir():
            raise ArchiveError(f"no edition '{version}' in {self.folder}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ArchiveError(f"{path}: unreadable manifest ({exc})") from None
        if not isinstance(data, dict):
            raise ArchiveError(f"{path}: the manifest is not a JSON object")
        return data

    def latest(self) -> str | None:
        """The most recent published edition, if any."""
        versions = self.versions()
        return versions[-1] if versions else None

    @contextlib.contextmanager
    def lock(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the archive's lock (``flock``: released by the kernel if the process dies)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCK, "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def staging(self, version: str) -> Iterator[Path]:
        """A fresh staging folder for ``version``, removed unless it was published.

        Call with the lock held: leftovers of killed creations are removed first.
        """
        for leftover in self.folder.glob(STAGING_PREFIX + "*"):
            remove_tree(leftover)
        folder = self.folder / f"{STAGING_PREFIX}{version}-{os.getpid()}"
        folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            if folder.exists():
                remove_tree(folder)

    def publish(self, staging: Path, version: str) -> Path:
        """Seal the staged files (sums, read-only) and rename the folder into place."""
        target = self.path(version)
        if target.exists() or target.is_symlink():
            raise ArchiveError(
                f"edition '{version}' already exists ({target}); editions are never overwritten"
            )
        write_sums(staging)
        seal(staging)
        _rename_noreplace(staging, target)
        target.chmod(0o555)
        fsync_folder(self.folder)
        return target


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks (collections can be large)."""
    hasher = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    )


def write_sums(folder: Path) -> None:
    """Write ``SHA256SUMS`` for every file of the folder (sorted, ``sha256sum -c`` format)."""
    lines = [f"{sha256_file(folder / rel)}  {rel}\n" for rel in _files(folder) if rel != SUMS]
    write_file(folder / SUMS, "".join(lines).encode())


def write_file(path: Path, data: bytes) -> None:
    """Write a staged file and flush it to disk (the folder is renamed, not the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def seal(folder: Path) -> None:
    """Make every file and sub-folder read-only, flushing folders so the names are on disk.

    The folder itself is made read-only once renamed (moving a folder updates its '..').
    """
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            path.chmod(0o444)
        elif path.is_dir():
            fsync_folder(path)
            path.chmod(0o555)
    fsync_folder(folder)


def remove_tree(folder: Path) -> None:
    """Delete a folder even where it was sealed read-only (staging leftovers, temporary trees)."""

    def unlock(function: Callable[..., Any], path: str, _: Any) -> None:
        os.chmod(os.path.dirname(path), 0o755)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)
        function(path)

    if folder.is_symlink():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder, onerror=unlock)


def verify(folder: Path) -> list[Problem]:
    """Re-hash every file listed in ``SHA256SUMS``: missing, altered and extra files."""
    sums = folder / SUMS
    if not sums.is_file():
        return [Problem("missing", SUMS)]
    listed: dict[str, str] = {}
    problems: list[Problem] = []
    for number, line in enumerate(sums.read_text(encoding="utf-8", errors="replace").split("\n")):
        if not line:
            continue
        expected, _, rel = line.partition("  ")
        if len(expected) != 64 or not rel or rel.startswith("/") or ".." in rel.split("/"):
            problems.append(Problem("unreadable line", f"{SUMS}:{number + 1}"))
            continue
        listed[rel] = expected
    for rel, expected in sorted(listed.items()):
        path = folder / rel
        if not path.is_file() or path.is_symlink():
            problems.append(Problem("missing", rel))
        elif sha256_file(path) != expected:
            problems.append(Problem("altered", rel))
    for rel in _files(folder):
        if rel != SUMS and rel not in listed:
            problems.append(Problem("extra", rel))
    return problems


def fingerprint(folder: Path) -> str:
    """SHA-256 of the edition's ``SHA256SUMS``: one value that vouches for every file."""
    return sha256_file(folder / SUMS)


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _rename_noreplace(source: Path, target: Path) -> None:
    """Rename a folder, failing if anything (even an empty folder) is at the target."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        result = renameat2(
            _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE
        )
        if result == 0:
            return
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            raise ArchiveError(f"{target} appeared while publishing; nothing was overwritten")
        if code not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(code, os.strerror(code), str(target))
    # no renameat2 (or a file system without it): the archive lock makes check-then-rename safe
    if target.exists() or target.is_symlink():
        raise ArchiveError(f"{target} appeared while publishing; nothing was overwritten")
    os.rename(source, target)
