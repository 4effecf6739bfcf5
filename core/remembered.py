"""The last few values computed per key, shared by every session of an app process: the
network's layouts and figures, the Overview's newest measurements. See
docs/architecture.md#the-grid-views."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Remembered(Generic[K, V]):
    """At most ``size`` values, the least recently used forgotten first; thread-safe.
    ``computed`` counts the values ``remember`` had to compute."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def remember(self, key: K, compute: Callable[[], V]) -> V:
        """The value of ``key``, computed (outside the lock) when it is not remembered."""
        found = self.get(key)
        if found is None:
            found = compute()
            with self._lock:
                self.computed += 1
            self.put(key, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.computed = 0
