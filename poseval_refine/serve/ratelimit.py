"""Request rate limits of the routes an attacker hammers: sign-in (token guessing, per client address) and
submissions (per client address and per team), so that a flood is refused with 429 before it costs a
database transaction, an archive check or a queue message.

A sliding window per key, kept in the web process's memory: ``prt serve`` runs one web process (workers may
be elsewhere, they serve no requests), so its memory sees every request. The counts are lost at a restart,
which only forgives a minute. Memory is bounded: at most ``max_keys`` keys, the least recently seen dropped.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

#: the window of every limit (seconds): limits are "per minute"
WINDOW = 60.0


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (``limit`` 0: no limit)."""

    def __init__(self, limit: int, window: float = WINDOW, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.max_keys, self.clock = int(limit), float(window), max_keys, clock
        self.events: OrderedDict[str, deque] = OrderedDict()
        self.lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count an event of ``key`` and return None, or, when the key is over its limit, count nothing and
        return the seconds until it may try again (the ``Retry-After``)."""
        if self.limit <= 0:
            return None
        now = self.clock()
        with self.lock:
            q = self.events.get(key)
            if q is None:
                q = self.events[key] = deque()
                while len(self.events) > self.max_keys:
                    self.events.popitem(last=False)
            else:
                self.events.move_to_end(key)
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return max(q[0] + self.window - now, 0.001)
            q.append(now)
            return None


def too_many(what: str, limit: int, wait: float) -> str:
    """The 429 message."""
    return (f"too many requests: at most {limit} {what} per minute; try again in {max(1, round(wait))} s")
