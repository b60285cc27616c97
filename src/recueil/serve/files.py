"""Answering for a file: ETag from its content, Last-Modified, Cache-Control, Range, HEAD, 304.

PDFs are what visitors come for, often on slow connections that resume downloads, and behind
caches: a strong ETag (the SHA-256 of the bytes, so two server processes agree on it), a
single byte range (what browsers' PDF viewers and download managers ask for), and a 304 for a
copy that is still right. Files are read whole (a sheet is about 100 KB, a collection a few
MB); their hashes are remembered while their size and modification time stay the same.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Payload:
    """Bytes to send, with what their headers say about them."""

    data: bytes
    etag: str
    modified: datetime | None = None


class FileHashes:
    """Payloads of files on disk, re-read only when their size or modification time changes.

    What is kept is bounded by bytes, not by files: a collection is tens of MB, a style sheet a
    few KB. The files asked for most recently are kept (a selection just made is downloaded
    again, the site's stylesheet on every page); a file larger than the whole budget is read
    for each request."""

    def __init__(self, capacity_bytes: int = 16 * 1024 * 1024) -> None:
        self._known: dict[Path, tuple[tuple[int, int], Payload]] = {}
        self._lock = threading.Lock()
        self.capacity_bytes = capacity_bytes
        self._held = 0

    def payload(self, path: Path) -> Payload:
        """The file's bytes and ETag (OSError when it cannot be read)."""
        info = path.stat()
        stamp = (info.st_size, info.st_mtime_ns)
        with self._lock:
            known = self._known.pop(path, None)
            if known is not None:
                if known[0] == stamp:
                    self._known[path] = known  # most recent last
                    return known[1]
                self._held -= len(known[1].data)
        data = path.read_bytes()
        modified = datetime.fromtimestamp(info.st_mtime, UTC).replace(microsecond=0)
        payload = Payload(data, etag_of(data), modified)
        if len(data) > self.capacity_bytes:
            return payload
        with self._lock:
            previous = self._known.pop(path, None)
            if previous is not None:
                self._held -= len(previous[1].data)
            while self._known and self._held + len(data) > self.capacity_bytes:
                oldest = next(iter(self._known))  # dicts keep their order: least recent first
                self._held -= len(self._known.pop(oldest)[1].data)
            self._known[path] = (stamp, payload)
            self._held += len(data)
        return payload

    def clear(self) -> None:
        """Forget every file (the server is at rest: they are read again when asked for)."""
        with self._lock:
            self._known.clear()
            self._held = 0


def etag_of(data: bytes) -> str:
    """A strong validator: the content's hash, the same in every server process."""
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def send(
    request: Request,
    payload: Payload,
    media_type: str,
    *,
    filename: str | None = None,
    max_age: int = 300,
    inline: bool = True,
) -> Response:
    """The response for ``payload``: 200, 206 (a range), 304 (not modified) or 416."""
    headers = {
        "ETag": payload.etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Accept-Ranges": "bytes",
    }
    if payload.modified is not None:
        headers["Last-Modified"] = format_datetime(payload.modified, usegmt=True)
    if filename is not None:
        disposition = "inline" if inline else "attachment"
        headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    if _not_modified(request, payload):
        return Response(status_code=304, headers=headers)
    data, status = payload.data, 200
    wanted = request.headers.get("range")
    if wanted is not None and _range_applies(request, payload):
        span = _span(wanted, len(data))
        if span is None:
            headers["Content-Range"] = f"bytes */{len(data)}"
            return Response(status_code=416, headers=headers)
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        data, status = data[start : end + 1], 206
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return Response(status_code=status, headers=headers, media_type=media_type)
    return Response(data, status_code=status, headers=headers, media_type=media_type)


def _not_modified(request: Request, payload: Payload) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return payload.etag in {tag.strip() for tag in match.split(",")} or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since is not None and payload.modified is not None:
        try:
            return payload.modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _range_applies(request: Request, payload: Payload) -> bool:
    """If-Range: a range of an older version is not sent; the whole current file is."""
    condition = request.headers.get("if-range")
    return condition is None or condition.strip() == payload.etag


def _span(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range asked for, clamped to the file; None when it cannot be satisfied.

    Several ranges in one request (multipart answers) are refused the same way: no client of a
    PDF needs them, and they are a known way to make a server do much work for little.
    """
    match = _RANGE.match(header.strip())
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last[:19])
        if length == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first[:19])
    end = int(last[:19]) if last else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def safe_file(folder: Path, relative: str, suffixes: tuple[str, ...]) -> Path | None:
    """``folder/relative`` if it is a regular file inside ``folder`` with an allowed suffix.

    Every file the server sends from disk is found through here or through the catalogue
    (slug → file): no URL reaches the file system otherwise.
    """
    if not relative or "\x00" in relative or len(relative) > 512 or "\\" in relative:
        return None
    if any(part in ("", ".", "..") or part.startswith(".") for part in relative.split("/")):
        return None
    try:
        root = folder.resolve()
        candidate = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not candidate.is_relative_to(root) or candidate.suffix.lower() not in suffixes:
        return None
    return candidate if candidate.is_file() else None
