"""Logging that a hostile or broken peer cannot turn into a flood."""

from __future__ import annotations

from collections.abc import Callable
import logging
import time


class QuietLog:
    """Logs the first occurrence of each kind of problem, then only a count.

    `report(key, ...)` logs at once the first time a key is seen; repeats within
    `window` seconds are counted, and the next occurrence after the window
    logs once more with how many were held back.
    """

    __slots__ = ("_clock", "_logger", "_seen", "window")

    def __init__(
        self,
        logger: logging.Logger,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Wrap a logger."""
        self._logger = logger
        self._clock = clock
        self.window = window
        self._seen: dict[str, tuple[float, int]] = {}

    def report(self, key: str, message: str, *args: object, level: int = logging.WARNING) -> None:
        """Log `message % args` unless `key` was logged less than `window` seconds ago."""
        now = self._clock()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self.window:
            self._seen[key] = (last[0], last[1] + 1)
            return
        held = last[1] if last is not None else 0
        if len(self._seen) > 1000:  # keys come from the network: keep the table small
            self._seen.clear()
        self._seen[key] = (now, 0)
        if held:
            message += " (and %d more like it in the last %.0f s)"
            args = (*args, held, self.window)
        self._logger.log(level, message, *args)
