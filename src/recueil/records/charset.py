"""What a record may contain: text every format can carry, and a warning for what it cannot.

ISO 2709 reserves three characters to delimit a record (0x1D), its fields (0x1E) and their
subfields (0x1F); UNIMARC in Unicode (field 100, character set "50") allows no other control
character, and XML 1.0 refuses most of them too, as well as U+FFFE and U+FFFF. Contributors can
still type them (a pasted vertical tab, an escape sequence). A record is therefore made of
cleaned text, the same for every format: line breaks, tabs and runs of spaces become one space
(a layout, not content), the text is put in Unicode's composed form (NFC: "é" as one
character, as catalogues expect), and any other character that ISO 2709 or XML cannot carry is
left out with a warning naming the sheet, its field, the UNIMARC tag and the character.

ISO 2709 also caps lengths: four digits give a field's length in the directory (at most 9,999
bytes) and five digits the record's (99,999 bytes). A longer field is cut at a character
boundary, with "…" and a warning (see unimarc.py for records).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from recueil.core.diagnostics import Diagnostic, warning

#: whitespace that only lays text out
_SPACES = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029 ]+")
#: characters neither ISO 2709 data nor XML 1.0 can hold: C0 and C1 controls, DEL,
#: surrogates, and the noncharacters U+FDD0-U+FDEF and U+xFFFE/U+xFFFF of every plane
_REFUSED = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
#: longest field ISO 2709 can describe with a four-digit length (data, indicators and end)
MAX_FIELD_BYTES = 9999
#: longest record with a five-digit length
MAX_RECORD_BYTES = 99999


@dataclass
class Cleaner:
    """Cleans the values of one source, collecting a warning for each one it had to change."""

    source: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def text(self, value: object, name: str, tag: str) -> str:
        """``value`` as record text: one line, NFC, without refused characters."""
        spaced = _SPACES.sub(" ", unicodedata.normalize("NFC", str(value)))
        # nearly always nothing to leave out: every refused character is one that Python
        # does not call printable (controls, surrogates, noncharacters), a check in C
        if spaced.isprintable() or _REFUSED.search(spaced) is None:
            return spaced.strip()
        refused = sorted(set(_REFUSED.findall(spaced)))
        codes = ", ".join(f"U+{ord(c):04X}" for c in refused)
        self.warn(
            f"field '{name}' (UNIMARC {tag}): character(s) {codes} cannot be written in "
            "ISO 2709 or XML records and are left out of the record"
        )
        return _REFUSED.sub("", spaced).strip()

    def texts(self, values: object, name: str, tag: str) -> tuple[str, ...]:
        """A list field's items as record texts, empty ones left out."""
        items = values if isinstance(values, list | tuple) else [] if values is None else [values]
        cleaned = (self.text(item, name, tag) for item in items)
        return tuple(item for item in cleaned if item)

    def warn(self, message: str) -> None:
        """One warning about this source's record."""
        self.diagnostics.append(warning(self.source, None, f"record: {message}"))


def fit_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8 at a character boundary, ending with
    "…" when it was cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore").rstrip() + "…"
