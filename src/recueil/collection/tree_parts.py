"""The pieces structure_tree.py copies: the common elements as bytes, without parsing them;
how roles, heading levels and IDs change on the way; reading a source's tree.

pypdf reads a small dictionary in about a tenth of a millisecond: for a collection of 1,000
sheets, some 300,000 elements, half a minute spent reading what is only renumbered
(structure_tree.py). Most elements are written by pydyf (WeasyPrint) in one shape,
``<</Type /StructElem/S /Role/K [kids]/Pg n 0 R/P n 0 R>>``, and link references as
``<</Type /OBJR/Obj n 0 R/Pg n 0 R>>``: these are recognised by a regular expression and
rewritten as bytes. Anything else (an element with attributes, alternative text, an ID) is read
by pypdf as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

#: a structure element holding only its role, kids, page and parent
ELEMENT = re.compile(
    rb"<</Type /StructElem/S /([A-Za-z0-9]+)/K \[([0-9 R]*)\](?:/Pg (\d+) 0 R)?/P (\d+) 0 R>>"
)
#: a link annotation's place in the tree
OBJR = re.compile(rb"<</Type /OBJR/Obj (\d+) 0 R/Pg (\d+) 0 R>>")
_KID = re.compile(rb"(\d+) 0 R|(\d+)")


def kids(listed: bytes) -> Iterator[tuple[str, int]]:
    """The kids written in an element's ``/K`` array: ("ref", number) or ("mcid", MCID)."""
    for match in _KID.finditer(listed):
        if match[1] is not None:
            yield "ref", int(match[1])
        else:
            yield "mcid", int(match[2])


def element(role: str, kids_written: list[bytes], page: int | None, parent: int) -> bytes:
    """An element's bytes: its page only if it holds marked content itself (an MCID)."""
    data = b"<</S " + role.encode() + b"/K [" + b" ".join(kids_written) + b"]"
    if page is not None:
        data += b"/Pg %d 0 R" % page
    return data + b"/P %d 0 R>>" % parent


def objr(annotation: int, page: int) -> bytes:
    return b"<</Type /OBJR/Obj %d 0 R/Pg %d 0 R>>" % (annotation, page)


def reference(number: int) -> bytes:
    return b"%d 0 R" % number


_HEADING = re.compile(r"^/H([1-6])$")


@dataclass(frozen=True)
class Context:
    """How a source's elements change on the way: heading levels, roles, IDs."""

    prefix: str
    shift: int
    rename: Mapping[str, str]

    def role(self, role: str) -> str:
        heading = _HEADING.match(role)
        if heading and self.shift:
            return f"/H{min(6, int(heading[1]) + self.shift)}"
        return self.rename.get(role, role)

    def id(self, value: str) -> str:
        return f"{self.prefix}:{value}"

    def attributes(self, value: Any) -> Any:
        """Attribute dictionaries, direct copies; the table headers' IDs prefixed."""
        value = value.get_object()
        if isinstance(value, ArrayObject):
            return ArrayObject(self.attributes(item) for item in value)
        copied = DictionaryObject()
        for key, raw in dict.items(value):
            item: Any = raw.get_object() if isinstance(raw, IndirectObject) else raw
            if key == "/Headers":
                item = ArrayObject(TextStringObject(self.id(str(h))) for h in item)
            copied[NameObject(key)] = item
        return copied


def listed_annotations(page: Any) -> list[Any]:
    """A page's annotations as they are listed (references stay references)."""
    if "/Annots" not in page:
        return []
    listed = page["/Annots"]
    return list(list.__iter__(listed)) if isinstance(listed, ArrayObject) else []


def kids_of(node: Any) -> list[Any]:
    kids = node.get("/K") if hasattr(node, "get") else None
    if kids is None:
        return []
    kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
    items = list.__iter__(kids) if isinstance(kids, ArrayObject) else [kids]
    return [int(item) if isinstance(item, NumberObject) else item for item in items]


def number_tree(node: Any) -> dict[int, Any]:
    found: dict[int, Any] = {}
    if node is None:
        return found
    node = node.get_object()
    nums = list.__iter__(node.get("/Nums") or ArrayObject())
    items = list(nums)
    for key, value in zip(items[::2], items[1::2], strict=True):
        found[int(key)] = value
    kids: Any = node.get("/Kids") or []
    for kid in kids:
        found.update(number_tree(kid))
    return found
