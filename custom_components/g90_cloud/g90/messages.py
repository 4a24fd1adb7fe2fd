"""The messages of the G90 cloud protocol, both ways, as typed values.

`decode(frame)` looks the header's (command, source, destination) triple up
in one table and builds that message; it never raises. A triple nobody knows
becomes `Unknown`, a known triple whose content does not fit its layout
becomes `Malformed`; both keep the raw frame. `message.encode()` gives the
bytes back: for every well-formed frame, `decode(frame).encode() == frame`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import struct
from typing import ClassVar, Final, Self

from .wire import (
    BASIC_HEADER,
    BASIC_HEADER_SIZE,
    PROTOCOL_VERSION,
    STATUS_CHANGE_SIZE,
    STATUS_NAME_SIZE,
    STATUS_STATE,
    STATUS_ZONE,
    VERSIONED_HEADER,
    VERSIONED_HEADER_SIZE,
    Command,
    Direction,
    HeaderKind,
    pack_basic,
    pack_versioned,
)

# The notes' `<15sx4i3sx6i` and `<15sx4i3sx3i`, with the pad bytes read as `c`
# so that a non-zero pad byte survives the round trip.
_HELLO: Final = struct.Struct("<15sc4i3sc6i")
_HELLO_DISCOVERY: Final = struct.Struct("<15sc4i3sc3i")
_COMMAND_RESPONSE_HEAD: Final = struct.Struct("<HiHiHH")
_COMMAND_HEAD: Final = struct.Struct("<HHHi")
_INT32: Final = struct.Struct("<i")
_DISCOVERY_REPLY: Final = struct.Struct("<16s4i")


class MessageDecodeError(ValueError):
    """A known message whose payload does not fit its layout."""


def _text(raw: bytes) -> str:
    """A NUL-padded ASCII field; odd bytes survive a round trip (surrogateescape)."""
    return raw.rstrip(b"\0").decode("ascii", "surrogateescape")


def _untext(text: str, size: int) -> bytes:
    raw = text.encode("ascii", "surrogateescape")
    if len(raw) > size:
        raise MessageDecodeError(f"{text!r} is longer than {size} bytes")
    return raw.ljust(size, b"\0")


@dataclass(frozen=True, slots=True)
class Message:
    """A G90 cloud protocol message; subclasses fix the header triple."""

    NAME: ClassVar[str]
    COMMAND: ClassVar[int]
    SOURCE: ClassVar[int]
    DESTINATION: ClassVar[int]
    HEADER: ClassVar[HeaderKind]
    ANY_PAYLOAD: ClassVar[bool] = False
    """Every payload is valid (kept as it is): the header alone identifies the message."""

    flag: int = field(default=0, kw_only=True)
    """Header byte 2, meaning unknown, seen as 0; kept so encoding is exact."""

    def payload(self) -> bytes:
        """The bytes after the header."""
        raise NotImplementedError

    def encode(self) -> bytes:
        """The whole message as sent on the wire."""
        return pack_basic(
            self.COMMAND, self.SOURCE, self.DESTINATION, self.payload(), flag=self.flag
        )

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """Build the message from its payload; raise MessageDecodeError if it does not fit."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class VersionedMessage(Message):
    """A message with the 12-byte header (version 1 and a sequence number)."""

    HEADER = HeaderKind.VERSIONED

    sequence: int = field(default=0, kw_only=True)
    """0 for a lone message; 1, 2, 3 for the parts of a multi-message reply."""

    def encode(self) -> bytes:
        """The whole message as sent on the wire."""
        return pack_versioned(
            self.COMMAND,
            self.SOURCE,
            self.DESTINATION,
            self.payload(),
            sequence=self.sequence,
            flag=self.flag,
        )


# --- panel to cloud ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ping(Message):
    """The panel's keep-alive; the cloud echoes it."""

    NAME = "ping"
    COMMAND = Command.HELLO
    SOURCE = Direction.DEVICE
    DESTINATION = Direction.UNSPECIFIED
    HEADER = HeaderKind.BASIC
    ANY_PAYLOAD = True

    trailing: bytes = b""
    """Payload bytes (none seen so far), kept as they are."""

    def payload(self) -> bytes:
        """Nothing, normally."""
        return self.trailing

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """Any payload is kept."""
        return cls(payload, flag=flag)


def _unpack_hello(
    layout: struct.Struct, payload: bytes
) -> tuple[str, str, tuple[int, ...], bytes, bytes]:
    if len(payload) < layout.size:
        raise MessageDecodeError(f"payload is {len(payload)} bytes, expected {layout.size}")
    values = layout.unpack_from(payload)
    return (
        _text(values[0]),
        _text(values[6]),
        values[2:6] + values[8:],
        payload[layout.size :],
        values[1] + values[7],
    )


def _pack_hello(
    layout: struct.Struct, guid: str, firmware: str, numbers: tuple[int, ...], padding: bytes
) -> bytes:
    return layout.pack(
        _untext(guid, 15),
        padding[0:1],
        *numbers[:4],
        _untext(firmware, 3),
        padding[1:2],
        *numbers[4:],
    )


@dataclass(frozen=True, slots=True)
class Introduction(VersionedMessage):
    """What hello and hello (discovery) share: who the panel is, and its firmware."""

    LAYOUT: ClassVar[struct.Struct]

    guid: str
    firmware: str
    numbers: tuple[int, ...] = ()
    """The int32 fields of unknown meaning: four before the firmware, the rest after."""
    trailing: bytes = b""
    """Bytes past the known layout (none seen so far), kept as they are."""
    padding: bytes = bytes(2)
    """The pad bytes after the GUID and after the firmware (seen as 0), kept as they are."""

    def payload(self) -> bytes:
        """The layout, then any trailing bytes."""
        return (
            _pack_hello(self.LAYOUT, self.guid, self.firmware, self.numbers, self.padding)
            + self.trailing
        )

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """GUID, firmware, unknown numbers."""
        guid, firmware, numbers, trailing, padding = _unpack_hello(cls.LAYOUT, payload)
        return cls(guid, firmware, numbers, trailing, padding, flag=flag, sequence=sequence)


@dataclass(frozen=True, slots=True)
class Hello(Introduction):
    """The panel introduces itself; about once a minute, so it is the heartbeat too."""

    NAME = "hello"
    COMMAND = Command.HELLO
    SOURCE = Direction.DEVICE
    DESTINATION = Direction.CLOUD
    LAYOUT = _HELLO  # <15sx4i3sx6i>

    numbers: tuple[int, ...] = (0,) * 10


@dataclass(frozen=True, slots=True)
class HelloDiscovery(Introduction):
    """The panel asks where the cloud is (after a restart or a server change)."""

    NAME = "hello_discovery"
    COMMAND = Command.HELLO
    SOURCE = Direction.DEVICE_DISCOVERY
    DESTINATION = Direction.CLOUD
    LAYOUT = _HELLO_DISCOVERY  # <15sx4i3sx3i>

    numbers: tuple[int, ...] = (0,) * 7


@dataclass(frozen=True, slots=True)
class StatusChange(VersionedMessage):
    """A binary alert: panel state change (kind 2), alarm (3) or sensor activity (4).

    The payload is kept whole (kind 2 carries leftover bytes that must survive
    a round trip); `events.py` reads its fields by kind.
    """

    NAME = "status_change"
    COMMAND = Command.STATUS_CHANGE
    SOURCE = Direction.DEVICE
    DESTINATION = Direction.CLOUD
    ANY_PAYLOAD = True

    data: bytes

    @property
    def kind(self) -> int | None:
        """The first payload byte, or None for an empty payload."""
        return self.data[0] if self.data else None

    def payload(self) -> bytes:
        """The payload as received."""
        return self.data

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """Any payload is kept; its meaning is read by kind later."""
        return cls(payload, flag=flag, sequence=sequence)

    @classmethod
    def panel_state(cls, code: int, timestamp: int, leftover: bytes = b"") -> Self:
        """Kind 2: the panel's state changed (armed, AC power, WiFi...)."""
        head = STATUS_STATE.pack(2, code, leftover, timestamp)
        return cls(head.ljust(STATUS_CHANGE_SIZE, b"\0"))

    @classmethod
    def zone(
        cls, kind: int, *, zone: int, type_or_source: int, state: int, name: str, timestamp: int
    ) -> Self:
        """Kind 3 (alarm: peripheral type) or 4 (sensor activity: alert source)."""
        encoded = name.encode("utf-8")[:STATUS_NAME_SIZE]
        head = STATUS_ZONE.pack(kind, zone, type_or_source, state, encoded, timestamp)
        return cls(head.ljust(STATUS_CHANGE_SIZE, b"\0"))


@dataclass(frozen=True, slots=True)
class Notification(VersionedMessage):
    """A JSON notification `[code, data]` followed by one NUL byte.

    The body is kept as received; `events.py` parses it, so malformed text is
    an error of that event only.
    """

    NAME = "notification"
    COMMAND = Command.NOTIFICATION
    SOURCE = Direction.DEVICE
    DESTINATION = Direction.CLOUD
    ANY_PAYLOAD = True

    body: bytes

    def payload(self) -> bytes:
        """The body as received."""
        return self.body

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """Any body is kept."""
        return cls(payload, flag=flag, sequence=sequence)

    @classmethod
    def from_text(cls, text: str) -> Self:
        """A notification carrying this JSON text."""
        return cls(text.encode("utf-8") + b"\0")


@dataclass(frozen=True, slots=True)
class CommandResponse(Message):
    """The panel's answer to a cloud command, matched by sequence number."""

    NAME = "command_response"
    COMMAND = Command.HELLO
    SOURCE = Direction.UNSPECIFIED
    DESTINATION = Direction.CLOUD
    HEADER = HeaderKind.BASIC

    sequence: int
    code: int
    body: bytes = b"\0"
    """JSON text and its NUL, as received."""
    lead: int = 1
    reserved: int = 0
    sequence_again: int | None = None
    code_again: int | None = None

    def payload(self) -> bytes:
        """`<HiHiHH` then the body."""
        again = self.sequence if self.sequence_again is None else self.sequence_again
        code_again = self.code if self.code_again is None else self.code_again
        return (
            _COMMAND_RESPONSE_HEAD.pack(
                self.lead, self.sequence, self.reserved, again, self.code, code_again
            )
            + self.body
        )

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """Sequence, command code, JSON body."""
        if len(payload) < _COMMAND_RESPONSE_HEAD.size:
            raise MessageDecodeError(
                f"payload is {len(payload)} bytes, expected at least {_COMMAND_RESPONSE_HEAD.size}"
            )
        lead, seq, reserved, seq_again, code, code_again = _COMMAND_RESPONSE_HEAD.unpack_from(
            payload
        )
        return cls(
            seq,
            code,
            payload[_COMMAND_RESPONSE_HEAD.size :],
            lead,
            reserved,
            None if seq_again == seq else seq_again,
            None if code_again == code else code_again,
            flag=flag,
        )


# --- cloud to panel ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CloudCommand(VersionedMessage):
    """A command from the real cloud (e.g. 100 host status, 200 history)."""

    NAME = "command"
    COMMAND = Command.COMMAND
    SOURCE = Direction.CLOUD_COMMAND
    DESTINATION = Direction.DEVICE

    code: int
    body: bytes = b"\0"
    """JSON arguments and their NUL (a lone NUL when there are none)."""
    lead: int = 2
    tail: int = 5
    code_again: int | None = None

    def payload(self) -> bytes:
        """`<HHHi` then the body."""
        code_again = self.code if self.code_again is None else self.code_again
        return _COMMAND_HEAD.pack(self.lead, self.code, code_again, self.tail) + self.body

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """Command code and JSON body."""
        if len(payload) < _COMMAND_HEAD.size:
            raise MessageDecodeError(
                f"payload is {len(payload)} bytes, expected at least {_COMMAND_HEAD.size}"
            )
        lead, code, code_again, tail = _COMMAND_HEAD.unpack_from(payload)
        return cls(
            code,
            payload[_COMMAND_HEAD.size :],
            lead,
            tail,
            None if code_again == code else code_again,
            flag=flag,
            sequence=sequence,
        )


def _single_byte(payload: bytes) -> int:
    if len(payload) != 1:
        raise MessageDecodeError(f"payload is {len(payload)} bytes, expected 1")
    return payload[0]


@dataclass(frozen=True, slots=True)
class OneByteReply(VersionedMessage):
    """A reply to hello whose payload is one byte."""

    value: int = 0

    def payload(self) -> bytes:
        """One byte."""
        return bytes((self.value,))

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """One byte."""
        return cls(_single_byte(payload), flag=flag, sequence=sequence)


@dataclass(frozen=True, slots=True)
class HelloAck(OneByteReply):
    """First of the cloud's three replies to hello."""

    NAME = "hello_ack"
    COMMAND = Command.HELLO_ACK
    SOURCE = Direction.CLOUD
    DESTINATION = Direction.DEVICE

    value: int = 0x01


@dataclass(frozen=True, slots=True)
class HelloReply(OneByteReply):
    """Second of the cloud's three replies to hello."""

    NAME = "hello_reply"
    COMMAND = Command.HELLO
    SOURCE = Direction.CLOUD
    DESTINATION = Direction.DEVICE

    value: int = 0x1F


@dataclass(frozen=True, slots=True)
class HelloInfo(VersionedMessage):
    """Third reply to hello: the port the panel should use (the announced cloud port)."""

    NAME = "hello_info"
    COMMAND = Command.HELLO_INFO
    SOURCE = Direction.CLOUD
    DESTINATION = Direction.DEVICE

    port: int

    def payload(self) -> bytes:
        """One int32."""
        return _INT32.pack(self.port)

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """One int32."""
        if len(payload) != _INT32.size:
            raise MessageDecodeError(f"payload is {len(payload)} bytes, expected 4")
        return cls(_INT32.unpack(payload)[0], flag=flag, sequence=sequence)


@dataclass(frozen=True, slots=True)
class DiscoveryReply(VersionedMessage):
    """The cloud's reply to hello (discovery): where the cloud is, and the time."""

    NAME = "discovery_reply"
    COMMAND = Command.HELLO
    SOURCE = Direction.CLOUD_DISCOVERY
    DESTINATION = Direction.DEVICE

    ip: str
    port: int
    timestamp: int
    reserved: tuple[int, int] = (0, 0)

    def payload(self) -> bytes:
        """`<16s4i`: IP text, two zeros, port, Unix time."""
        return _DISCOVERY_REPLY.pack(
            _untext(self.ip, 16), *self.reserved, self.port, self.timestamp
        )

    @classmethod
    def from_payload(cls, payload: bytes, flag: int, sequence: int) -> Self:
        """`<16s4i`."""
        if len(payload) != _DISCOVERY_REPLY.size:
            raise MessageDecodeError(
                f"payload is {len(payload)} bytes, expected {_DISCOVERY_REPLY.size}"
            )
        ip, first, second, port, timestamp = _DISCOVERY_REPLY.unpack(payload)
        return cls(_text(ip), port, timestamp, (first, second), flag=flag, sequence=sequence)


# --- what is not understood -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unknown(Message):
    """A well-framed message whose header triple nobody has described yet."""

    NAME = "unknown"
    HEADER = HeaderKind.BASIC

    raw: bytes

    @property
    def triple(self) -> tuple[int, int, int]:
        """(command, source, destination)."""
        return self.raw[0], self.raw[1], self.raw[3]

    def encode(self) -> bytes:
        """The frame as received."""
        return self.raw


@dataclass(frozen=True, slots=True)
class Malformed(Message):
    """A frame that cannot be the message its header announces; kept with the reason."""

    NAME = "malformed"
    HEADER = HeaderKind.BASIC

    raw: bytes
    reason: str

    def encode(self) -> bytes:
        """The frame as received."""
        return self.raw


MESSAGE_TYPES: Final[tuple[type[Message], ...]] = (
    Ping,
    Hello,
    HelloDiscovery,
    StatusChange,
    Notification,
    CommandResponse,
    CloudCommand,
    HelloAck,
    HelloReply,
    HelloInfo,
    DiscoveryReply,
)

_TABLE: Final[dict[tuple[int, int, int], type[Message]]] = {
    (kind.COMMAND, kind.SOURCE, kind.DESTINATION): kind for kind in MESSAGE_TYPES
}


def message_type(command: int, source: int, destination: int) -> type[Message] | None:
    """The message a header triple announces, if known."""
    return _TABLE.get((command, source, destination))


def _read_header(frame: bytes) -> tuple[type[Message], int, int] | Unknown | Malformed:
    """(message type, flag, sequence) from a frame's header, or what the frame is instead."""
    size = len(frame)
    if size >= VERSIONED_HEADER_SIZE:  # the version and sequence are read only if it has them
        command, source, flag, destination, length, version, sequence = (
            VERSIONED_HEADER.unpack_from(frame)
        )
    elif size >= BASIC_HEADER_SIZE:
        command, source, flag, destination, length = BASIC_HEADER.unpack_from(frame)
        version = sequence = 0
    else:
        return Malformed(frame, f"{size} bytes, shorter than a header")
    if length != size:
        return Malformed(frame, f"length field {length} but the frame has {size} bytes")
    kind = _TABLE.get((command, source, destination))
    if kind is None:
        return Unknown(frame, flag=flag)
    if kind.HEADER is HeaderKind.BASIC:
        return kind, flag, 0
    if size < VERSIONED_HEADER_SIZE:
        return Malformed(frame, f"{kind.NAME}: {size} bytes, shorter than a versioned header")
    if version != PROTOCOL_VERSION:
        return Malformed(frame, f"{kind.NAME}: protocol version {version}, expected 1")
    return kind, flag, sequence


def identify(frame: bytes) -> type[Message]:
    """The message a whole frame holds, from its header alone (no payload is read).

    Final for the messages that take any payload (`ANY_PAYLOAD`); for the
    others only `decode` can tell that a payload does not fit (`Malformed`).
    """
    header = _read_header(frame)
    return header[0] if isinstance(header, tuple) else type(header)


def decode(frame: bytes) -> Message:
    """One whole frame (as the framer yields it) to a message. Never raises."""
    header = _read_header(frame)
    if not isinstance(header, tuple):
        return header
    kind, flag, sequence = header
    try:
        return kind.from_payload(frame[kind.HEADER :], flag, sequence)
    except (MessageDecodeError, struct.error) as err:
        return Malformed(frame, f"{kind.NAME}: {err}")
