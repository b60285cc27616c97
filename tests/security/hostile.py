"""Helpers of the security suite: hostile files to plant, and a thorough search of output PDFs.

A 'forbidden' file is planted outside the project with a marker no sheet contains; an attack
succeeds if that marker (or a line of /etc/passwd) reaches any byte of any PDF: its raw bytes,
any decompressed stream (content streams, embedded files, fonts) or the extracted text.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject

#: Written only in the forbidden files; it must never appear in an output.
MARKER = "RECUEIL-FORBIDDEN-5b1f0c"
#: What /etc/passwd starts with on every Linux system.
PASSWD = "root:x:0:0"

RESOURCE = """---
slug: {slug}
title: {title}
resource_type: guide
resource_centre: Labo Cités
date: 2024-01-15
theme: perseverance
abstract: Une fiche d'essai pour la suite de sécurité.
---

## Texte

{body}
"""
#: Line of the first body line ({body}) in a RESOURCE sheet.
BODY_LINE = 13


def resource(slug: str, body: str, title: str = "Fiche d'essai") -> str:
    """A valid resource sheet whose body (from line BODY_LINE) is ``body``."""
    return RESOURCE.format(slug=slug, title=title, body=body)


def png(width: int, height: int, text: str = "") -> bytes:
    """A PNG whose header says width × height; its pixel data is one tiny IDAT chunk.

    For 1 × 1 the image is complete and valid; for larger sizes only the header is honest,
    which is all a check that never decodes may look at.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    extra = chunk(b"tEXt", b"Comment\x00" + text.encode()) if text else b""
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def svg(text: str = "", extra: str = "") -> str:
    """A small SVG showing ``text`` (a leaked SVG would print it into the PDF)."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="200" height="40"><text x="5" y="25">{text}</text>{extra}</svg>\n'
    )


def plant_forbidden(folder: Path) -> Path:
    """Files outside the project that no build may read: text, SVG and PNG, all marked."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "forbidden.txt").write_text(f"{MARKER}\nsecret\n", encoding="utf-8")
    (folder / "forbidden.svg").write_text(svg(MARKER), encoding="utf-8")
    (folder / "forbidden.png").write_bytes(png(1, 1, MARKER))
    (folder / "forbidden.css").write_text(f'body::before {{ content: "{MARKER}" }}\n')
    return folder


def pdf_leaks(pdf: bytes, needles: tuple[str, ...] = (MARKER, PASSWD)) -> list[str]:
    """Where any needle shows in a PDF: raw bytes, decompressed streams, text, attachments."""
    found: list[str] = []
    for needle in needles:
        if needle.encode() in pdf:
            found.append(f"{needle} in the raw bytes")
    reader = PdfReader(io.BytesIO(pdf))
    texts = "\n".join(page.extract_text() or "" for page in reader.pages)
    for needle in needles:
        if needle in texts:
            found.append(f"{needle} in the text")
    for name, contents in reader.attachments.items():
        found.append(f"attachment {name} ({sum(len(c) for c in contents)} bytes)")
    size = int(reader.trailer.get("/Size", 0))
    for number in range(1, size):
        try:
            obj = reader.get_object(IndirectObject(number, 0, reader))
        except Exception:  # a free or damaged entry: nothing to read there
            continue
        if isinstance(obj, StreamObject):
            try:
                data = obj.get_data()
            except Exception:
                data = b""
            for needle in needles:
                if needle.encode() in data or needle.encode("utf-16-be") in data:
                    found.append(f"{needle} in stream object {number}")
    return found
