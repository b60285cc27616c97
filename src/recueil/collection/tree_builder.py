"""Copying the structure trees of a collection's sources into one (structure_tree.py).

The builder appends to an incremental update of the collection (render/increment.py): each run
of pages copies its source's elements under the collection's ``Document`` (a sheet's under its
own ``Sect``), maps its pages and links into the parent tree, and ``finish`` writes the root.
tree_copies.py records a sheet's copy once and replays it in later assemblies.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    TextStringObject,
)

from recueil.collection import tree_parts
from recueil.render.increment import IncrementalUpdate, LazyReader, Written
from recueil.render.pdfa import ua_metadata

#: the part whose lists are the table of contents (templates/collection.html)
TOC_PART = "part-toc"


@dataclass(frozen=True)
class Run:
    """Consecutive pages of the collection copied from one source document."""

    key: str  # "sheet:SLUG" or "frame:N"
    first: int  # first page in the source
    count: int
    start: int  # first page in the collection
    part: str = ""  # the frame part, or the sheet's slug


class Untagged(Exception):
    """A source has no structure tree."""


class TreeBuilder:
    """The collection's tree, run after run (see the module's docstring)."""

    def __init__(
        self,
        update: IncrementalUpdate,
        pages: list[Any],
        sources: Mapping[str, bytes],
        sheet_shift: int,
    ):
        self.update = update
        #: the collection's pages (references), in order
        self.pages = pages
        self.sources = sources
        self.sheet_shift = sheet_shift
        self.root = update.add(NullObject())
        self.document = update.add(NullObject())
        self.kids: list[IndirectObject] = []
        self.nums: list[tuple[int, Any]] = []
        self.annotation_keys = len(self.pages)
        #: per run: source object number → its copy (elements, annotations, pages)
        self.copies: dict[int, IndirectObject] = {}
        self.source: Any = None  # the LazyReader of the run being copied
        #: the frame's documents, read once for all their parts (a sheet's is read and let go)
        self.frames: dict[str, PdfReader] = {}
        #: per run: (link annotation of the collection, its Link element)
        self.links: list[tuple[IndirectObject, IndirectObject]] = []
        #: element IDs as copied (prefixed by their source) → the copy, for the /IDTree
        self.ids: dict[str, IndirectObject] = {}

    def _reader(self, key: str) -> PdfReader:
        reader = self.frames.get(key)
        if reader is None:
            reader = LazyReader(io.BytesIO(self.sources[key]))
            if key.startswith("frame:"):
                self.frames[key] = reader
        catalog: Any = reader.trailer["/Root"]
        if "/StructTreeRoot" not in catalog:
            raise Untagged(key)
        return reader

    def add_run(self, run: Run) -> None:
        """Copy the elements of a run's pages, under a Sect for a sheet, and map its pages."""
        source: Any = self._reader(run.key)
        self.source = source
        self.copies = {}
        self.links = []
        source_pages = list(source.pages)[run.first : run.first + run.count]
        for k, source_page in enumerate(source_pages):
            self.copies[source_page.indirect_reference.idnum] = self.pages[run.start + k]
        self._map_annotations(run, source_pages)
        parent = self.document
        sheet = run.key.startswith("sheet:")
        if sheet:
            parent = self.update.add(NullObject())
            self.kids.append(parent)
        rename = {"/L": "/TOC", "/LI": "/TOCI", "/LBody": "/NonStruct"}
        context = tree_parts.Context(
            run.key, self.sheet_shift if sheet else 0, rename if run.part == TOC_PART else {}
        )
        tops = []
        catalog: Any = source.trailer["/Root"]
        for kid in tree_parts.kids_of(catalog["/StructTreeRoot"]):
            document: Any = kid.get_object()
            for top in tree_parts.kids_of(document) if document.get("/S") == "/Document" else [kid]:
                element: Any = top.get_object()
                page: Any = element.raw_get("/Pg") if "/Pg" in element else None
                if page is not None and page.idnum in self.copies:
                    tops.append(self._copy(top, parent, context))
        if sheet:
            self.update.objects[parent.idnum] = Written(_element("/Sect", self.document, tops))
        else:
            self.kids.extend(tops)
        self._parent_tree(source, source_pages, run)
        self.source = None

    def _map_annotations(self, run: Run, source_pages: list[Any]) -> None:
        """Source annotation → the collection's (same page, same position in /Annots)."""
        for k, page in enumerate(source_pages):
            mine = tree_parts.listed_annotations(self.pages[run.start + k].get_object())
            theirs = tree_parts.listed_annotations(page)
            if len(mine) != len(theirs):
                continue  # not the same links: they stay out of the tree
            for source_ref, ref in zip(theirs, mine, strict=True):
                if isinstance(source_ref, IndirectObject) and isinstance(ref, IndirectObject):
                    self.copies[source_ref.idnum] = ref

    def _copy(self, reference: Any, parent: IndirectObject, context: tree_parts.Context) -> Any:
        """A copy of a source element (and of what it holds) under ``parent``."""
        if isinstance(reference, IndirectObject):
            copied = self._copy_bytes(reference.idnum, parent, context)
            if copied is not None:
                return copied
        source: Any = reference.get_object()
        kind = source.get("/Type")
        if kind == "/MCR":
            return DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/MCR"),
                    NameObject("/MCID"): source["/MCID"],
                    NameObject("/Pg"): self.copies[source.raw_get("/Pg").idnum],
                }
            )
        if kind == "/OBJR":
            target = self.copies.get(source.raw_get("/Obj").idnum)
            if target is None:
                return None
            self.links.append((target, parent))
            return self.update.add(
                Written(
                    DictionaryObject(
                        {
                            NameObject("/Type"): NameObject("/OBJR"),
                            NameObject("/Obj"): target,
                            NameObject("/Pg"): self.copies[source.raw_get("/Pg").idnum],
                        }
                    )
                )
            )
        new = self.update.add(NullObject())
        if isinstance(reference, IndirectObject):
            self.copies[reference.idnum] = new
        element = DictionaryObject()
        for key, value in dict.items(source):
            if key in ("/P", "/K", "/Pg", "/ID", "/A", "/Type"):  # /Type is optional
                continue
            element[NameObject(key)] = self.update.copy(value, self.source)
        element[NameObject("/P")] = parent
        if "/Pg" in source and source.raw_get("/Pg").idnum in self.copies:
            element[NameObject("/Pg")] = self.copies[source.raw_get("/Pg").idnum]
        element[NameObject("/S")] = NameObject(context.role(str(source["/S"])))
        if "/ID" in source:
            self.ids[context.id(str(source["/ID"]))] = new
            element[NameObject("/ID")] = TextStringObject(context.id(str(source["/ID"])))
        if "/A" in source:
            element[NameObject("/A")] = context.attributes(source["/A"])
        kids = [
            item if isinstance(item, int) else self._copy(item, new, context)
            for item in tree_parts.kids_of(source)
        ]
        element[NameObject("/K")] = ArrayObject(
            NumberObject(k) if isinstance(k, int) else k for k in kids if k is not None
        )
        if not any(isinstance(k, int) for k in kids):
            element.pop(NameObject("/Pg"), None)  # needed only by its own MCIDs
        self.update.objects[new.idnum] = Written(element)
        return new

    def _copy_bytes(
        self, number: int, parent: IndirectObject, context: tree_parts.Context
    ) -> IndirectObject | None:
        """``_copy`` for the shapes tree_parts.py knows, without parsing (None: not one)."""
        raw = self.source.raw(number)
        linked = tree_parts.OBJR.fullmatch(raw) if raw is not None else None
        if linked is not None:
            target, page = self.copies.get(int(linked[1])), self.copies.get(int(linked[2]))
            if target is None or page is None:
                return None
            self.links.append((target, parent))
            return self.update.add(Written(tree_parts.objr(target.idnum, page.idnum)))
        found = tree_parts.ELEMENT.fullmatch(raw) if raw is not None else None
        if found is None:
            return None
        new = self.update.add(NullObject())
        self.copies[number] = new
        written, marked = [], False
        for kind, value in tree_parts.kids(found[2]):
            if kind == "mcid":
                written.append(b"%d" % value)
                marked = True
                continue
            kid = self._copy(IndirectObject(value, 0, self.source), new, context)
            if isinstance(kid, IndirectObject):
                written.append(tree_parts.reference(kid.idnum))
            elif kid is not None:  # an MCR, written in place
                buffer = io.BytesIO()
                kid.write_to_stream(buffer)
                written.append(buffer.getvalue())
        page = self.copies.get(int(found[3])) if found[3] is not None and marked else None
        role = context.role("/" + found[1].decode())
        data = tree_parts.element(role, written, page.idnum if page else None, parent.idnum)
        self.update.objects[new.idnum] = Written(data)
        return new

    def _parent_tree(self, source: PdfReader, source_pages: list[Any], run: Run) -> None:
        """The run's pages and links in the collection's parent tree; pages numbered."""
        self.number_run(run, self._page_arrays(source, source_pages), self.links)

    def _page_arrays(self, source: PdfReader, source_pages: list[Any]) -> list[Any]:
        """What the parent tree maps each page's MCIDs to, as copied (None: nothing)."""
        catalog: Any = source.trailer["/Root"]
        tree = tree_parts.number_tree(catalog["/StructTreeRoot"].get("/ParentTree"))
        arrays: list[Any] = []
        for page in source_pages:
            mapping = tree.get(int(page.get("/StructParents", -1)))
            if mapping is None:
                arrays.append(None)
                continue
            mapped = [self._mapped(item) for item in list.__iter__(mapping.get_object())]
            arrays.append(ArrayObject(mapped))
        return arrays

    def number_run(self, run: Run, arrays: list[Any], links: list[tuple[Any, Any]]) -> None:
        """Give the run's pages (``arrays``: page_arrays) and ``links`` (annotation, element)
        their keys in the parent tree."""
        for k, mapped in enumerate(arrays):
            index = run.start + k
            keys: dict[str, Any] = {"/Tabs": NameObject("/S")}
            if mapped is not None:
                keys["/StructParents"] = NumberObject(index)
                self.nums.append((index, mapped))
            self._add_keys(self.pages[index], keys)
        for annotation, element in links:
            key = self.annotation_keys
            self.annotation_keys += 1
            self._add_keys(annotation, {"/StructParent": NumberObject(key)})
            self.nums.append((key, element))

    def _add_keys(self, reference: IndirectObject, keys: dict[str, Any]) -> None:
        """New entries of a dictionary of the collection (a page, an annotation), appended to
        its bytes when it has none of them (pypdf reads thousands of annotations slowly)."""
        raw = self.update.reader.raw(reference.idnum)  # type: ignore[attr-defined]
        if (
            raw
            and raw[:2] == b"<<"
            and raw[-2:] == b">>"
            and not any(k.encode() in raw for k in keys)
        ):
            added = io.BytesIO()
            for key, value in keys.items():
                added.write(key.encode() + b" ")
                value.write_to_stream(added)
            self.update.objects[reference.idnum] = Written(raw[:-2] + added.getvalue() + b">>")
            return
        edited = self.update.edit(reference)
        edited.update({NameObject(key): value for key, value in keys.items()})
        self.update.objects[reference.idnum] = Written(edited)  # edited once

    def _mapped(self, item: Any) -> Any:
        if isinstance(item, IndirectObject) and item.idnum in self.copies:
            return self.copies[item.idnum]
        return NullObject()

    def finish(self, title: str) -> None:
        """The tree's root and document, the parent tree, and what the catalog declares."""
        nums = ArrayObject()
        for key, value in sorted(self.nums, key=lambda entry: entry[0]):
            nums.extend([NumberObject(key), value])
        parent_tree = self.update.add(DictionaryObject({NameObject("/Nums"): nums}))
        root = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/StructTreeRoot"),
                NameObject("/K"): ArrayObject([self.document]),
                NameObject("/ParentTree"): parent_tree,
                NameObject("/ParentTreeNextKey"): NumberObject(self.annotation_keys),
            }
        )
        if self.ids:  # required as soon as an element has an ID (ISO 32000-1, 14.7.2)
            names = ArrayObject()
            for value in sorted(self.ids):
                names.extend([TextStringObject(value), self.ids[value]])
            root[NameObject("/IDTree")] = DictionaryObject({NameObject("/Names"): names})
        self.update.objects[self.root.idnum] = root
        self.update.objects[self.document.idnum] = _element("/Document", self.root, self.kids)
        catalog_ref = self.update.reader.trailer.raw_get("/Root")
        catalog = self.update.edit(catalog_ref)
        catalog[NameObject("/StructTreeRoot")] = self.root
        catalog[NameObject("/MarkInfo")] = DictionaryObject(
            {NameObject("/Marked"): BooleanObject(True)}
        )
        preferences = catalog.get("/ViewerPreferences")
        preferences = (
            DictionaryObject(dict.items(preferences.get_object()))
            if preferences
            else (DictionaryObject())
        )
        preferences[NameObject("/DisplayDocTitle")] = BooleanObject(True)
        catalog[NameObject("/ViewerPreferences")] = preferences
        if "/Metadata" not in catalog:
            catalog[NameObject("/Metadata")] = self.update.add(ua_metadata(title))


def _element(role: str, parent: IndirectObject, kids: list[Any]) -> DictionaryObject:
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/StructElem"),
            NameObject("/S"): NameObject(role),
            NameObject("/P"): parent,
            NameObject("/K"): ArrayObject(kids),
        }
    )
