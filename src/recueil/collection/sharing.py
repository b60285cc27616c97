"""What the renders of a collection have in common is stored in it once.

Each render copied into a collection brings its own fonts and its own copy of every pictogram
and image: the collection of 400 sheets was six times a one-pass rendering of the same sheets.
Before a render's pages are copied, :meth:`Sharing.prepare` looks at the resources they use:

- each font it embeds is shown with the collection's shared font for it (shared_fonts.py),
  whose program is written once at the end;
- each stream reached from the resources (form XObjects such as SVG pictograms, images and
  their masks, ICC profiles, fonts that cannot be merged) is identified by a digest of its
  bytes and of everything it refers to, so that a stream already copied from an earlier
  render is referred to instead of copied again.

Both work through pypdf's own bookkeeping of copied objects: the render's objects are entered
as already copied (``PdfWriter._id_translated``), so that copying its pages makes references
to the shared objects. This keeps the streaming of compact.py: nothing is copied and then
removed, and the order of objects in the output depends only on the order of the renders.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any, TypeVar

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from recueil.collection.shared_fonts import SharedFonts

_Reader = TypeVar("_Reader", bound=PdfReader)
#: dictionary entries never followed when looking for what resources use (they lead back up)
_UPWARD = frozenset({"/Parent", "/P"})
#: what ties a stream to a document's structure tree (ISO 32000-1, 14.7.4)
_STRUCTURE = ("/StructParent", "/StructParents")


class Sharing:
    """Shared fonts and streams of one output ``writer`` (see the module docstring)."""

    def __init__(self, writer: PdfWriter, share_fonts: bool = True):
        self.writer = writer
        self.fonts = SharedFonts(writer)
        #: False: each render keeps its own font subsets (a preview: no merging to wait for)
        self.share_fonts = share_fonts
        #: digest of a stream → the object of the output holding it
        self.streams: dict[bytes, int] = {}
        #: for each reader being copied: its streams not seen before, by object number
        self.pending: dict[int, dict[int, bytes]] = {}

    def prepare(self, reader: _Reader) -> _Reader:
        """``reader``, whose pages now copy into the writer with shared fonts and streams."""
        translated = self.writer._id_translated.setdefault(id(reader), {"PreventGC": reader})
        walk = _Walk(self, reader)
        for page in reader.pages:
            walk.resources(page.get("/Resources"))
        for number, copied in walk.mapped.items():
            translated[number] = copied
        self.pending[id(reader)] = walk.new
        return reader

    def release(self, reader: PdfReader) -> None:
        """Remember where the reader's new streams were copied, then forget the reader."""
        translated = self.writer._id_translated.get(id(reader), {})
        for number, digest in self.pending.pop(id(reader), {}).items():
            copied = translated.get(number)
            if copied is not None:
                self.streams.setdefault(digest, copied)
        self.writer.reset_translation(reader)

    def finish(self) -> None:
        """Write the shared fonts (once every render has said which glyphs it uses)."""
        self.fonts.finish()


class _Walk:
    """One reader's resources: its fonts mapped to shared ones, its streams by digest."""

    def __init__(self, sharing: Sharing, reader: PdfReader):
        self.sharing = sharing
        self.reader = reader
        #: the reader's objects to show as objects of the output, by object number
        self.mapped: dict[int, int] = {}
        #: streams first seen in this reader: object number → digest
        self.new: dict[int, bytes] = {}
        self.digests: dict[int, bytes] = {}
        self.seen: set[int] = set()

    def resources(self, value: Any) -> None:
        """Share the fonts of a resource dictionary, then digest every stream it reaches."""
        resources = value.get_object() if value is not None else None
        if not isinstance(resources, DictionaryObject):
            return
        fonts = resources.get("/Font")
        fonts = fonts.get_object() if fonts is not None else None
        if isinstance(fonts, DictionaryObject):
            for reference in dict.values(fonts):
                self.font(reference)
        for key, entry in dict.items(resources):
            if key != "/Font":
                self.streams_in(entry)

    def font(self, reference: Any) -> None:
        if not isinstance(reference, IndirectObject) or reference.idnum in self.seen:
            return
        self.seen.add(reference.idnum)
        if not self.sharing.share_fonts:
            self.streams_in(reference)
            return
        shared = self.sharing.fonts.share(reference.get_object())
        if shared is not None:
            self.mapped[reference.idnum] = shared.idnum
        else:
            self.streams_in(reference)

    def streams_in(self, value: Any) -> None:
        """Digest every stream reachable from ``value``; map those the output already has."""
        if isinstance(value, IndirectObject):
            if value.idnum in self.seen:
                return
            self.seen.add(value.idnum)
            target = value.get_object()
            if isinstance(target, StreamObject):
                digest = self.digest(value) if _shareable(target) else None
                known = self.sharing.streams.get(digest) if digest else None
                if known is not None:
                    self.mapped[value.idnum] = known
                    return  # nothing of it is copied: what it refers to need not be looked at
                if digest:
                    self.new[value.idnum] = digest
                self.resources(target.get("/Resources"))
            value = target
        if isinstance(value, DictionaryObject):
            for key, entry in dict.items(value):
                if key not in _UPWARD:
                    self.streams_in(entry)
        elif isinstance(value, ArrayObject):
            for entry in value:
                self.streams_in(entry)

    def digest(self, reference: IndirectObject) -> bytes | None:
        """A digest of an object and all it refers to (None for a cycle: never shared).

        A reference to a shared font or stream counts as the shared object's number, so that
        two forms drawing with two renders' subsets of one font are the same form.
        """
        number = reference.idnum
        target = reference.get_object()
        if isinstance(target, DictionaryObject) and target.get("/Type") == "/Font":
            self.font(reference)  # a form's font: shared before the form is digested
        if number in self.mapped:
            return b"output %d" % self.mapped[number]
        known = self.digests.get(number)
        if known is not None:
            return known or None
        self.digests[number] = b""  # being digested: a reference back to it is a cycle
        hasher = hashlib.sha256()
        if not self._feed(hasher, target):
            return None
        self.digests[number] = hasher.digest()
        return self.digests[number]

    def _feed(self, hasher: Any, value: Any) -> bool:
        if isinstance(value, IndirectObject):
            digest = self.digest(value)
            if digest is None:
                return False
            hasher.update(b"R" + digest)
            return True
        if isinstance(value, StreamObject):
            hasher.update(b"S%d:" % len(value._data))
            hasher.update(value._data)
        if isinstance(value, DictionaryObject):
            hasher.update(b"<<")
            for key in sorted(dict.keys(value)):
                if key in _UPWARD:
                    return False
                hasher.update(key.encode() + b" ")
                if not self._feed(hasher, dict.__getitem__(value, key)):
                    return False
            hasher.update(b">>")
            return True
        if isinstance(value, ArrayObject):
            hasher.update(b"[")
            for entry in value:
                if not self._feed(hasher, entry):
                    return False
            hasher.update(b"]")
            return True
        buffer = io.BytesIO()
        value.write_to_stream(buffer)
        hasher.update(buffer.getvalue() + b" ")
        return True


def _shareable(stream: StreamObject) -> bool:
    """Whether a stream may be drawn from the pages of several renders.

    Not when it belongs to a render's structure tree (its own parent-tree entry, or marked
    content numbered for the page drawing it): collection/structure_tree.py rebuilds the tree
    from each render's objects, which must stay each render's own.
    """
    if any(key in stream for key in _STRUCTURE):
        return False
    return stream.get("/Subtype") != "/Form" or b"/MCID" not in stream.get_data()
