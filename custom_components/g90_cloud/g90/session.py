"""One panel connection, sans-I/O: bytes in; messages, events and reply bytes out.

The session never touches a socket or an event loop (the h11 pattern): the
listener feeds it what the panel sent and writes back what it returns, so
every protocol rule is testable without a network.
"""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Final, NamedTuple

from .events import PanelEvent, events_from, notification_event, status_event
from .framing import Framer, FramingError
from .messages import (
    HEADER_AND_VERSION,
    DiscoveryReply,
    Hello,
    HelloAck,
    HelloInfo,
    HelloReply,
    Introduction,
    Message,
    Notification,
    Ping,
    StatusChange,
    decode,
    fast_builder,
    header_key,
)
from .wire import MAX_FRAME_SIZE, PROTOCOL_VERSION, VERSIONED_HEADER_SIZE


class Inbound(NamedTuple):
    """One frame the panel sent, and what it means (a named tuple: cheap to build)."""

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


_INT32_MAX: Final = 2**31 - 1


def discovery_reply(announced_ip: str, announced_port: int, now: float) -> bytes:
    """The cloud's answer to hello (discovery): where the cloud is, and the UTC time.

    The time field is a signed int32: past January 2038 it stays at its largest
    value rather than failing.
    """
    return DiscoveryReply(announced_ip, announced_port, min(int(now), _INT32_MAX)).encode()


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
        self._framer = Framer(max_frame_size)
        self._cloud_ip = cloud_ip
        self._cloud_port = cloud_port
        self._clock = clock
        self._hello_reply = hello_reply(cloud_port)
        discovery_reply(cloud_ip, cloud_port, 0)  # fail now, not at the first discovery
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
        result: list[Inbound] = []
        append = result.append
        guid = self.guid
        alerts, new, inbound, unpack = _ALERTS, _new, Inbound, unpack_header  # hot loop: locals
        for frame in self._framer.feed(data):
            if len(frame) >= VERSIONED_HEADER_SIZE:
                command_source, flag, destination, length, version, sequence = unpack(frame)
                alert = alerts.get(command_source | destination << 16)
                if alert is not None and version == PROTOCOL_VERSION and length == len(frame):
                    # An alert, most of the traffic: the same builder decode() would
                    # use, and its event read from the same payload, with no detour.
                    build, read_event = alert
                    payload = frame[VERSIONED_HEADER_SIZE:]
                    message = build(payload, flag, sequence)
                    append(new(inbound, (frame, message, (read_event(payload, frame, guid),), b"")))
                    continue
            message = decode(frame)
            if isinstance(message, Ping):
                append(new(inbound, (frame, message, (), frame)))
            elif isinstance(message, Introduction):
                reply = self._identify(message)
                guid = self.guid
                append(new(inbound, (frame, message, (), reply)))
            else:
                append(new(inbound, (frame, message, events_from(message, frame, guid), b"")))
        return result

    def _identify(self, message: Introduction) -> bytes:
        """Learn who the panel is; the reply its hello calls for."""
        if message.guid:
            self.guid = message.guid
        if message.firmware:
            self.firmware = message.firmware
        if isinstance(message, Hello):
            return self._hello_reply
        return discovery_reply(self._cloud_ip, self._cloud_port, self._clock())


_new = tuple.__new__
unpack_header = HEADER_AND_VERSION.unpack_from
_ALERTS: Final[
    dict[
        int,
        tuple[
            Callable[[bytes, int, int], Message], Callable[[bytes, bytes, str | None], PanelEvent]
        ],
    ]
] = {
    header_key(StatusChange): (fast_builder(StatusChange), status_event),
    header_key(Notification): (fast_builder(Notification), notification_event),
}
"""The two alert messages, decoded in receive() without a detour through decode()."""


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
