"""Page fingerprints: which pages of two versions of a PDF look the same.

A page's fingerprint digests everything that draws it: its size, its drawing instructions and
every font, image and form they use (bytes and entries, followed through references; not the
links or the structure tree, which draw nothing). The live preview names a page's image by it
(pages an edit left alone keep their images, and the pages that changed are shown); a
collection preview's pages get theirs from their sources without reading the file
(Assembler.page_prints).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from recueil.render.increment import LazyReader


def page_prints(pdf: bytes) -> list[str]:
    """Each page's fingerprint, read from the file by the reader that parses only what it is
    asked for (render/increment.py): a sheet's three pages in 8 ms instead of pypdf's 30 ms
    for all its objects, between an author's save and the new pages on screen."""
    reader = LazyReader(io.BytesIO(pdf))
    known: dict[int, bytes] = {}

    def feed(hasher: Any, value: Any, depth: int = 0) -> None:
        if depth > 64:  # nothing drawn nests this deep: a malformed file
            hasher.update(b"deep")
        elif isinstance(value, IndirectObject):
            hasher.update(b"R" + digest(value, depth))
        elif isinstance(value, DictionaryObject):
            if isinstance(value, StreamObject):
                hasher.update(b"S%d:" % len(value._data) + value._data)
            hasher.update(b"<<")
            for key in sorted(dict.keys(value)):
                if key not in ("/Parent", "/P", "/StructParent", "/StructParents"):
                    hasher.update(key.encode() + b" ")
                    feed(hasher, dict.__getitem__(value, key), depth + 1)
            hasher.update(b">>")
        elif isinstance(value, ArrayObject):
            hasher.update(b"[")
            for entry in value:
                feed(hasher, entry, depth + 1)
            hasher.update(b"]")
        else:
            buffer = io.BytesIO()
            value.write_to_stream(buffer)
            hasher.update(buffer.getvalue() + b" ")

    def digest(reference: IndirectObject, depth: int) -> bytes:
        number = reference.idnum
        if number not in known:
            known[number] = b"cycle"  # a reference back to an object being digested
            hasher = hashlib.sha256()
            feed(hasher, reference.get_object(), depth + 1)
            known[number] = hasher.digest()
        return known[number]

    found = []
    for page in reader.pages:
        hasher = hashlib.sha256()
        for key in ("/MediaBox", "/CropBox", "/Rotate", "/Contents", "/Resources"):
            hasher.update(key.encode())
            if key in page:
                feed(hasher, dict.__getitem__(page, key))
        found.append(hasher.hexdigest()[:16])
    return found


def combined(*parts: str) -> str:
    """One fingerprint from several (a source page and what is stamped on it)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def assembled(
    stamps: Sequence[Mapping[str, Any]],
    runs: Sequence[Any],
    renders: Mapping[str, Any],
    frame_documents: Sequence[Any],
) -> list[str]:
    """An assembled collection's page fingerprints without reading it: each page's source
    file digest, its place there and its stamp (``runs``: structure_tree.runs_of)."""
    prints = [combined("blank", repr(sorted(s.items()))) for s in stamps]
    for run in runs:
        sheet = run.key.startswith("sheet:")
        source = renders[run.part] if sheet else frame_documents[int(run.key[6:])]
        file = hashlib.sha256(source.pdf).hexdigest()
        for offset in range(run.count):
            index = run.start + offset
            prints[index] = combined(
                file, str(run.first + offset), repr(sorted(stamps[index].items()))
            )
    return prints
