"""Diagnostics: every problem found in a project, with the file, line and field it concerns.

The library never prints or exits: each stage returns diagnostics, and the command line decides
how to show them and which exit code they mean.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


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
        """Render as ``path:line:column: level: message``, the form editors can jump to."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.level.value}: {self.message}"


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
