"""Memory shared by every connection for one purpose, so a crowd of peers cannot take more."""

from __future__ import annotations


class ByteBudget:
    """A number of bytes that connections take from and give back (held events, backlogs)."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        """At most `limit` bytes in use at once."""
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        """Take `size` bytes if they are left; False (and nothing taken) if not."""
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        """Give back bytes taken before."""
        self.used -= size
