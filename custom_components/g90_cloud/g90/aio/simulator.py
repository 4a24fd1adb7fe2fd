"""A simulated panel for the command line, the tests and the development instance.

It says hello like a real panel, checks the cloud's replies byte for byte,
then plays a scenario.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
import time

from ..framing import Framer
from ..messages import (
    DiscoveryReply,
    Hello,
    HelloDiscovery,
    HelloInfo,
    Message,
    Ping,
    decode,
)
from ..scenarios import Pause, Step
from ..session import hello_reply

# Unknown numbers as a real panel (firmware 207) sends them.
HELLO_NUMBERS = (0, 0, 2, 28672, 536918616, 48, 0, 7, 30, 30)
DISCOVERY_NUMBERS = (0, 0, 1, 28672, 84215045, 101056560, 117901063)
READ_SIZE = 65536
REPLY_TIMEOUT = 10.0
CLOCK_TOLERANCE = 120


@dataclass(slots=True)
class SimulationResult:
    """What was sent, what came back, and what was wrong with it."""

    sent: list[tuple[str, bytes]] = field(default_factory=list)
    received: list[tuple[bytes, Message]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    announced_port: int | None = None
    announced_ip: str | None = None


class SimulatedPanel:
    """One simulated panel connection."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        guid: str = "GA00000A0000000",
        firmware: str = "207",
        report: Callable[[str], None] = lambda _line: None,
        speed: float = 1.0,
    ) -> None:
        """`speed` > 1 shortens the scenario's pauses."""
        self.host = host
        self.port = port
        self.guid = guid
        self.firmware = firmware
        self.result = SimulationResult()
        self._report = report
        self._speed = speed
        self._framer = Framer()
        self._frames: list[bytes] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> SimulatedPanel:
        """Connect."""
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Disconnect."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()

    async def send(self, label: str, frame: bytes) -> None:
        """Send one frame."""
        assert self._writer is not None
        self._writer.write(frame)
        await self._writer.drain()
        self.result.sent.append((label, frame))
        self._report(f"sent      {label:<32} {frame.hex(' ')}")

    async def receive(self, count: int) -> list[bytes]:
        """The next `count` frames from the cloud."""
        assert self._reader is not None
        async with asyncio.timeout(REPLY_TIMEOUT):
            while len(self._frames) < count:
                data = await self._reader.read(READ_SIZE)
                if not data:
                    raise ConnectionError("the cloud closed the connection")
                self._frames.extend(self._framer.feed(data))
                if self._framer.error is not None:
                    raise ConnectionError(str(self._framer.error))
        frames, self._frames = self._frames[:count], self._frames[count:]
        for frame in frames:
            message = decode(frame)
            self.result.received.append((frame, message))
            self._report(f"received  {message.NAME:<32} {frame.hex(' ')}")
        return frames

    def problem(self, text: str) -> None:
        """Note something the cloud got wrong."""
        self.result.problems.append(text)
        self._report(f"PROBLEM   {text}")

    async def hello(self) -> None:
        """Say hello; expect the cloud's three replies, byte-exact for the port it announces."""
        await self.send("hello", Hello(self.guid, self.firmware, HELLO_NUMBERS).encode())
        frames = await self.receive(3)
        info = decode(frames[2])
        if not isinstance(info, HelloInfo):
            self.problem(f"third reply to hello is {type(info).__name__}, not hello info")
            return
        self.result.announced_port = info.port
        if b"".join(frames) != hello_reply(info.port):
            self.problem(f"hello reply differs from the cloud's: {b''.join(frames).hex(' ')}")

    async def discovery(self) -> None:
        """Ask where the cloud is; expect the discovery reply with a sane clock."""
        frame = HelloDiscovery(self.guid, self.firmware, DISCOVERY_NUMBERS).encode()
        await self.send("hello (discovery)", frame)
        (reply,) = await self.receive(1)
        message = decode(reply)
        if not isinstance(message, DiscoveryReply):
            self.problem(f"reply to discovery is {type(message).__name__}")
            return
        self.result.announced_ip = message.ip
        if abs(message.timestamp - time.time()) > CLOCK_TOLERANCE:
            self.problem(f"discovery reply time {message.timestamp} is off by more than 2 minutes")
        if message.encode() != reply:
            self.problem("discovery reply does not re-encode to the same bytes")

    async def ping(self) -> None:
        """Ping; expect the same 8 bytes back."""
        frame = Ping().encode()
        await self.send("ping", frame)
        (reply,) = await self.receive(1)
        if reply != frame:
            self.problem(f"ping echo differs: {reply.hex(' ')}")

    async def play(self, steps: list[Step]) -> None:
        """Send a scenario's frames, with its pauses; a ping at the end proves all arrived."""
        for step in steps:
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds / self._speed)
                continue
            await self.send(step.label, step.frame(int(time.time())))
        await self.ping()


async def simulate(
    host: str,
    port: int,
    steps: list[Step],
    *,
    guid: str = "GA00000A0000000",
    expect_port: int | None = None,
    repeat: int = 1,
    speed: float = 1.0,
    report: Callable[[str], None] = lambda _line: None,
) -> SimulationResult:
    """Connect as a panel, check the handshake, play `steps` `repeat` times (0: forever)."""
    panel = SimulatedPanel(host, port, guid=guid, report=report, speed=speed)
    async with panel:
        await panel.hello()
        await panel.discovery()
        await panel.ping()
        if expect_port is not None and panel.result.announced_port != expect_port:
            panel.problem(
                f"hello info announces port {panel.result.announced_port}, expected {expect_port}"
            )
        rounds = 0
        while repeat == 0 or rounds < repeat:
            if rounds:
                await panel.hello()  # the heartbeat a real panel sends between events
            await panel.play(steps)
            rounds += 1
    return panel.result
