"""One panel connection, sans-I/O: bytes in; messages, events and reply bytes out.

The session never touches a socket or an event loop (the h11 pattern): the
listener feeds it what the panel sent and writes back what it returns, so
every protocol rule is testable without a network.
"""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Final

from .events import PanelEvent, events_from, notification_event, status_event
from .framing import Framer, FramingError
from .messages import (
    BASIC_HEADER_KEY,
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
    decode_framed,
    fast_builder,
    header_key,
)
from .wire import BASIC_HEADER_SIZE, MAX_FRAME_SIZE, PROTOCOL_VERSION, VERSIONED_HEADER_SIZE

type Inbound = tuple[bytes, Message, tuple[PanelEvent, ...], bytes]
"""`(frame, message, events, reply)`: one frame the panel sent, what it means, and
what the cloud answers (empty for most messages).

A plain tuple, unpacked by its consumers: building a named tuple per frame cost
a twentieth of the whole decoding time.
"""


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
        """Bytes of an incomplete frame held back."""
        return self._framer.buffered

    def receive(self, data: bytes) -> list[Inbound]:  # noqa: PLR0915 - one hot loop, written out
        """Take bytes from the panel; return each complete frame decoded, in order.

        Check `error` afterwards: frames before a break are still returned.

        The framing loop is Framer.feed's, written out here so that each header
        is unpacked once, for its length and for its triple at the same time
        (keep the two in step: the framing tests run against both).
        """
        framer = self._framer
        buffer = framer.take(data)
        result: list[Inbound] = []
        append = result.append
        guid = self.guid
        versioned_header, basic_header = _VERSIONED, _BASIC
        limit = framer.max_frame_size
        position = 0
        end = len(buffer)
        try:
            while True:
                left = end - position
                if left >= VERSIONED_HEADER_SIZE:
                    command_source, flag, destination, length, version, sequence = versioned_header(
                        buffer, position
                    )
                elif left >= BASIC_HEADER_SIZE:
                    command_source, flag, destination, length = basic_header(buffer, position)
                    version, sequence = -1, 0
                else:
                    break
                if not BASIC_HEADER_SIZE <= length <= limit:
                    framer.broken(buffer, position, length)
                    break
                stop = position + length
                if stop > end:
                    break
                frame = buffer[position:stop]
                position = stop
                if version == PROTOCOL_VERSION and length >= VERSIONED_HEADER_SIZE:
                    # The two alerts, most of the traffic, go straight to the builder
                    # decode() would use and to their event reader. One call site per
                    # kind keeps each call monomorphic, which the interpreter rewards.
                    key = command_source | destination << 16
                    if key == _STATUS_CHANGE:
                        payload = frame[VERSIONED_HEADER_SIZE:]
                        message = _build_status_change(payload, flag, sequence)
                        event = status_event(payload, frame, guid)
                        append((frame, message, (event,), b""))
                        continue
                    if key == _NOTIFICATION:
                        payload = frame[VERSIONED_HEADER_SIZE:]
                        message = _build_notification(payload, flag, sequence)
                        event = notification_event(payload, frame, guid)
                        append((frame, message, (event,), b""))
                        continue
                message = decode_framed(
                    frame, command_source, flag, destination, length, version, sequence
                )
                if isinstance(message, Ping):
                    append((frame, message, (), frame))
                elif isinstance(message, Introduction):
                    reply = self._identify(message)
                    guid = self.guid
                    append((frame, message, (), reply))
                else:
                    append((frame, message, events_from(message, frame, guid), b""))
        finally:
            # Whatever happened to the frames taken, the rest of the stream stays in step.
            if framer.error is None:
                framer.keep(buffer, position)
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


_VERSIONED: Final = HEADER_AND_VERSION.unpack_from
_BASIC: Final = BASIC_HEADER_KEY.unpack_from
_STATUS_CHANGE: Final = header_key(StatusChange)
_NOTIFICATION: Final = header_key(Notification)
_build_status_change: Final = fast_builder(StatusChange)
_build_notification: Final = fast_builder(Notification)


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
