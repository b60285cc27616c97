"""Input limits: the caps that keep a hostile or broken source from hanging or exhausting a build.

Each cap is a project setting (see settings.py, whose defaults come from here); this module holds
what checking them needs without depending on the rest of recueil: reading an image's size from
its header alone (never decoding it: a 20,000 × 20,000 PNG is a few hundred bytes of header and
1.6 GB once decoded), inspecting an SVG for references outside the project, and a wall-clock
deadline for pure-Python stages whose worst case is worse than linear (Python-Markdown,
html.parser).
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import re
import struct
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

DEFAULT_MAX_FRONT_MATTER_BYTES = 65_536
DEFAULT_MAX_NESTING_DEPTH = 30
DEFAULT_MAX_TABLE_ROWS = 200
DEFAULT_MAX_TABLE_COLUMNS = 30
DEFAULT_MAX_IMAGES = 50
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000
DEFAULT_MAX_IMAGE_BYTES = 20_000_000
DEFAULT_MAX_SVG_BYTES = 2_000_000
DEFAULT_MAX_MARKUP_SECONDS = 10

#: How deep an SVG may nest elements: WeasyPrint draws SVG recursively, like HTML.
SVG_MAX_DEPTH = 100
#: How many SVG files one image may pull in through relative references (``<image>``, ``<use>``).
_SVG_MAX_CHAIN = 3
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*(?=:)")
_URL_NOISE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_CSS_URL = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|((?:\\[0-9A-Fa-f]{1,6}\s?|\\.|[^)\s\\])*))\s*\)""",
    re.IGNORECASE | re.DOTALL,
)
_CSS_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{1,6})\s?|\\(.)", re.DOTALL)
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


@dataclass(frozen=True)
class InputLimits:
    """The caps the body and front-matter checks need (the project's settings fill them in)."""

    max_nesting_depth: int = DEFAULT_MAX_NESTING_DEPTH
    max_table_rows: int = DEFAULT_MAX_TABLE_ROWS
    max_table_columns: int = DEFAULT_MAX_TABLE_COLUMNS
    max_images: int = DEFAULT_MAX_IMAGES
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    max_svg_bytes: int = DEFAULT_MAX_SVG_BYTES
    max_markup_seconds: float = DEFAULT_MAX_MARKUP_SECONDS


# ------------------------------------------------------------------------------- deadline


class TooSlow(BaseException):
    """Raised inside a block run under ``deadline`` once its time is up.

    A BaseException, so that an ``except Exception`` in the code being timed cannot swallow it.
    """


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise TooSlow in this thread when the block still runs after ``seconds``.

    A watchdog timer raises the exception asynchronously in the thread running the block
    (``PyThreadState_SetAsyncExc``), so the block runs at full speed (a trace function did the
    same at twice the cost). Python checks for the exception between bytecodes, so this
    interrupts pure-Python loops, which is how Python-Markdown and html.parser spend their
    time, but not one long call into C (a regular expression, nh3): the other caps keep those
    linear. A watchdog firing just as the block ends cannot leak the exception past the
    ``with`` statement: the watchdog is disarmed, waited for, and anything it raised is
    withdrawn or absorbed before the block's own outcome goes on.
    """
    thread = ctypes.c_ulong(threading.get_ident())
    armed = [True]

    def fire() -> None:
        if armed[0]:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(thread, ctypes.py_object(TooSlow))

    watchdog = threading.Timer(seconds, fire)
    watchdog.daemon = True
    try:
        watchdog.start()
        yield
    finally:
        armed[0] = False
        watchdog.cancel()
        while True:
            try:
                watchdog.join()  # after this, nothing can raise TooSlow any more...
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread, None)  # ...or is pending
                break
            except TooSlow:  # raised too late to matter: the block is over
                continue


def url_scheme(url: str) -> str:
    """The scheme of ``url`` in lower case, '' for none, read as browsers and WeasyPrint do
    (surrounding spaces and control characters, and tabs or newlines inside, are ignored).

    Unlike urllib's urlsplit, it never raises (urlsplit does on 'https://[x').
    """
    match = _SCHEME.match(_URL_NOISE.sub("", url.strip(_C0_AND_SPACE)))
    return match[0].lower() if match else ""


# --------------------------------------------------------------------------------- images


def image_problem(path: Path, project_dir: Path, limits: InputLimits) -> str | None:
    """Why the image file ``path`` must be refused (a phrase), or None when it is acceptable.

    Raster images (PNG, JPEG, GIF, WebP) are recognised by their first bytes and measured from
    their headers; SVG is parsed (without entities) and must not refer outside the project.
    """
    return _image_problem(path, project_dir.resolve(), limits, ())


def _image_problem(
    path: Path, root: Path, limits: InputLimits, chain: tuple[Path, ...]
) -> str | None:
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(32)
            if size > limits.max_image_bytes:
                return _above(f"{size:,} bytes", limits.max_image_bytes, "max_image_bytes")
            kind = _sniff(head)
            if kind is None:
                if path.suffix.lower() != ".svg":
                    return "its content is not a PNG, JPEG, GIF or WebP image"
                if size > limits.max_svg_bytes:
                    return _above(f"{size:,} bytes", limits.max_svg_bytes, "max_svg_bytes")
                stream.seek(0)
                return _svg_problem(stream.read(), path, root, limits, (*chain, path))
            dimensions = _READERS[kind](stream, head)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    except (struct.error, ValueError, IndexError):  # raised by the header readers only
        dimensions = None
    assert kind is not None
    return _dimensions_problem(kind, dimensions, limits)


def raster_problem(data: bytes, limits: InputLimits) -> str | None:
    """Why image bytes already in memory (a remote image) must be refused, or None.

    The same checks as ``image_problem`` for raster images, on the bytes: the format from the
    first bytes, the size from the header. SVG is refused: its references could only be
    judged against the server it came from.
    """
    if len(data) > limits.max_image_bytes:
        return _above(f"{len(data):,} bytes", limits.max_image_bytes, "max_image_bytes")
    kind = _sniff(data[:32])
    if kind is None:
        return "its content is not a PNG, JPEG, GIF or WebP image"
    try:
        dimensions = _READERS[kind](io.BytesIO(data), data[:32])
    except (struct.error, ValueError, IndexError):
        dimensions = None
    return _dimensions_problem(kind, dimensions, limits)


def image_kind(data: bytes) -> str | None:
    """'PNG', 'JPEG', 'GIF' or 'WebP' from the first bytes, None for anything else."""
    return _sniff(data[:32])


def _dimensions_problem(
    kind: str, dimensions: tuple[int, int] | None, limits: InputLimits
) -> str | None:
    if dimensions is None:
        return f"its {kind} header is damaged (its size cannot be read)"
    width, height = dimensions
    pixels = width * height
    if pixels > limits.max_image_pixels:
        return (
            f"it is {width:,} × {height:,} pixels ({pixels:,}), above the limit of "
            f"{limits.max_image_pixels:,} pixels (setting max_image_pixels)"
        )
    if pixels == 0:
        return f"its {kind} header gives it no pixels ({width} × {height})"
    return None


def _above(what: str, limit: int, setting: str) -> str:
    return f"it is {what}, above the limit of {limit:,} (setting {setting})"


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


def _png_size(stream: BinaryIO, head: bytes) -> tuple[int, int] | None:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


_SOF_MARKERS = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                          0xCE, 0xCF))  # fmt: skip


def _jpeg_size(stream: BinaryIO, head: bytes) -> tuple[int, int] | None:
    """Walk the JPEG segments (seeking over their bodies) to the frame header."""
    stream.seek(2)
    for _ in range(10_000):
        marker = stream.read(2)
        while len(marker) == 2 and marker[0] == 0xFF and marker[1] == 0xFF:  # fill bytes
            marker = marker[1:] + stream.read(1)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        code = marker[1]
        if code in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            continue
        if code in (0xD9, 0xDA):  # end of image, start of scan: no frame header before
            return None
        length_bytes = stream.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if code in _SOF_MARKERS:
            body = stream.read(5)
            if len(body) < 5:
                return None
            _, height, width = struct.unpack(">BHH", body)
            return (int(width), int(height)) if height else None
        stream.seek(length - 2, 1)
    return None


def _gif_size(stream: BinaryIO, head: bytes) -> tuple[int, int] | None:
    """The logical screen, grown to hold every frame (decoders enlarge the canvas)."""
    stream.seek(0)
    data = stream.read()
    width, height, flags = struct.unpack("<HHB", data[6:11])
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while position < len(data):
        block = data[position]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            position = _skip_sub_blocks(data, position + 2)
        elif block == 0x2C:  # image descriptor
            left, top, frame_w, frame_h, local = struct.unpack(
                "<HHHHB", data[position + 1 : position + 10]
            )
            width, height = max(width, left + frame_w), max(height, top + frame_h)
            position += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            position = _skip_sub_blocks(data, position + 1)  # after the LZW code size
        else:
            break
    return int(width), int(height)


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data) and data[position]:
        position += data[position] + 1
    return position + 1


def _webp_size(stream: BinaryIO, head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and len(head) >= 25:
        (bits,) = struct.unpack("<I", head[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


_READERS = {"PNG": _png_size, "JPEG": _jpeg_size, "GIF": _gif_size, "WebP": _webp_size}


# ------------------------------------------------------------------------------------ SVG


def _svg_problem(
    data: bytes, path: Path, root: Path, limits: InputLimits, chain: tuple[Path, ...]
) -> str | None:
    """An SVG must parse without a DTD, stay shallow, and refer only to files of the project."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return "it declares a DOCTYPE or entities, which SVG images may not"
    if b"<?xml-stylesheet" in data:
        return "it links a stylesheet (<?xml-stylesheet?>), which SVG images may not"
    try:
        root_element = ET.fromstring(data)
    except ET.ParseError as exc:
        return f"it is not a valid SVG file ({exc})"
    except RecursionError:
        return "it nests elements too deeply"
    stack: list[tuple[ET.Element, int]] = [(root_element, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > SVG_MAX_DEPTH:
            return f"it nests elements more than {SVG_MAX_DEPTH} levels deep"
        references = [element.get("href"), element.get(_XLINK_HREF)]
        values = list(element.attrib.values())
        if element.tag.rsplit("}", 1)[-1] == "style" and element.text:
            if "@import" in element.text.lower():
                return "its stylesheet imports another file (@import), which SVG images may not"
            values.append(element.text)
        for value in values:
            references += [_css_unescape(next(g for g in m.groups() if g is not None))
                           for m in _CSS_URL.finditer(value)]  # fmt: skip
        for reference in references:
            problem = _reference_problem(reference, path, root, limits, chain)
            if problem is not None:
                return problem
        stack.extend((child, depth + 1) for child in element)
    return None


def _css_unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match[1] is not None:
            code = int(match[1], 16)
            return chr(code) if 0 < code < 0x110000 else "\ufffd"
        return match[2]

    return _CSS_ESCAPE.sub(replace, text)


def _reference_problem(
    reference: str | None, path: Path, root: Path, limits: InputLimits, chain: tuple[Path, ...]
) -> str | None:
    if reference is None:
        return None
    value = "".join(c for c in reference if c > " ")
    if not value or value.startswith("#"):
        return None
    shown = reference.strip()[:80]
    if url_scheme(value):
        return f"it refers to '{shown}' (SVG images may only use files of the project)"
    target_text = unquote(value.split("#", 1)[0].split("?", 1)[0])
    if not target_text:
        return None
    if target_text.startswith(("/", "\\")):
        return f"it refers to '{shown}' (absolute paths are not allowed)"
    try:
        target = (path.parent / target_text).resolve()
        if not target.is_relative_to(root):
            return f"it refers to '{shown}', outside the project"
        if target.suffix.lower() not in IMAGE_SUFFIXES or not target.is_file() or target in chain:
            return None  # a missing file is WeasyPrint's warning; fonts are the fetcher's job
    except (OSError, ValueError, RuntimeError):  # too long, NUL byte, symlink loop
        return f"it refers to '{shown}', which cannot be used"
    if len(chain) >= _SVG_MAX_CHAIN:
        return f"it refers to '{shown}' through more than {_SVG_MAX_CHAIN} SVG files"
    problem = _image_problem(target, root, limits, chain)
    return f"it uses '{shown}', and {problem}" if problem is not None else None
