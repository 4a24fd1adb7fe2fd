"""One panel connection, sans-I/O: bytes in; messages, events and reply bytes out.

The session never touches a socket or an event loop (the h11 pattern): the
listener feeds it what the panel sent and writes back what it returns, so
every protocol rule is testable without a network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
import time
from typing import Final, NamedTuple

from .events import PAYLOAD_EVENTS, PanelEvent, events_from
from .framing import Framer, FramingError
from .messages import (
    DiscoveryReply,
    Hello,
    HelloAck,
    HelloInfo,
    HelloReply,
    Introduction,
    Message,
    Ping,
    decode,
    identify,
)
from .wire import MAX_FRAME_SIZE, is_identity


class Inbound(NamedTuple):
    """One frame received, what it holds, and what the cloud answers (panel frames)."""

    frame: bytes
    kind: type[Message]
    """The message the frame holds (Unknown or Malformed when it holds none)."""
    events: tuple[PanelEvent, ...]
    reply: bytes
    """The cloud's answer (empty for most messages)."""

    @property
    def message(self) -> Message:
        """The frame decoded; built on demand, as most consumers need only its kind."""
        return decode(self.frame)


def hello_reply(announced_port: int) -> bytes:
    """The cloud's three-message answer to hello, sequence 1, 2, 3.

    The port is the one the panel should connect to: the announced cloud
    port, which differs from the local one behind port mapping.
    """
    return (
        HelloAck(sequence=1).encode()
        + HelloReply(sequence=2).encode()
        + HelloInfo(announced_port, sequence=3).encode()
    )


_INT32_MAX: Final = 2**31 - 1
_PORT_MAX: Final = 65535


def discovery_reply(announced_ip: str, announced_port: int, now: float) -> bytes:
    """The cloud's answer to hello (discovery): where the cloud is, and the UTC time.

    The time field is a signed int32: past January 2038 it stays at its largest
    value rather than failing.
    """
    return DiscoveryReply(announced_ip, announced_port, min(int(now), _INT32_MAX)).encode()


def pointed_here(frame: bytes, kind: type[Message], cloud_ip: str, cloud_port: int) -> bytes:
    """A cloud's frame as a panel gets it through the listener (chaining).

    The cloud's answer to a discovery hello names where the cloud is: the
    listener's announced address and port are put there (the cloud's time
    kept), or the vendor would point the panel back at itself, away from the
    listener. Every other frame, byte for byte as the cloud sent it.
    """
    if kind is not DiscoveryReply:
        return frame
    message = decode(frame)
    if not isinstance(message, DiscoveryReply):
        return frame  # malformed: passed on as it came
    return replace(message, ip=cloud_ip, port=cloud_port).encode()


def check_announceable(cloud_ip: str, cloud_port: int) -> None:
    """Raise ValueError unless panels can be told to use this address.

    The replies hold an ASCII address of at most 16 bytes and a port of 1-65535.
    """
    if type(cloud_port) is not int or not 1 <= cloud_port <= _PORT_MAX:
        raise ValueError(f"cannot announce port {cloud_port!r}: ports are 1-{_PORT_MAX}")
    discovery_reply(cloud_ip, cloud_port, 0)


class Session:
    """Protocol state of one panel connection."""

    __slots__ = (
        "_clock",
        "_cloud_ip",
        "_cloud_port",
        "_framer",
        "_hello_reply",
        "firmware",
        "guid",
    )

    def __init__(
        self,
        *,
        cloud_ip: str,
        cloud_port: int,
        clock: Callable[[], float] = time.time,
        max_frame_size: int = MAX_FRAME_SIZE,
    ) -> None:
        """`cloud_ip`/`cloud_port`: the address announced to panels as "the cloud".

        Raises ValueError if they cannot be announced (the reply holds an
        ASCII address of at most 16 bytes and a port of 1-65535).
        """
        check_announceable(cloud_ip, cloud_port)  # fail now, not at the first hello
        self._framer = Framer(max_frame_size)
        self._cloud_ip = cloud_ip
        self._cloud_port = cloud_port
        self._clock = clock
        self._hello_reply = hello_reply(cloud_port)
        self.guid: str | None = None
        self.firmware: str | None = None

    @property
    def error(self) -> FramingError | None:
        """Set once the stream is broken; the connection should then be closed."""
        return self._framer.error

    @property
    def buffered(self) -> int:
        """Bytes held back: an incomplete frame, or frames beyond a receive's limit."""
        return self._framer.buffered

    @property
    def skipped(self) -> int:
        """Oversized frames skipped so far (each reported as a malformed frame)."""
        return self._framer.skipped

    def receive(self, data: bytes, limit: int | None = None) -> list[Inbound]:
        """Take bytes from the panel; return each complete frame decoded, in order.

        At most `limit` frames are decoded; the rest wait for the next call
        (`receive(b"")` carries on). Check `error` afterwards: frames before a
        break are still returned.
        """
        inbound: list[Inbound] = []
        for frame in self._framer.feed(data, limit):
            kind = identify(frame)
            read_event = PAYLOAD_EVENTS.get(kind)
            if read_event is not None:  # an alert, read straight from its payload
                event = read_event(frame[kind.HEADER :], frame, self.guid)
                inbound.append(Inbound(frame, kind, (event,), b""))
            elif kind is Ping:
                inbound.append(Inbound(frame, kind, (), frame))  # echoed
            else:
                message = decode(frame)
                if isinstance(message, Introduction):
                    inbound.append(Inbound(frame, type(message), (), self._identify(message)))
                else:
                    events = events_from(message, frame, self.guid)
                    inbound.append(Inbound(frame, type(message), events, b""))
        return inbound

    def _identify(self, message: Introduction) -> bytes:
        """Learn who the panel is; the reply its hello calls for.

        A GUID or firmware version that is not an identity (`is_identity`)
        names nothing; the hello is answered all the same.
        """
        if message.guid and is_identity(message.guid):
            self.guid = message.guid
        if message.firmware and is_identity(message.firmware):
            self.firmware = message.firmware
        if isinstance(message, Hello):
            return self._hello_reply
        return discovery_reply(self._cloud_ip, self._cloud_port, self._clock())


class CloudStream:
    """Decoder for what the upstream cloud sends to a panel (no replies, no events)."""

    __slots__ = ("_framer",)

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        """Start with an empty buffer."""
        self._framer = Framer(max_frame_size)

    @property
    def error(self) -> FramingError | None:
        """Set once the cloud's stream could not be split into frames."""
        return self._framer.error

    def receive(self, data: bytes) -> list[Inbound]:
        """Each complete frame from the cloud, with the message it holds."""
        return [Inbound(frame, identify(frame), (), b"") for frame in self._framer.feed(data)]
