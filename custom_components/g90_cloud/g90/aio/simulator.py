"""A simulated panel for the command line, the tests and the development instance.

It says hello like a real panel, checks the cloud's replies byte for byte,
then plays a scenario. Like a real panel it obeys commands at any time, down
its connection (cmd 0x29, answered with a command response) and, when asked
to, on a local UDP port; it answers from a `PanelModel` and reports what a
command changed (arming: a status change and a notification) on its
connection, as real panels do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
from dataclasses import dataclass, field, replace
import time
from typing import Any, Final, override

from ..commands import ArmState, request_from_command
from ..framing import Framer
from ..local import local_reply, parse_local_request
from ..messages import (
    CloudCommand,
    CommandResponse,
    DiscoveryReply,
    Hello,
    HelloDiscovery,
    HelloInfo,
    Message,
    Ping,
    decode,
)
from ..panel_model import DEMO_INFO, Answer, PanelModel
from ..scenarios import PanelState, Pause, Step
from ..session import hello_reply

# Unknown numbers as a real panel (firmware 207) sends them.
HELLO_NUMBERS = (0, 0, 2, 28672, 536918616, 48, 0, 7, 30, 30)
DISCOVERY_NUMBERS = (0, 0, 1, 28672, 84215045, 101056560, 117901063)
READ_SIZE = 65536
REPLY_TIMEOUT = 10.0
CLOCK_TOLERANCE = 120


_ARM_STATES: Final = {
    "armed_away": ArmState.ARMED_AWAY,
    "armed_home": ArmState.ARMED_HOME,
    "disarmed": ArmState.DISARMED,
}


class _LocalPort(asyncio.DatagramProtocol):
    """The panel's local protocol port: requests answered by the panel's model."""

    def __init__(self, panel: SimulatedPanel) -> None:
        self._panel = panel
        self._transport: asyncio.DatagramTransport | None = None

    @override
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport

    @override
    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        request = parse_local_request(data)
        if request is None:  # a system command (no reply) or noise
            return
        panel = self._panel
        answer = panel.model.answer(request)
        if answer.text is not None:
            datagram = local_reply(answer.text)
            loop = asyncio.get_running_loop()
            loop.call_later(answer.delay, self._send, datagram, addr)
        panel.report_changes(answer.delay)

    def _send(self, datagram: bytes, addr: tuple[str | Any, int]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(datagram, addr)


@dataclass(slots=True)
class SimulationResult:
    """What was sent, what came back, and what was wrong with it."""

    sent: list[tuple[str, bytes]] = field(default_factory=list)
    received: list[tuple[bytes, Message]] = field(default_factory=list)
    commands: list[CloudCommand] = field(default_factory=list)
    """The commands that came down the connection, in order."""
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
        model: PanelModel | None = None,
        source: str | None = None,
    ) -> None:
        """`speed` > 1 shortens the scenario's pauses; `model` answers commands.

        `source`: the local address to connect from (panels have one each).
        """
        self.host = host
        self.port = port
        self.guid = guid
        self.firmware = firmware
        self.model = model or PanelModel(replace(DEMO_INFO, guid=guid))
        self.result = SimulationResult()
        self._report = report
        self._speed = speed
        self._framer = Framer()
        self._frames: list[bytes] = []
        self._arrived = asyncio.Event()
        self._lost: Exception | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._local: asyncio.DatagramTransport | None = None
        self._source = source

    async def __aenter__(self) -> SimulatedPanel:
        """Connect, and read what the cloud sends from then on."""
        self._reader, self._writer = await asyncio.open_connection(
            self.host, self.port, local_addr=None if self._source is None else (self._source, 0)
        )
        self._spawn(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Disconnect."""
        for task in list(self._tasks):
            task.cancel()
        if self._local is not None:
            self._local.close()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()

    async def serve_local(self, host: str, port: int = 0) -> int:
        """Also answer the panel's local protocol (UDP) on `host:port`; returns the port."""
        loop = asyncio.get_running_loop()
        self._local, _ = await loop.create_datagram_endpoint(
            lambda: _LocalPort(self), local_addr=(host, port)
        )
        return int(self._local.get_extra_info("sockname")[1])

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self) -> None:
        """Frames from the cloud: commands are obeyed at once, the rest wait for receive()."""
        assert self._reader is not None
        try:
            while data := await self._reader.read(READ_SIZE):
                for frame in self._framer.feed(data):
                    message = decode(frame)
                    if isinstance(message, CloudCommand):
                        self._obey(message)
                    else:
                        self._frames.append(frame)
                        self._arrived.set()
                if self._framer.error is not None:
                    raise ConnectionError(str(self._framer.error))
            raise ConnectionError("the cloud closed the connection")
        except (OSError, ConnectionError) as err:
            self._lost = err
        finally:
            self._arrived.set()

    def _obey(self, command: CloudCommand) -> None:
        """A command from the cloud: answered as the model says, then what changed reported."""
        self.result.commands.append(command)
        self._report(f"command   {command.code:<32} {command.encode().hex(' ')}")
        request = request_from_command(command)
        answer = Answer("fail") if request is None else self.model.answer(request)
        if answer.text is not None:
            body = answer.text.encode("utf-8") + b"\0"
            response = CommandResponse(command.sequence, command.code, body).encode()
            self._spawn(self._later(answer.delay, "command response", response))
        self.report_changes(answer.delay)

    def report_changes(self, delay: float = 0.0) -> None:
        """Send what commands changed (after `delay`), as a real panel reports it."""
        for change in self.model.pop_changes():
            for message in change.messages():
                self._spawn(self._later(delay, message.NAME, message.encode()))

    async def _later(self, delay: float, label: str, frame: bytes) -> None:
        if delay:
            await asyncio.sleep(delay)
        with contextlib.suppress(OSError):
            await self.send(label, frame)

    async def send(self, label: str, frame: bytes) -> None:
        """Send one frame."""
        assert self._writer is not None
        self._writer.write(frame)
        await self._writer.drain()
        self.result.sent.append((label, frame))
        self._report(f"sent      {label:<32} {frame.hex(' ')}")

    async def receive(self, count: int) -> list[bytes]:
        """The next `count` frames from the cloud (commands are not among them)."""
        async with asyncio.timeout(REPLY_TIMEOUT):
            while len(self._frames) < count:
                if self._lost is not None:
                    raise ConnectionError(str(self._lost))
                self._arrived.clear()
                await self._arrived.wait()
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
            if isinstance(step, PanelState) and step.state in _ARM_STATES:
                self.model.state = _ARM_STATES[step.state]  # what `status` then reports
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
