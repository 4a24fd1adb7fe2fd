"""The link from one panel connection to the real cloud ("upstream").

It only moves bytes: it connects, reads, and reconnects with a growing,
jittered delay when the cloud cannot be reached, refuses, drops the line or is
dropped for not answering or not reading. What to send and what to do with
what comes back is the relay's business (relay.py), through three hooks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import logging
import random
import socket
from typing import override

from .logs import QuietLog

_LOGGER = logging.getLogger(__name__)


class _CloudProtocol(asyncio.Protocol):
    """One TCP connection to the cloud; everything it sees goes to its link."""

    def __init__(self, link: UpstreamLink) -> None:
        self._link = link
        self.lost: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        """Resolves with the reason once the connection has ended."""

    @override
    def data_received(self, data: bytes) -> None:
        self._link.received(self, data)

    @override
    def pause_writing(self) -> None:
        # More than the limit waits for a cloud that is not reading: it is not keeping up.
        self._link.drop(f"more than {self._link.buffer_limit} bytes waiting for it")

    @override
    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(str(exc) or type(exc).__name__ if exc else "closed by the cloud")


class UpstreamLink:
    """Connects to the cloud and keeps reconnecting until closed."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        on_connected: Callable[[], None],
        on_data: Callable[[bytes], None],
        on_disconnected: Callable[[str], None],
        log: QuietLog,
        connect_timeout: float = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        buffer_limit: int = 256 * 1024,
    ) -> None:
        """Hooks: called when a connection is up, with every chunk read, and when it is down.

        `buffer_limit`: bytes that may wait for a cloud that is slow to read
        before it is dropped.
        """
        self.host = host
        self.port = port
        self.buffer_limit = buffer_limit
        self._on_connected = on_connected
        self._on_data = on_data
        self._on_disconnected = on_disconnected
        self._log = log
        self._connect_timeout = connect_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._transport: asyncio.Transport | None = None
        self._protocol: _CloudProtocol | None = None
        self._answered = False
        self._connecting = False
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        """Whether bytes written now go to the cloud.

        Not once the connection is closing (the cloud said it is done): what is
        written then would be dropped, so it is kept for the next connection.
        """
        return self._transport is not None and not self._transport.is_closing()

    @property
    def connecting(self) -> bool:
        """Whether a connection attempt is under way (the cloud may be up in a moment)."""
        return self._connecting

    def start(self) -> None:
        """Begin connecting; the link's task is owned here and ended by close()."""
        if self._task is None:
            self._connecting = True  # the first attempt starts at the loop's next turn
            self._task = asyncio.create_task(
                self._run(), name=f"g90 upstream {self.host}:{self.port}"
            )

    def close(self) -> None:
        """Stop for good: close the connection and end the task (see wait_closed)."""
        if self._task is not None:
            self._task.cancel()
        self._abandon()

    async def wait_closed(self) -> None:
        """Until the link's task has ended after close()."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def write(self, data: bytes) -> None:
        """Queue bytes for the cloud (dropped when not connected: the caller checks)."""
        if self.connected:
            assert self._transport is not None
            self._transport.write(data)

    def pause_reading(self) -> None:
        """Read nothing more from the cloud for now (the panel is not keeping up)."""
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        """Read from the cloud again."""
        if self._transport is not None:
            self._transport.resume_reading()

    def drop(self, reason: str) -> None:
        """Abandon the current connection (it stopped answering or reading); a new one follows."""
        if self._transport is None:
            return
        self._log.report(
            f"drop {self.host}:{self.port}",
            "Upstream %s:%s dropped: %s",
            self.host,
            self.port,
            reason,
        )
        self._abandon()

    def received(self, protocol: _CloudProtocol, data: bytes) -> None:
        """Bytes from the cloud (called by the connection's protocol)."""
        if protocol is self._protocol and self._transport is not None:
            self._answered = True
            self._on_data(data)

    def _abandon(self) -> None:
        """Nothing more is written to the current connection, or read from it."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.abort()

    def _failed(self, reason: str) -> str:
        """A connection attempt failed: whoever waited for it must not wait longer."""
        self._connecting = False
        self._on_disconnected(reason)
        return reason

    async def _run(self) -> None:
        delay = self._backoff_initial
        while True:
            reason = await self._connect_and_wait()
            if reason is None:  # it worked a good while: start the delays again from the shortest
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

    async def _connect_and_wait(self) -> str | None:
        """One connection's life: None if it worked a good while, else why it did not.

        Working a good while: the cloud answered, and the connection lasted as
        long as the longest delay between tries. A cloud that answers, then
        hangs up (or a port that is no cloud, sending bytes that are no frames)
        is tried ever less often, not once a second for ever.
        """
        loop = asyncio.get_running_loop()
        protocol = _CloudProtocol(self)
        self._connecting = True
        try:
            async with asyncio.timeout(self._connect_timeout):
                transport, _ = await loop.create_connection(lambda: protocol, self.host, self.port)
        except TimeoutError:
            return self._failed(f"no connection within {self._connect_timeout:.0f} s")
        except OSError as err:
            return self._failed(str(err) or type(err).__name__)
        finally:
            self._connecting = False
        assert isinstance(transport, asyncio.Transport)
        _LOGGER.debug("Upstream %s:%s connected", self.host, self.port)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=self.buffer_limit)
        self._transport, self._protocol, self._answered = transport, protocol, False
        began = loop.time()
        try:
            self._on_connected()
            reason = await protocol.lost
        finally:
            self._abandon()
            self._protocol = None
            if not protocol.lost.done():  # cancelled: the link is closing
                protocol.lost.cancel()
            else:
                self._on_disconnected(protocol.lost.result())
        if self._answered and loop.time() - began >= self._backoff_max:
            return None
        return reason
