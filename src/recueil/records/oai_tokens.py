"""Resumption tokens: the rest of a list, written into the token itself.

A token holds the list request (verb, metadata prefix, set, from, until) and where the next
page starts, as URL-safe base64 of a small JSON object. The server keeps no state, so a harvest
goes on across worker processes and restarts. A token that does not decode, that was issued
for another verb, or whose values are not those of a list request, is refused
(badResumptionToken).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace

#: format of the token's content; a token of another format is refused
VERSION = 1
#: longest token accepted (a real one is under 200 characters)
MAX_LENGTH = 1024


class BadToken(Exception):
    """A resumption token that cannot continue any list of this repository."""


@dataclass(frozen=True)
class Token:
    """Where a list request stands."""

    verb: str
    prefix: str
    set: str
    start: str
    end: str
    offset: int

    def next(self, offset: int) -> Token:
        """The same request, continued from ``offset``."""
        return replace(self, offset=offset)

    def encode(self) -> str:
        """The token's text."""
        data = [VERSION, self.verb, self.prefix, self.set, self.start, self.end, self.offset]
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, verb: str) -> Token:
        """The token ``text`` of a request made with ``verb``; BadToken when it is not one."""
        if not text or len(text) > MAX_LENGTH:
            raise BadToken("this resumption token is not one this repository issued")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
        except (binascii.Error, ValueError):
            raise BadToken("this resumption token is not one this repository issued") from None
        if (
            not isinstance(data, list)
            or len(data) != 7
            or data[0] != VERSION
            or not all(isinstance(value, str) for value in data[1:6])
            or not isinstance(data[6], int)
            or isinstance(data[6], bool)
            or data[6] < 0
        ):
            raise BadToken("this resumption token is not one this repository issued")
        if data[1] != verb:
            raise BadToken(f"this resumption token continues {data[1]}, not {verb}")
        return cls(data[1], data[2], data[3], data[4], data[5], data[6])
