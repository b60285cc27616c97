"""What an edition is: a version label, a publication date and a title, checked once.

An edition changes what the documents say (the label in each sheet's footer and on the
colophon) and how they are written (PDF/A): renders made for an edition are therefore keyed
apart from ordinary builds. Dates come from the command line, ``SOURCE_DATE_EPOCH`` or, last,
today: never from the clock while rendering, so the same edition can be rebuilt byte for byte.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

#: a version names a folder: letters, digits, dots, dashes, underscores; no leading dot
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Edition:
    """One published edition, as the documents print it."""

    version: str
    date: dt.date
    title: str = ""

    @property
    def label(self) -> str:
        """How the documents name the edition ("Édition 2023")."""
        return f"Édition {self.version}"


def check_version(version: str) -> str | None:
    """Why ``version`` cannot name an edition, or None when it can."""
    if not VERSION_PATTERN.fullmatch(version) or version.endswith((".", "-")):
        return (
            f"'{version}' cannot name an edition: use letters, digits, '.', '-' or '_' "
            "(at most 64 characters, not starting with a dot)"
        )
    return None


def default_date() -> dt.date:
    """The edition date when none is given: SOURCE_DATE_EPOCH (reproducible builds), else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.date.today()
