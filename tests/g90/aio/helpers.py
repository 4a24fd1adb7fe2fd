"""Test doubles for the listener tests: panels, the fake cloud, recorders.

Frames come from tests/g90/frames.py (packed with `struct` from the protocol
notes, not with the code under test); the names the listener tests use are
re-exported here. The fake cloud here is the one every test uses, the Home
Assistant tests included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import socket
import struct
import time

import pytest

from custom_components.g90_cloud.g90.events import PanelEvent
from custom_components.g90_cloud.g90.status import MessageRecord, PanelStatus, Traffic

from ..frames import (
    PING,
    activity,
    basic,
    cloud_command,
    command_response,
    discovery,
    discovery_reply,
    hello,
    hello_reply,
    json_notification as notification,
    panel_state,
    triple,
    versioned,
)

__all__ = [
    "FAKE_IP",
    "FAKE_PING_REPLY",
    "FAKE_PORT",
    "FAKE_TIME",
    "LOCAL",
    "PING",
    "WAIT",
    "Changes",
    "ClosedPort",
    "CloudLink",
    "FakeCloud",
    "PanelClient",
    "Recorder",
    "Responder",
    "activity",
    "answering",
    "basic",
    "cloud_answer",
    "cloud_command",
    "command_response",
    "discovery",
    "discovery_reply",
    "eventually",
    "hello",
    "hello_reply",
    "like_the_vendor",
    "notification",
    "panel_state",
    "silent",
    "triple",
    "versioned",
]

LOCAL = "127.0.0.1"
WAIT = 3.0
"""Upper bound for anything that should happen at once (generous for slow CI)."""

# --- the fake cloud's answers ---------------------------------------------------------

FAKE_PORT = 9999
"""The port the fake cloud announces: our listener announces another one."""
FAKE_IP = "10.9.8.7"
FAKE_TIME = 1_700_000_000
FAKE_PING_REPLY = basic(0x01, 0x10, 0x00, flag=0x07)
"""The fake cloud echoes pings with header flag 7, so its echo is not ours."""


def cloud_answer(frame: bytes) -> bytes:
    """What the fake cloud answers to a panel frame (nothing for most)."""
    match triple(frame):
        case (0x01, 0x10, 0x20):
            return hello_reply(FAKE_PORT)
        case (0x01, 0x30, 0x20):
            return discovery_reply(FAKE_IP, FAKE_PORT, FAKE_TIME)
        case (0x01, 0x10, 0x00):
            return FAKE_PING_REPLY
    return b""


# --- waiting --------------------------------------------------------------------------


class Changes:
    """Something tests wait on: poke() after each change, until() to wait for a state."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def poke(self) -> None:
        self._changed.set()

    async def until(self, predicate: Callable[[], bool], what: str, limit: float = WAIT) -> None:
        """Return as soon as `predicate()` holds; fail the test after `limit` seconds."""
        try:
            async with asyncio.timeout(limit):
                while not predicate():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            pytest.fail(f"timed out after {limit} s waiting for {what}")


async def eventually(predicate: Callable[[], bool], what: str, limit: float = WAIT) -> None:
    """Wait for listener-internal state that has no callback, checking every few ms."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {limit} s waiting for {what}")
        await asyncio.sleep(0.005)


# --- the listener's owner -------------------------------------------------------------


class Recorder(Changes):
    """The listener's callbacks, recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[PanelEvent, PanelStatus | None]] = []
        self.messages: list[MessageRecord] = []
        self.reads: list[Traffic] = []
        """Each on_traffic call: the frames of one read."""
        self.panel_updates: list[tuple[str, bool, bool | None]] = []

    def on_event(self, event: PanelEvent, panel: PanelStatus | None) -> None:
        self.events.append((event, panel))
        self.poke()

    def on_traffic(self, traffic: Traffic) -> None:
        self.reads.append(traffic)
        self.messages += traffic.records()
        self.poke()

    def on_panel(self, panel: PanelStatus) -> None:
        self.panel_updates.append((panel.guid, panel.connected, panel.upstream_connected))
        self.poke()

    @property
    def raws(self) -> list[bytes]:
        """The frame of each event, in delivery order."""
        return [event.raw for event, _panel in self.events]

    @property
    def guids(self) -> list[str | None]:
        """The GUID of each event, in delivery order."""
        return [event.guid for event, _panel in self.events]

    async def wait_events(self, count: int) -> None:
        await self.until(lambda: len(self.events) >= count, f"{count} events")


# --- a panel --------------------------------------------------------------------------


class PanelClient:
    """The panel's end of one TCP connection, driven by the test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.received = bytearray()
        """Every byte the listener sent, in order."""

    @classmethod
    async def connect(cls, port: int, host: str = LOCAL) -> PanelClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), WAIT)
        return cls(reader, writer)

    @property
    def address(self) -> str:
        """This end as the listener names its peer."""
        host, port = self.writer.get_extra_info("sockname")[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    async def send(self, *frames: bytes) -> None:
        """All frames in one write."""
        self.writer.write(b"".join(frames))
        await self.writer.drain()

    async def read(self, size: int, limit: float = WAIT) -> bytes:
        """Exactly the next `size` bytes."""
        data = await asyncio.wait_for(self.reader.readexactly(size), limit)
        self.received += data
        return data

    async def expect(self, expected: bytes, limit: float = WAIT) -> None:
        """The next bytes are exactly these."""
        got = await self.read(len(expected), limit)
        assert got.hex(" ") == expected.hex(" ")

    async def eof(self, limit: float = WAIT) -> bytes:
        """Whatever the listener still sends, up to the end of the stream."""
        data = await asyncio.wait_for(self.reader.read(), limit)
        self.received += data
        return data

    async def refused(self) -> None:
        """The listener hangs up without a byte (a reset counts: it may not read first)."""
        try:
            data = await asyncio.wait_for(self.reader.read(), WAIT)
        except ConnectionResetError:
            return
        assert data == b""

    async def quiet(self, seconds: float) -> None:
        """Nothing arrives for `seconds`, and the connection stays open."""
        try:
            data = await asyncio.wait_for(self.reader.read(1), seconds)
        except TimeoutError:
            return
        pytest.fail(f"unexpected bytes {data.hex(' ')}" if data else "unexpected end of stream")

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


# --- the fake cloud -------------------------------------------------------------------


class CloudLink:
    """One connection the listener opened to the fake cloud."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.received = bytearray()
        self.frames: list[bytes] = []
        self.closed = False

    def send(self, data: bytes) -> None:
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def drop(self) -> None:
        """Hang up on the listener."""
        self.writer.close()


Responder = Callable[[CloudLink, bytes], None]


def answering(link: CloudLink, frame: bytes) -> None:
    """A cloud that answers as a real one would, recognisably."""
    link.send(cloud_answer(frame))


def silent(_link: CloudLink, _frame: bytes) -> None:
    """A cloud that reads everything and never answers."""


VENDOR_IP = "47.88.7.61"
VENDOR_PORT = 5678


def like_the_vendor(link: CloudLink, frame: bytes) -> None:
    """A cloud that answers exactly as the vendor's does (a panel cannot tell it apart)."""
    match triple(frame):
        case (0x01, 0x10, 0x20):
            link.send(hello_reply(VENDOR_PORT))
        case (0x01, 0x30, 0x20):
            link.send(discovery_reply(VENDOR_IP, VENDOR_PORT, int(time.time())))
        case (0x01, 0x10, 0x00):
            link.send(frame)


class FakeCloud(Changes):
    """An asyncio server on 127.0.0.1 standing in for the vendor's cloud.

    `respond(link, frame)` runs for every complete frame it receives; tests
    swap it to change the cloud's behaviour mid-test.
    """

    def __init__(self, respond: Responder = answering) -> None:
        super().__init__()
        self.respond = respond
        self.links: list[CloudLink] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, LOCAL, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def adopt(self, sock: socket.socket) -> None:
        """Serve a connection accepted elsewhere (e.g. by a gate that accepts late)."""
        reader, writer = await asyncio.open_connection(sock=sock)
        await self._serve(reader, writer)

    def stop_listening(self) -> None:
        """Refuse new connections; links already open stay up."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def close(self) -> None:
        self.stop_listening()
        for link in self.links:
            link.writer.transport.abort()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=WAIT)

    @property
    def received(self) -> list[bytes]:
        """Every frame received, over all connections, in order of connection."""
        return [frame for link in self.links for frame in link.frames]

    @property
    def connections(self) -> int:
        """Connections open now."""
        return sum(not link.closed for link in self.links)

    def drop(self) -> None:
        """Hang up on every connection (the cloud went away for a moment)."""
        for link in self.links:
            link.drop()

    async def link(self, index: int) -> CloudLink:
        """The `index`-th connection (0 first), once the listener has opened it."""
        await self.until(lambda: len(self.links) > index, f"upstream connection #{index}")
        return self.links[index]

    async def frames(self, index: int, count: int) -> CloudLink:
        """The `index`-th connection once it has received `count` frames."""
        link = await self.link(index)
        await self.until(lambda: len(link.frames) >= count, f"{count} frames on link #{index}")
        return link

    async def hung_up(self, index: int) -> None:
        """The listener closed the `index`-th connection."""
        link = await self.link(index)
        await self.until(lambda: link.closed, f"link #{index} closed")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        link = CloudLink(writer)
        self.links.append(link)
        self.poke()
        buffer = b""
        try:
            while data := await reader.read(65536):
                link.received += data
                buffer += data
                while len(buffer) >= 8:
                    (length,) = struct.unpack_from("<i", buffer, 4)
                    assert length >= 8, f"the listener forwarded a broken frame: {buffer.hex()}"
                    if len(buffer) < length:
                        break
                    frame, buffer = buffer[:length], buffer[length:]
                    link.frames.append(frame)
                    self.respond(link, frame)
                self.poke()
        except OSError:
            pass
        finally:
            link.closed = True
            writer.transport.abort()
            self._tasks.discard(task)
            self.poke()


class ClosedPort:
    """A loopback port bound but not listening: connections to it are refused."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((LOCAL, 0))
        self.port: int = self._sock.getsockname()[1]

    def release(self) -> int:
        """Free the port (to start a server on it); returns it."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        return self.port
