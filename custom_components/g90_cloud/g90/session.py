"""One panel connection, sans-I/O: bytes in; messages, events and reply bytes out.

The session never touches a socket or an event loop (the h11 pattern): the
listener feeds it what the panel sent and writes back what it returns, so
every protocol rule is testable without a network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import time

from .events import PanelEvent, events_from
from .framing import Framer, FramingError
from .messages import (
    DiscoveryReply,
    Hello,
    HelloAck,
    HelloDiscovery,
    HelloInfo,
    HelloReply,
    Message,
    Ping,
    decode,
)
from .wire import MAX_FRAME_SIZE


@dataclass(frozen=True, slots=True)
class Inbound:
    """One frame the panel sent, and what it means."""

    frame: bytes
    message: Message
    events: tuple[PanelEvent, ...]
    reply: bytes
    """What the cloud answers (empty for most messages)."""


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


def discovery_reply(announced_ip: str, announced_port: int, now: float) -> bytes:
    """The cloud's answer to hello (discovery): where the cloud is, and the UTC time."""
    return DiscoveryReply(announced_ip, announced_port, int(now)).encode()


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
        """`cloud_ip`/`cloud_port`: the address announced to the panel as "the cloud"."""
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
        """Bytes of an incomplete frame held back."""
        return self._framer.buffered

    def receive(self, data: bytes) -> list[Inbound]:
        """Take bytes from the panel; return each complete frame decoded, in order.

        Check `error` afterwards: frames before a break are still returned.
        """
        return [self._handle(frame) for frame in self._framer.feed(data)]

    def _handle(self, frame: bytes) -> Inbound:
        message = decode(frame)
        reply = b""
        if isinstance(message, Ping):
            reply = frame
        elif isinstance(message, Hello):
            self._identify(message.guid, message.firmware)
            reply = self._hello_reply
        elif isinstance(message, HelloDiscovery):
            self._identify(message.guid, message.firmware)
            reply = discovery_reply(self._cloud_ip, self._cloud_port, self._clock())
        return Inbound(frame, message, events_from(message, frame, self.guid), reply)

    def _identify(self, guid: str, firmware: str) -> None:
        if guid:
            self.guid = guid
        if firmware:
            self.firmware = firmware


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

    def receive(self, data: bytes) -> list[tuple[bytes, Message]]:
        """Each complete frame from the cloud, decoded."""
        return [(frame, decode(frame)) for frame in self._framer.feed(data)]
