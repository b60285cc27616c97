"""One structure tree for an assembled collection, from the trees of the documents it is made of.

pypdf copies pages without their structure: a collection made of tagged sheet renders and a
tagged frame was untagged. The pages' content streams are copied unchanged, so their marked
content keeps its MCIDs; what is lost is the tree that gives those MCIDs a meaning, and the
numbers (``/StructParents``, ``/StructParent``) that lead from pages and links to it. This
module rebuilds them after the collection is written, as an incremental update of its bytes
(render/increment.py): the source documents' elements are copied under one ``Document``, in
the order of the pages, each sheet as a ``Sect`` holding its own elements, the parent tree
renumbered for the collection's pages and links.

Headings form one hierarchy: the generated parts (cover, contents, dividers, indexes,
colophon) keep their H1; when the collection has dividers, a sheet's headings go one level
down (its title is an H2 under its divider's H1). The contents' lists become ``TOC`` and
``TOCI``. Element IDs (table header cells) are prefixed by their document so that they stay
unique. What the assembly stamps (page numbers, running headers) is marked as an artifact by
pagecontent.py; blank pages have no content.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    TextStringObject,
)

from recueil.render.increment import IncrementalUpdate, LazyReader

#: the part whose lists are the table of contents (templates/collection.html)
TOC_PART = "part-toc"
_HEADING = re.compile(r"^/H([1-6])$")


@dataclass(frozen=True)
class Run:
    """Consecutive pages of the collection copied from one source document."""

    key: str  # "sheet:SLUG" or "frame:N"
    first: int  # first page in the source
    count: int
    start: int  # first page in the collection
    part: str = ""  # the frame part, or the sheet's slug


def runs_of(slots: Sequence[Any], parts: Mapping[str, tuple[int, int, int]]) -> list[Run]:
    """The collection's pages as runs of source pages, from the plan's slots (as merge.py
    places them: a sheet's pages from its first, a part's from where it starts in its frame
    document, a blank page from nowhere)."""
    found: list[Run] = []
    index = 0
    for slot in slots:
        if slot.source == "sheet":
            found.append(Run(f"sheet:{slot.ref}", 0, slot.count, index, slot.ref))
        elif slot.source == "frame":
            number, first, _ = parts[slot.ref]
            found.append(Run(f"frame:{number}", first, slot.count, index, slot.ref))
        index += slot.count if slot.source != "blank" else 1
    return found


def tag_assembled(
    pdf: bytes,
    slots: Sequence[Any],
    parts: Mapping[str, tuple[int, int, int]],
    renders: Mapping[str, Any],
    frame: Sequence[Any],
    *,
    grouped: bool,
    title: str,
) -> bytes:
    """``tag_collection`` for an assembly: its plan's slots and parts, the sheets' renders and
    the frame's documents (RenderResults); ``grouped`` when the collection has dividers."""
    runs = runs_of(slots, parts)
    sources = {
        run.key: (
            renders[run.part]
            if run.key.startswith("sheet:")
            else frame[int(run.key.removeprefix("frame:"))]
        ).pdf
        for run in runs
    }
    return tag_collection(pdf, runs, sources, sheet_shift=1 if grouped else 0, title=title)


def tag_collection(
    pdf: bytes,
    runs: Sequence[Run],
    sources: Mapping[str, bytes],
    *,
    sheet_shift: int,
    title: str,
) -> bytes:
    """The collection ``pdf`` with one structure tree made of its sources' trees.

    ``sources`` maps each run's key to the source's bytes; ``sheet_shift`` is how many levels
    a sheet's headings go down. A source without a tree (an untagged render) leaves the whole
    collection untagged, as before: a tree that reaches only part of the content would claim
    what the file is not.
    """
    readers = {key: LazyReader(io.BytesIO(data)) for key, data in sources.items()}
    catalogs: list[Any] = [reader.trailer["/Root"] for reader in readers.values()]
    if not all("/StructTreeRoot" in catalog for catalog in catalogs):
        return pdf
    reader = LazyReader(io.BytesIO(pdf))
    update = IncrementalUpdate(pdf, reader)
    builder = _Builder(update, reader, readers, sheet_shift)
    for run in runs:
        builder.add_run(run)
    builder.finish(title)
    return update.write(packed=True)


class _Builder:
    def __init__(
        self,
        update: IncrementalUpdate,
        reader: PdfReader,
        sources: Mapping[str, PdfReader],
        sheet_shift: int,
    ):
        self.update = update
        self.pages: list[Any] = [page.indirect_reference for page in reader.pages]
        self.sources = sources
        self.sheet_shift = sheet_shift
        self.root = update.add(NullObject())
        self.document = update.add(NullObject())
        self.kids: list[IndirectObject] = []
        self.nums: list[tuple[int, Any]] = []
        self.annotation_keys = len(self.pages)
        #: per run: source object number → its copy (elements, annotations, pages)
        self.copies: dict[int, IndirectObject] = {}
        self.source: Any = None

    def add_run(self, run: Run) -> None:
        """Copy the elements of a run's pages, under a Sect for a sheet, and map its pages."""
        source: Any = self.sources[run.key]
        self.source = source
        self.copies = {}
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
        context = _Context(
            run.key, self.sheet_shift if sheet else 0, rename if run.part == TOC_PART else {}
        )
        tops = []
        catalog: Any = source.trailer["/Root"]
        for kid in _kids(catalog["/StructTreeRoot"]):
            document: Any = kid.get_object()
            for top in _kids(document) if document.get("/S") == "/Document" else [kid]:
                element: Any = top.get_object()
                page: Any = element.raw_get("/Pg") if "/Pg" in element else None
                if page is not None and page.idnum in self.copies:
                    tops.append(self._copy(top, parent, context))
        if sheet:
            self.update.objects[parent.idnum] = _element("/Sect", self.document, tops)
        else:
            self.kids.extend(tops)
        self._parent_tree(source, source_pages, run)

    def _map_annotations(self, run: Run, source_pages: list[Any]) -> None:
        """Source annotation → the collection's (same page, same position in /Annots)."""
        for k, page in enumerate(source_pages):
            mine = _annotations(self.pages[run.start + k].get_object())
            theirs = _annotations(page)
            if len(mine) != len(theirs):
                continue  # not the same links: they stay out of the tree
            for source_ref, ref in zip(theirs, mine, strict=True):
                if isinstance(source_ref, IndirectObject) and isinstance(ref, IndirectObject):
                    self.copies[source_ref.idnum] = ref

    def _copy(self, reference: Any, parent: IndirectObject, context: _Context) -> Any:
        """A copy of a source element (and of what it holds) under ``parent``."""
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
            return self.update.add(
                DictionaryObject(
                    {
                        NameObject("/Type"): NameObject("/OBJR"),
                        NameObject("/Obj"): target,
                        NameObject("/Pg"): self.copies[source.raw_get("/Pg").idnum],
                    }
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
            element[NameObject("/ID")] = TextStringObject(context.id(str(source["/ID"])))
        if "/A" in source:
            element[NameObject("/A")] = context.attributes(source["/A"])
        kids = [
            item if isinstance(item, int) else self._copy(item, new, context)
            for item in _kids(source)
        ]
        element[NameObject("/K")] = ArrayObject(
            NumberObject(k) if isinstance(k, int) else k for k in kids if k is not None
        )
        if not any(isinstance(k, int) for k in kids):
            element.pop(NameObject("/Pg"), None)  # needed only by its own MCIDs
        self.update.objects[new.idnum] = element
        return new

    def _parent_tree(self, source: PdfReader, source_pages: list[Any], run: Run) -> None:
        """The run's pages and links in the collection's parent tree; pages numbered."""
        catalog: Any = source.trailer["/Root"]
        tree = _number_tree(catalog["/StructTreeRoot"].get("/ParentTree"))
        for k, page in enumerate(source_pages):
            index = run.start + k
            edited = self.update.edit(self.pages[index])
            edited[NameObject("/Tabs")] = NameObject("/S")
            mapping = tree.get(int(page.get("/StructParents", -1)))
            if mapping is not None:
                edited[NameObject("/StructParents")] = NumberObject(index)
                mapped = [self._mapped(item) for item in list.__iter__(mapping.get_object())]
                self.nums.append((index, ArrayObject(mapped)))
            for source_ref in _annotations(page):
                annotation = source_ref.get_object()
                target = self.copies.get(getattr(source_ref, "idnum", -1))
                entry = tree.get(int(annotation.get("/StructParent", -1)))
                if target is None or entry is None:
                    continue
                key = self.annotation_keys
                self.annotation_keys += 1
                self.update.edit(target)[NameObject("/StructParent")] = NumberObject(key)
                self.nums.append((key, self._mapped(entry)))

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
        self.update.objects[self.root.idnum] = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/StructTreeRoot"),
                NameObject("/K"): ArrayObject([self.document]),
                NameObject("/ParentTree"): parent_tree,
                NameObject("/ParentTreeNextKey"): NumberObject(self.annotation_keys),
            }
        )
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
            catalog[NameObject("/Metadata")] = self.update.add(_xmp(title))


@dataclass(frozen=True)
class _Context:
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


def _annotations(page: Any) -> list[Any]:
    """A page's annotations as they are listed (references stay references)."""
    if "/Annots" not in page:
        return []
    listed = page["/Annots"]
    return list(list.__iter__(listed)) if isinstance(listed, ArrayObject) else []


def _element(role: str, parent: IndirectObject, kids: list[Any]) -> DictionaryObject:
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/StructElem"),
            NameObject("/S"): NameObject(role),
            NameObject("/P"): parent,
            NameObject("/K"): ArrayObject(kids),
        }
    )


def _kids(node: Any) -> list[Any]:
    kids = node.get("/K") if hasattr(node, "get") else None
    if kids is None:
        return []
    kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
    items = list.__iter__(kids) if isinstance(kids, ArrayObject) else [kids]
    return [int(item) if isinstance(item, NumberObject) else item for item in items]


def _number_tree(node: Any) -> dict[int, Any]:
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
        found.update(_number_tree(kid))
    return found


def _xmp(title: str) -> DecodedStreamObject:
    """XMP metadata with the title and the PDF/UA-1 identification (ISO 14289-1, 5)."""
    from xml.sax.saxutils import escape

    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<pdfuaid:part>1</pdfuaid:part>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    stream = DecodedStreamObject()
    stream.set_data(text.encode("utf-8"))
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return stream
