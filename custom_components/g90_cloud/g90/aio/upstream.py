"""The link from one panel connection to the real cloud ("upstream").

It only moves bytes: it connects, reads, and reconnects with a growing,
jittered delay when the cloud cannot be reached, refuses, drops the line or is
dropped for not answering. What to send and what to do with what comes back is
the panel connection's business (connection.py), through three hooks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import logging
import random

from .logs import QuietLog

_LOGGER = logging.getLogger(__name__)
READ_SIZE = 65536


class UpstreamLink:
    """Connects to the cloud and keeps reconnecting until closed."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        on_connected: Callable[[], None],
        on_data: Callable[[bytes], Awaitable[None]],
        on_disconnected: Callable[[str], None],
        log: QuietLog,
        connect_timeout: float = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        """Hooks: called when a connection is up, with every chunk read, and when it is down."""
        self.host = host
        self.port = port
        self._on_connected = on_connected
        self._on_data = on_data
        self._on_disconnected = on_disconnected
        self._log = log
        self._connect_timeout = connect_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        """Whether bytes written now go to the cloud."""
        return self._writer is not None

    def start(self) -> None:
        """Begin connecting; the link's task is owned here and ended by close()."""
        if self._task is None:
            self._task = asyncio.create_task(
                self._run(), name=f"g90 upstream {self.host}:{self.port}"
            )

    async def close(self) -> None:
        """Stop for good: close the connection and end the task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def write(self, data: bytes) -> None:
        """Queue bytes for the cloud (dropped when not connected: the caller checks)."""
        if self._writer is not None:
            self._writer.write(data)

    async def drain(self, within: float) -> None:
        """Wait until the cloud has taken what was written; drop a cloud that does not."""
        writer = self._writer
        if writer is None:
            return
        try:
            async with asyncio.timeout(within):
                await writer.drain()
        except TimeoutError:
            self.drop(f"it took no data for {within:.0f} s")
        except OSError as err:
            self.drop(f"writing failed: {err}")

    def check_backlog(self, limit: int) -> None:
        """Drop the cloud if more than `limit` bytes wait for it (it is not keeping up)."""
        writer = self._writer
        if writer is not None and writer.transport.get_write_buffer_size() > limit:
            self.drop(f"more than {limit} bytes waiting for it")

    def drop(self, reason: str) -> None:
        """Abandon the current connection (e.g. it stopped answering); a new one follows."""
        writer = self._writer
        if writer is None:
            return
        self._writer = None  # from now on nothing more is written to it
        self._log.report(
            f"drop {self.host}:{self.port}",
            "Upstream %s:%s dropped: %s",
            self.host,
            self.port,
            reason,
        )
        writer.transport.abort()

    async def _run(self) -> None:
        delay = self._backoff_initial
        while True:
            reason = await self._connect_and_read()
            if reason is None:  # it had answered: start the delays again from the shortest
                delay = self._backoff_initial
                reason = "connection closed"
            self.reconnects += 1
            wait = delay * random.uniform(0.8, 1.2)
            self._log.report(
                f"retry {self.host}:{self.port}",
                "Upstream %s:%s unavailable (%s); answering panels ourselves, retry in %.1f s",
                self.host,
                self.port,
                reason,
                wait,
                level=logging.INFO,
            )
            await asyncio.sleep(wait)
            delay = min(delay * 2, self._backoff_max)

    async def _connect_and_read(self) -> str | None:
        """One connection's life. None once the cloud has sent something, else why it failed."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port)
        except TimeoutError:
            return f"no connection within {self._connect_timeout:.0f} s"
        except OSError as err:
            return str(err) or type(err).__name__
        _LOGGER.debug("Upstream %s:%s connected", self.host, self.port)
        self._writer = writer
        answered = False
        reason = "closed by the cloud"
        try:
            self._on_connected()
            while data := await reader.read(READ_SIZE):
                answered = True
                await self._on_data(data)
        except OSError as err:
            reason = str(err) or type(err).__name__
        finally:
            self._writer = None
            writer.transport.abort()
            self._on_disconnected(reason)
        return None if answered else reason
