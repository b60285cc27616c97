"""The C array types WeasyPrint asks cffi for when it subsets a font, made ahead of the renders.

To subset each font of a document, WeasyPrint passes the glyphs it used to HarfBuzz in an array
declared by a string of its length (``ffi.new(f"hb_codepoint_t[{n}]", ...)``, pdf/fonts.py).
cffi parses every declaration it has not seen with pycparser: some 5 ms each here, and nearly
every sheet uses a number of glyphs of its fonts that the process has not met yet (four new
lengths for the first sheet a server's worker lays out after a visitor's edit, one to three for
each of the next ten; the other length, the largest glyph number plus one, is about the same
for every sheet). In a worker that lays out many sheets, those parses were 3 % of a sheet's
render (py-spy).

:func:`prepare` makes the array types of every length up to :data:`LENGTHS` the way cffi's
parser would and leaves them in the table cffi looks in first, so no render parses one. It
uses cffi's own model classes, under cffi's lock, and does nothing if cffi's internals are not
what it expects: it can only save time, never change what is laid out. Worth its 40 to 70 ms
and 1.75 MB only in a process that renders many sheets, or forks the workers that do (workers.py,
serve/tasks.py); a single sheet from the command line does without.
"""

from __future__ import annotations

import contextlib

#: array lengths prepared: the glyphs of a font a document uses, and the largest glyph number
#: plus one (some 1,150 for the sample's fonts); a longer one is parsed as before
LENGTHS = 2048
#: the element type WeasyPrint declares its arrays with
_ITEM = "hb_codepoint_t"

_done = False


def prepare() -> None:
    """Make the array types once per process (a forked worker inherits them)."""
    global _done
    if _done:
        return
    _done = True
    with contextlib.suppress(Exception):  # another cffi: its parser does the work as before
        from cffi import model
        from weasyprint.text.ffi import ffi

        item = ffi._parser.parse_type(f"{_ITEM}[1]").item
        with ffi._lock:
            for length in range(1, LENGTHS + 1):
                declaration = f"{_ITEM}[{length}]"
                if declaration not in ffi._parsed_types:
                    array = ffi._get_cached_btype(model.ArrayType(item, length))
                    ffi._parsed_types[declaration] = (array, False)
