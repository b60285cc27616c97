"""Reading the objects of an object stream with one regular expression instead of pypdf's parser.

Assembling a collection reads most objects of every sheet's render (pages, fonts, structure
elements, annotations): at 400 sheets, a quarter of a rebuild after one edit went into pypdf's
``read_object``, which reads a byte at a time and seeks back. The objects of an object stream
are plain values (no streams, no ``obj`` wrappers), written by WeasyPrint (pydyf) or by recueil
itself, so a tokenizer matching whole tokens reads them several times faster.

The result is the same pypdf objects ``read_object`` gives (the tests compare both on every
object of the sample's renders). Whatever this reader does not know the exact meaning of (a
comment, a name with ``#`` escapes, a malformed number) is handed to pypdf from the start of
the object, so the odd cases keep pypdf's own behaviour. Strings are decoded by pypdf's own
``create_string_object``; those with escapes or parentheses inside are read by pypdf whole.
"""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import get_configuration
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    create_string_object,
    read_object,
)

_WHITE = rb"\x00\t\n\x0c\r "
#: what ends a name (pypdf's NameObject.delimiter_pattern: \x00 may be part of one)
_SPACE = rb"\t\n\x0b\x0c\r "
_DELIMITER = rb"()<>\[\]{}/%"
_NUMBER_TEXT = rb"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"  # one way to match each: no backtracking
#: the escapes in literal strings read here (pypdf reads the others: line breaks, \d, \400)
_ESCAPE = rb"\\(?:[nrtbf()\\]|[0-3][0-7]{2})"
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_END = rb"(?=[%s%s]|$)" % (_WHITE, _DELIMITER)
#: one token after optional white space; which group matched says which kind it is
_TOKEN = re.compile(
    rb"[%s]*(?:" % _WHITE
    + rb"(/[^%s%s#]*)(?=[%s%s]|$)" % (_SPACE, _DELIMITER, _SPACE, _DELIMITER)  # 1: a name
    + rb"|((\d+)\s+(\d+)\s+R)(?=[^a-zA-Z])"  # 2 (3, 4): a reference
    + rb"|(<<|\[)"  # 5: a dictionary or an array opens
    + rb"|(>>|\])"  # 6: one closes
    + rb"|(%s)%s" % (_NUMBER_TEXT, _END)  # 7: a number
    + rb"|\(((?:[^()\\]|%s)*)\)" % _ESCAPE  # 8: a literal string without parentheses
    + rb"|<([0-9A-Fa-f%s]*)>" % _WHITE  # 9: a hexadecimal string
    + rb"|(true|false|null)(?![a-zA-Z])"  # 10: a keyword
    + rb")"
)
_NAME, _REFERENCE, _OPEN, _CLOSE, _NUMBER, _LITERAL, _HEX, _KEYWORD = 1, 2, 5, 6, 7, 8, 9, 10
#: an array of numbers only (widths, rectangles) or of references only (kids), read at once
_NUMBERS = re.compile(rb"((?:[%s]*%s(?=[%s\]]))*)[%s]*\]" % (_WHITE, _NUMBER_TEXT, _WHITE, _WHITE))
_REFERENCES = re.compile(rb"((?:[%s]*\d+\s+\d+\s+R(?=[%s\]]))*)[%s]*\]" % ((_WHITE,) * 3))
_ONE_REFERENCE = re.compile(rb"(\d+)\s+(\d+)\s+R")
#: a font's widths as WeasyPrint writes them, a glyph and the array of its width(s) in turn
_GLYPH_WIDTHS = rb"[%s]*\d+[%s]*\[((?:[%s]*%s(?=[%s\]]))*)[%s]*\]" % (
    _WHITE, _WHITE, _WHITE, _NUMBER_TEXT, _WHITE, _WHITE
)  # fmt: skip
_WIDTHS = re.compile(rb"((?:%s)+)[%s]*\]" % (_GLYPH_WIDTHS, _WHITE))
_ONE_GLYPH = re.compile(rb"(\d+)[%s]*\[([^\]]*)\]" % _WHITE)
_KEYWORDS = {b"true": BooleanObject(True), b"false": BooleanObject(False)}
_WHITE_BYTES = b"\x00\t\n\x0c\r "


class _Unusual(Exception):
    """Something this reader leaves to pypdf."""


def parse_object(data: bytes, offset: int, pdf: Any) -> PdfObject:
    """The object written at ``offset`` of ``data`` (an object stream's content), as pypdf
    objects whose references belong to ``pdf``."""
    try:
        return _parse(data, offset, pdf)
    except _Unusual:
        buffer = io.BytesIO(data)
        buffer.seek(offset)
        return read_object(buffer, pdf)


def _parse(data: bytes, position: int, pdf: Any) -> PdfObject:
    # containers being read: the list of their items, and whether it is an array's
    stack: list[tuple[list[Any], bool]] = []
    match = _TOKEN.match
    while True:
        found = match(data, position)
        if found is None:
            raise _Unusual
        position = found.end()
        kind = found.lastindex
        value: Any
        if kind == _NAME:
            try:
                value = NameObject(found[1].decode("utf-8"))
            except UnicodeDecodeError:
                raise _Unusual from None
        elif kind == _REFERENCE:
            value = IndirectObject(int(found[3]), int(found[4]), pdf)
        elif kind == _OPEN:
            array = found[5] == b"["
            value = _plain_array(data, position, pdf) if array else None
            if value is None:
                stack.append(([], array))
                continue
            position = value[1]
            value = value[0]
        elif kind == _CLOSE:
            if not stack:
                raise _Unusual
            items, array = stack.pop()
            if array != (found[6] == b"]"):
                raise _Unusual
            value = _array(items) if array else _dictionary(items)
        elif kind == _NUMBER:
            text = found[7]
            value = FloatObject(text) if b"." in text else NumberObject(text)
        elif kind == _LITERAL:
            text = found[8]
            value = create_string_object(_unescaped(text) if b"\\" in text else text)
        elif kind == _HEX:
            digits = found[9].translate(None, _WHITE_BYTES)
            value = create_string_object(bytes.fromhex(digits.decode() + "0" * (len(digits) % 2)))
        else:
            keyword = found[_KEYWORD]
            value = _KEYWORDS[keyword] if keyword in _KEYWORDS else NullObject()
        if not stack:
            return value  # type: ignore[no-any-return]
        stack[-1][0].append(value)


def _unescaped(text: bytes) -> bytes:
    """A literal string's bytes, its escapes (those ``_ESCAPE`` allows) replaced."""
    return re.sub(rb"\\([0-7]{3}|.)", _escaped_byte, text, flags=re.S)


def _escaped_byte(found: re.Match[bytes]) -> bytes:
    code = found[1]
    if len(code) == 3:
        return bytes([int(code, 8)])
    return _ESCAPES.get(code, code)  # ( ) and \ stand for themselves


def _plain_array(data: bytes, position: int, pdf: Any) -> tuple[ArrayObject, int] | None:
    """The array starting at ``position`` (after its ``[``) and where it ends, when it holds
    only numbers, only references, or widths (None: anything else)."""
    found = _NUMBERS.match(data, position)
    if found is not None:
        items: list[Any] = _numbers(found[1])
    elif (found := _WIDTHS.match(data, position)) is not None:
        items = []
        for glyph, widths in _ONE_GLYPH.findall(found[1]):
            items += [NumberObject(glyph), _array(_numbers(widths))]
    else:
        found = _REFERENCES.match(data, position)
        if found is None:
            return None
        items = [
            IndirectObject(int(number), int(generation), pdf)
            for number, generation in _ONE_REFERENCE.findall(found[1])
        ]
    return _array(items), found.end()


def _numbers(text: bytes) -> list[Any]:
    return [FloatObject(n) if b"." in n else NumberObject(n) for n in text.split()]


def _array(items: list[Any]) -> ArrayObject:
    if len(items) > get_configuration().array_maximum_element_count:
        raise _Unusual  # pypdf refuses it
    return ArrayObject(items)


def _dictionary(items: list[Any]) -> DictionaryObject:
    """A dictionary from its keys and values in order; the first of a repeated key wins, as
    in pypdf (which also warns: a file recueil reads should not have any)."""
    if len(items) % 2 or len(items) // 2 > get_configuration().dictionary_maximum_element_count:
        raise _Unusual  # pypdf refuses it (or reads it its own way)
    if not all(isinstance(key, NameObject) for key in items[::2]):
        raise _Unusual
    entries: dict[Any, Any] = {}
    for key, value in zip(items[::2], items[1::2], strict=True):
        if key in entries:
            raise _Unusual
        entries[key] = value
    result = DictionaryObject()
    dict.update(result, entries)
    return result
