"""A bounded, thread-safe memo: what the server made once and may be asked for again.

Searches and their pages are answered on the event loop and snippets in threads, so the memo
takes a lock; it forgets its oldest entry when full (visitors' questions are countless, the
memory is not) and is emptied when the server rests (Site.rest).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """At most ``size`` values by key, the oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._known: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._known.get(key)

    def put(self, key: K, value: V) -> V:
        with self._lock:
            if len(self._known) >= self.size:
                self._known.pop(next(iter(self._known)))
            self._known[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._known.clear()

    def __len__(self) -> int:
        return len(self._known)
