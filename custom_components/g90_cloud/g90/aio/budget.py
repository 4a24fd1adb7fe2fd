"""Memory shared by every connection for one purpose, so a crowd of peers cannot take more."""

from __future__ import annotations

from collections.abc import Callable


class ByteBudget:
    """A number of bytes that connections take from and give back (held events, backlogs)."""

    __slots__ = ("limit", "reclaim", "used")

    def __init__(self, limit: int, reclaim: Callable[[], bool] | None = None) -> None:
        """At most `limit` bytes in use at once.

        `reclaim()`, when given, frees some of what is used, the least needed first,
        when a take would not fit; it says False once nothing more can be freed.
        """
        self.limit = limit
        self.reclaim = reclaim
        self.used = 0

    def take(self, size: int) -> bool:
        """Take `size` bytes if they are left (reclaimed if need be); False if not."""
        while self.used + size > self.limit:
            if self.reclaim is None or not self.reclaim():
                return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        """Give back bytes taken before."""
        self.used -= size
