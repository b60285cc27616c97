"""Diagnostics: every problem found in a project, with the file, line and field it concerns.

The library never prints or exits: each stage returns diagnostics, and the command line decides
how to show them and which exit code they mean.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

#: Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts the
#: sequences that move the cursor, recolour, retitle the window or hide text; CR rewrites the
#: line; newlines forge extra diagnostics), DEL, and the Unicode bidirectional and line
#: separator controls that reorder or split what is shown. Tabs are only shown.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def printable(text: str) -> str:
    """`text` with every character a terminal would act on written as an escape (\\x1b,
    \\n, \\u202e), so that a file name or a quoted value cannot rewrite the user's terminal."""

    def escape(match: re.Match[str]) -> str:
        char = match[0]
        code = ord(char)
        return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")

    return _UNSAFE.sub(escape, text)


class Level(StrEnum):
    """How serious a diagnostic is; errors make a build fail, warnings only with --strict."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, located as precisely as the stage that found it can."""

    path: str
    line: int | None
    column: int | None
    level: Level
    message: str

    def format(self) -> str:
        """Render as ``path:line:column: level: message``, the form editors can jump to.

        File names and messages quote content (a title, a URL, a field's value) that a hostile
        source chooses: control characters in them are escaped (`printable`), so one
        diagnostic is always one line that shows what it says.
        """
        where = printable(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.level.value}: {printable(self.message)}"


def error(path: str, line: int | None, message: str, column: int | None = None) -> Diagnostic:
    """Shorthand for an error diagnostic."""
    return Diagnostic(path, line, column, Level.ERROR, message)


def warning(path: str, line: int | None, message: str, column: int | None = None) -> Diagnostic:
    """Shorthand for a warning diagnostic."""
    return Diagnostic(path, line, column, Level.WARNING, message)


def has_errors(diagnostics: Iterable[Diagnostic], strict: bool = False) -> bool:
    """True when the diagnostics should fail a build (warnings count in strict mode)."""
    return any(d.level is Level.ERROR or strict for d in diagnostics)


class RecueilError(Exception):
    """A problem that stops an operation; carries the diagnostics that explain it."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.format() for d in diagnostics))
        self.diagnostics = diagnostics
