"""A fake panel on UDP 127.0.0.1: a PanelModel behind a socket, with transport tricks.

The model decides what to answer (and can refuse, stay silent, answer late or
with another code); a `Trick` changes how the answer travels: twice, from
another port, with invalid UTF-8, or replaced by scripted bytes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from custom_components.g90_cloud.g90.commands import Request
from custom_components.g90_cloud.g90.local import local_reply, parse_local_request
from custom_components.g90_cloud.g90.panel_model import PanelModel

from .helpers import LOCAL


@dataclass(frozen=True, slots=True)
class Trick:
    """How one answer travels."""

    raw: bytes | None = None
    """Send these bytes instead of the model's answer (even when the model is silent)."""
    twice: bytes | None = None
    """Then send these bytes too, right after (a duplicate, or a different second reply)."""
    other_port: bool = False
    """Send from another socket, so the source port is not the panel's."""
    garble: bool = False
    """Put invalid UTF-8 right after the answer's first double quote."""


PLAIN = Trick()


class UdpPanel(asyncio.DatagramProtocol):
    """The panel's port 12368, on an ephemeral port of 127.0.0.1."""

    def __init__(self, model: PanelModel | None = None) -> None:
        self.model = model if model is not None else PanelModel()
        self.trick = PLAIN
        """How every answer travels..."""
        self.tricks: deque[Trick] = deque()
        """...unless one is queued here: each request takes the next."""
        self.log: list[tuple[str, int]] = []
        """("received" or "sent", command code), in the order it happened."""
        self.sources: list[int] = []
        """The source port of every request datagram."""
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._other: asyncio.DatagramTransport | None = None
        self._pending: set[asyncio.TimerHandle] = set()
        self._arrival = asyncio.Event()

    async def start(self) -> UdpPanel:
        """Bind both sockets."""
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(LOCAL, 0)
        )
        self._other, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=(LOCAL, 0)
        )
        self.port = self._transport.get_extra_info("sockname")[1]
        return self

    def close(self) -> None:
        for handle in self._pending:  # answers still waiting for their delay
            handle.cancel()
        for transport in (self._transport, self._other):
            if transport is not None:
                transport.close()

    @property
    def requests(self) -> list[Request]:
        """Every request the model answered."""
        return self.model.requests

    async def received(self, count: int) -> None:
        """Wait until `count` requests have arrived."""
        while len(self.requests) < count:
            self._arrival.clear()
            await self._arrival.wait()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        request = parse_local_request(data)
        if request is None:
            return
        self._arrival.set()
        self.sources.append(addr[1])
        self.log.append(("received", request.code))
        trick = self.tricks.popleft() if self.tricks else self.trick
        answer = self.model.answer(request)
        if trick.raw is not None:
            datagram = trick.raw
        elif answer.text is None:
            return
        else:
            datagram = local_reply(answer.text)
        if trick.garble:
            datagram = datagram.replace(b'"', b'"\xff\xfe', 1)
        if answer.delay:
            handle = asyncio.get_running_loop().call_later(
                answer.delay, self._send, request.code, datagram, trick, addr
            )
            self._pending.add(handle)
        else:
            self._send(request.code, datagram, trick, addr)

    def _send(
        self, code: int, datagram: bytes, trick: Trick, addr: tuple[str | object, int]
    ) -> None:
        transport = self._other if trick.other_port else self._transport
        assert transport is not None
        self.log.append(("sent", code))
        transport.sendto(datagram, addr)
        if trick.twice is not None:
            transport.sendto(trick.twice, addr)
