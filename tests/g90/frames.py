"""Frame builders for the tests, written from the protocol notes.

They use `struct` directly and none of the code under test, so a frame built
here is an independent statement of what the wire should hold.
"""

from __future__ import annotations

import struct

from .samples import GUID


def basic(
    command: int, source: int, destination: int, payload: bytes = b"", flag: int = 0
) -> bytes:
    """A frame with the 8-byte header."""
    return struct.pack("<BBBBi", command, source, flag, destination, 8 + len(payload)) + payload


def versioned(
    command: int,
    source: int,
    destination: int,
    payload: bytes = b"",
    *,
    sequence: int = 0,
    version: int = 1,
    flag: int = 0,
) -> bytes:
    """A frame with the 12-byte header."""
    header = struct.pack(
        "<BBBBiHH", command, source, flag, destination, 12 + len(payload), version, sequence
    )
    return header + payload


def with_length(frame: bytes, length: int) -> bytes:
    """The frame with its length field overwritten (to make it lie)."""
    return frame[:4] + struct.pack("<i", length) + frame[8:]


def fix_length(frame: bytes) -> bytes:
    """The frame with its length field set to its real length (needs 8+ bytes)."""
    return with_length(frame, len(frame))


def status(payload: bytes) -> bytes:
    """A status change (0x21, device to cloud) carrying this payload."""
    return versioned(0x21, 0x10, 0x20, payload)


def notification(body: bytes) -> bytes:
    """A notification (0x22, device to cloud) carrying this body as is."""
    return versioned(0x22, 0x10, 0x20, body)


def json_notification(text: str) -> bytes:
    """A notification carrying this JSON text, UTF-8, and its NUL."""
    return notification(text.encode("utf-8") + b"\0")


def state_change(code: int, timestamp: int, leftover: bytes = b"") -> bytes:
    """Kind 2 payload framed: `<BB34si` padded to 108 bytes."""
    return status(struct.pack("<BB34si", 2, code, leftover, timestamp).ljust(108, b"\0"))


def zone_status(
    kind: int,
    zone: int,
    type_or_source: int,
    state: int,
    *,
    name: bytes = b"Zone",
    timestamp: int = 1737794080,
) -> bytes:
    """Kind 3/4 payload framed: `<BBBB32si` padded to 108 bytes."""
    head = struct.pack("<BBBB32si", kind, zone, type_or_source, state, name, timestamp)
    return status(head.ljust(108, b"\0"))


def hello_payload(
    guid: bytes = GUID.encode(),
    firmware: bytes = b"207",
    numbers: tuple[int, ...] = (0,) * 10,
    pads: tuple[int, int] = (0, 0),
) -> bytes:
    """`<15sx4i3sx{n}i` with explicit pad bytes."""
    after = len(numbers) - 4
    return struct.pack(
        f"<15sB4i3sB{after}i", guid, pads[0], *numbers[:4], firmware, pads[1], *numbers[4:]
    )
