"""Byte layouts of the G90 cloud protocol: headers, codes and size limits.

Every integer is little-endian. A message starts with an 8-byte header whose
`length` field counts the whole message, header included; some messages
extend it with a 4-byte version and sequence ("versioned" header).
"""

from __future__ import annotations

from enum import IntEnum
import re
import struct
from typing import Final

BASIC_HEADER: Final = struct.Struct("<BBBBi")
VERSIONED_HEADER: Final = struct.Struct("<BBBBiHH")
BASIC_HEADER_SIZE: Final = BASIC_HEADER.size  # 8
VERSIONED_HEADER_SIZE: Final = VERSIONED_HEADER.size  # 12
LENGTH_FIELD: Final = struct.Struct("<i")
LENGTH_OFFSET: Final = 4

# The largest message a panel sends is a command response carrying one page
# of a list (sensors, history): a few hundred bytes of JSON, well under 2 KiB.
# 8 KiB leaves four times that as headroom while keeping a hostile length
# field from making us buffer more than a few pages of memory per connection.
MAX_FRAME_SIZE: Final = 8192
MAX_SKIP_SIZE: Final = 1 << 16
"""Longer frames are skipped as they arrive; a length beyond this is garbage, not a frame."""

PROTOCOL_VERSION: Final = 1

_IDENTITY: Final = re.compile(r"[!-~]+")


def is_identity(text: str) -> bool:
    """Whether a GUID or firmware version is visible ASCII (no space, no control byte).

    Identities end up in logs, file names and Home Assistant's registries: one
    made of anything else names nobody.
    """
    return _IDENTITY.fullmatch(text) is not None


DEFAULT_PORT: Final = 5678
"""The vendor cloud's TCP port, which panels connect to out of the box."""
VENDOR_CLOUD_IP: Final = "47.88.7.61"
"""The vendor cloud panels report to out of the box."""
ANY_IPV4: Final = "0.0.0.0"
"""Listen on every IPv4 interface."""
HEARTBEAT_SECONDS: Final = 60
"""Panels say hello about once a minute: the protocol's heartbeat."""

# Status change (cmd 0x21) payloads are 108 bytes whatever their kind. Kinds 3
# and 4 read `<BBBB32si`: kind, zone, type or source, state, name, time. Kind 2
# (`<BB34si`) has its code where the zone is and its time at the same offset,
# so the one layout reads every kind.
STATUS_CHANGE_SIZE: Final = 108
STATUS_ZONE: Final = struct.Struct("<BBBB32si")
STATUS_STATE: Final = struct.Struct("<BB34si")
STATUS_NAME_SIZE: Final = 32


class Command(IntEnum):
    """The first header byte."""

    HELLO = 0x01  # also ping and command response, told apart by direction
    STATUS_CHANGE = 0x21
    NOTIFICATION = 0x22
    COMMAND = 0x29
    HELLO_ACK = 0x41
    HELLO_INFO = 0x63


class Direction(IntEnum):
    """Source and destination codes (header bytes 1 and 3)."""

    UNSPECIFIED = 0x00
    DEVICE = 0x10
    CLOUD = 0x20
    DEVICE_DISCOVERY = 0x30
    CLOUD_COMMAND = 0x50
    CLOUD_DISCOVERY = 0xD0


class HeaderKind(IntEnum):
    """Which header a message carries."""

    BASIC = BASIC_HEADER_SIZE
    VERSIONED = VERSIONED_HEADER_SIZE


def pack_basic(command: int, source: int, destination: int, payload: bytes, flag: int = 0) -> bytes:
    """A message with a basic header."""
    return (
        BASIC_HEADER.pack(command, source, flag, destination, BASIC_HEADER_SIZE + len(payload))
        + payload
    )


def pack_versioned(
    command: int,
    source: int,
    destination: int,
    payload: bytes,
    *,
    sequence: int = 0,
    flag: int = 0,
    version: int = PROTOCOL_VERSION,
) -> bytes:
    """A message with a versioned header."""
    length = VERSIONED_HEADER_SIZE + len(payload)
    header = VERSIONED_HEADER.pack(command, source, flag, destination, length, version, sequence)
    return header + payload
