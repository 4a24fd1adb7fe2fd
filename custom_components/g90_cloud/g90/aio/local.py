"""The panel's local UDP protocol, over asyncio: commands with retries, and pointing a panel.

Panels are slow, answer retried requests twice and have no request ids, so
the client does what years of pyg90alarm taught: one request in flight per
panel, a fresh socket for every attempt (a late answer to an earlier
attempt cannot land on a later one), the first fitting reply wins, a reply
carrying another command's code starts the next attempt, and waits grow
from attempt to attempt. The caller bounds the whole call with `timeout`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
import contextlib
import ipaddress
import logging
import socket
from typing import Any, Final

from ..commands import (
    Command,
    CommandTimeout,
    InconsistentPage,
    MalformedReply,
    Pager,
    ReplyError,
    Request,
    WrongReplyCode,
)
from ..local import (
    PANEL_LOCAL_PORT,
    LocalReply,
    ReplyKind,
    local_request,
    parse_local_reply,
    server_address_command,
)

_LOGGER = logging.getLogger(__name__)

RETRY_WAITS: Final = (7.5, 15.0, 30.0)
"""How long each attempt waits for its reply, in seconds."""

type Address = tuple[str, int]


async def point_panel(
    panel_ip: str, ip: str, port: int, *, panel_port: int = PANEL_LOCAL_PORT
) -> bytes:
    """Tell the panel at `panel_ip` to use `ip:port` as its cloud; returns what was sent.

    UDP, so nothing confirms delivery: the panel connecting is the confirmation.
    Raises ValueError for a bad address and OSError when the datagram cannot be sent.
    """
    datagram = server_address_command(ip, port)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=(panel_ip, panel_port)
    )
    try:
        transport.sendto(datagram)
    finally:
        transport.close()
    return datagram


class _ReplyCatcher(asyncio.DatagramProtocol):
    """One attempt's socket: keeps the first datagram from the panel's address and port."""

    def __init__(self, panel: Address, reply: asyncio.Future[LocalReply]) -> None:
        self._panel = panel
        self._reply = reply

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self._reply.done():  # the first reply won; a duplicate changes nothing
            return
        source = (addr[0], addr[1])
        if source == self._panel:
            self._reply.set_result(parse_local_reply(data))
        else:
            _LOGGER.debug("ignoring a datagram from %s (not the panel %s)", source, self._panel)

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("panel %s: %s", self._panel, exc)


class _Tally:
    """How many datagrams one call has sent, for the timeout error."""

    __slots__ = ("attempts",)

    def __init__(self) -> None:
        self.attempts = 0


class LocalClient:
    """Sends commands to panels over UDP, one request in flight per panel address."""

    def __init__(
        self,
        *,
        waits: Sequence[float] = RETRY_WAITS,
        bind_host: str = "0.0.0.0",
    ) -> None:
        """`waits`: one per attempt, seconds; `bind_host`: where each attempt's socket binds."""
        if not waits or min(waits) <= 0:
            raise ValueError("waits must be positive, at least one")
        self._waits = tuple(waits)
        self._bind_host = bind_host
        self._locks: dict[Address, asyncio.Lock] = {}

    async def run[T](
        self,
        host: str,
        command: Command[T],
        *,
        port: int = PANEL_LOCAL_PORT,
        timeout: float | None = None,
    ) -> T:
        """Send a command to the panel at `host` (an IPv4 address) and read its reply.

        Raises CommandTimeout when no usable reply came within the attempts or
        `timeout` seconds (waiting for another request to the panel included),
        CommandRefused, MalformedReply, or, when the last attempt got one,
        WrongReplyCode or InconsistentPage; OSError if the socket fails.
        """
        tally = _Tally()
        code = command.request.code
        panel = _panel_address(host, port)
        async with _budget(code, timeout, tally):
            return await self._exchange(panel, command.request, command.decode, tally)

    async def fetch[R](
        self,
        host: str,
        pager: Pager[R],
        *,
        port: int = PANEL_LOCAL_PORT,
        timeout: float | None = None,
    ) -> tuple[R, ...]:
        """Every page of a list (see `commands.sensor_pager` and friends), in list order.

        `timeout` bounds all the pages together. Between pages the panel is
        free for other requests. Raises as `run` does, and ListChanged.
        """
        tally = _Tally()
        panel = _panel_address(host, port)
        async with _budget(pager.code, timeout, tally):
            while (request := pager.next_request()) is not None:
                await self._exchange(panel, request, pager.feed, tally)
        return pager.records

    async def _exchange[T](
        self, panel: Address, request: Request, accept: Callable[[str], T], tally: _Tally
    ) -> T:
        """One request, attempt after attempt, until a reply is accepted."""
        datagram = local_request(request)
        lock = self._locks.setdefault(panel, asyncio.Lock())
        async with lock:
            last_error: ReplyError | None = None
            for wait in self._waits:
                tally.attempts += 1
                reply = await self._attempt(panel, datagram, wait)
                last_error = None
                if reply is None:
                    continue
                if reply.kind is ReplyKind.MALFORMED:
                    raise MalformedReply(request.code, reply.text, "not an ISTART...IEND datagram")
                if reply.code is not None and reply.code != request.code:
                    _LOGGER.debug("panel %s answered %s with code %s", panel, request, reply.code)
                    last_error = WrongReplyCode(request.code, reply.text, reply.code)
                    continue
                try:
                    return accept(reply.text)
                except InconsistentPage as err:  # pyg90alarm found asking again helps
                    _LOGGER.debug("panel %s: %s", panel, err)
                    last_error = err
            raise last_error or CommandTimeout(request.code, tally.attempts)

    async def _attempt(self, panel: Address, datagram: bytes, wait: float) -> LocalReply | None:
        """Send once from a fresh socket; the first reply from the panel, or None after `wait`."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[LocalReply] = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _ReplyCatcher(panel, reply),
            local_addr=(self._bind_host, 0),
            family=socket.AF_INET,
        )
        try:
            transport.sendto(datagram, panel)
            try:
                async with asyncio.timeout(wait):
                    return await reply
            except TimeoutError:
                return None
        finally:
            transport.close()


@contextlib.asynccontextmanager
async def _budget(code: int, seconds: float | None, tally: _Tally) -> AsyncIterator[None]:
    """The caller's time budget: its expiry becomes a CommandTimeout."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except CommandTimeout:
        raise
    except TimeoutError as err:
        raise CommandTimeout(code, tally.attempts) from err


def _panel_address(host: str, port: int) -> Address:
    """The panel's address as its replies' source address reads; ValueError if not IPv4."""
    if not 0 < port < 65536:
        raise ValueError(f"port {port} out of range")
    return str(ipaddress.IPv4Address(host)), port
