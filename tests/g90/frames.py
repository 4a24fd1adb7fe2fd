"""Frame builders for every test, written from the protocol notes.

They use `struct` directly and none of the code under test, so a frame built
here is an independent statement of what the wire should hold. The protocol
tests, the listener tests (tests/g90/aio) and the Home Assistant tests all
build their frames here; so are the notes' numbers (panel states, alert
sources, peripheral types) written out here, not taken from the code.
"""

from __future__ import annotations

from enum import IntEnum
import struct
from typing import Final

from .samples import GUID

SAMPLE_TIME: Final = 1737794080
"""2025-01-25 08:34:40 UTC, the panel time of the notes' samples: the default event time."""


class AlertSource(IntEnum):
    """Alert sources of a sensor activity (kind 4), as the notes list them."""

    PANEL = 0
    SENSOR = 1
    TAMPER = 3
    INFRARED = 8
    REMOTE = 10
    RFID = 11
    DOORBELL = 12
    FINGERPRINT = 15


class PeripheralType(IntEnum):
    """Peripheral types of an alarm (kind 3), as the notes list them."""

    DOOR = 1
    GLASS_BREAK = 2
    GAS = 3
    SMOKE = 4
    SOS_BUTTON = 5
    VIBRATION = 6
    WATER = 7
    INFRARED = 8
    INFRARED_BEAM = 9
    REMOTE = 10
    RFID = 11
    DOORBELL = 12
    BUTTON = 13
    WATCH = 14
    FINGERPRINT = 15
    SUB_HOST = 16
    REMOTE_2_4G = 17
    GAS_VALVE = 18
    WIRED_ZONE = 126
    WIRED_DEVICE = 254
    UNKNOWN = 255


PANEL_STATES: Final = {
    "ac_power_failure": 1,
    "ac_power_restored": 2,
    "disarmed": 3,
    "armed_away": 4,
    "armed_home": 5,
    "panel_low_battery": 6,
    "wifi_connected": 7,
    "wifi_disconnected": 8,
}
"""State change codes (kind 2), by the name of the event they are."""

# --- headers ---------------------------------------------------------------------------


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


def triple(frame: bytes) -> tuple[int, int, int]:
    """(command, source, destination) of a frame."""
    return frame[0], frame[1], frame[3]


# --- from the panel ----------------------------------------------------------------------

PING: Final = basic(0x01, 0x10, 0x00)


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


def hello(guid: str = GUID, firmware: str = "207", numbers: tuple[int, ...] = (0,) * 10) -> bytes:
    """The panel's hello: GUID, four numbers, firmware, six numbers."""
    return versioned(0x01, 0x10, 0x20, hello_payload(guid.encode(), firmware.encode(), numbers))


def discovery(guid: str = GUID, firmware: str = "207") -> bytes:
    """The panel's hello (discovery): GUID, four numbers, firmware, three numbers."""
    payload = hello_payload(guid.encode(), firmware.encode(), (0, 0, 1, 0, 0, 0, 0))
    return versioned(0x01, 0x30, 0x20, payload)


def status(payload: bytes) -> bytes:
    """A status change (0x21, device to cloud) carrying this payload."""
    return versioned(0x21, 0x10, 0x20, payload)


def state_change(code: int, timestamp: int = SAMPLE_TIME, leftover: bytes = b"") -> bytes:
    """Kind 2 payload framed: `<BB34si` padded to 108 bytes."""
    return status(struct.pack("<BB34si", 2, code, leftover, timestamp).ljust(108, b"\0"))


def panel_state(state: int | str, when: int = SAMPLE_TIME) -> bytes:
    """A kind 2 status change: `state` is its code, or its name in PANEL_STATES."""
    return state_change(PANEL_STATES[state] if isinstance(state, str) else state, when)


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


def alarm(
    zone: int, name: str, peripheral_type: int, state: int = 1, when: int = SAMPLE_TIME
) -> bytes:
    """A kind 3 status change: an alarm raised by a zone (state 3: its tamper switch)."""
    return zone_status(3, zone, peripheral_type, state, name=name.encode(), timestamp=when)


def activity(
    zone: int, name: str, source: int = 1, state: int = 1, when: int = SAMPLE_TIME
) -> bytes:
    """A kind 4 status change: a zone's sensor, remote, keypad or doorbell did something.

    Source 1 state 1 (the defaults): a door opens.
    """
    return zone_status(4, zone, source, state, name=name.encode(), timestamp=when)


def notification(body: bytes) -> bytes:
    """A notification (0x22, device to cloud) carrying this body as is."""
    return versioned(0x22, 0x10, 0x20, body)


def json_notification(text: str) -> bytes:
    """A notification carrying this JSON text, UTF-8, and its NUL."""
    return notification(text.encode("utf-8") + b"\0")


def command_response(sequence: int, code: int, text: str) -> bytes:
    """The panel's answer to a cloud command."""
    head = struct.pack("<HiHiHH", 1, sequence, 0, sequence, code, code)
    return basic(0x01, 0x00, 0x20, head + text.encode() + b"\0")


# --- from the cloud ----------------------------------------------------------------------


def hello_reply(port: int) -> bytes:
    """The cloud's three-message answer to hello, announcing `port`."""
    return (
        versioned(0x41, 0x20, 0x10, b"\x01", sequence=1)
        + versioned(0x01, 0x20, 0x10, b"\x1f", sequence=2)
        + versioned(0x63, 0x20, 0x10, struct.pack("<i", port), sequence=3)
    )


def discovery_reply(ip: str, port: int, now: int) -> bytes:
    """The cloud's answer to hello (discovery): where the cloud is, and its clock."""
    return versioned(0x01, 0xD0, 0x10, struct.pack("<16s4i", ip.encode(), 0, 0, port, now))


def cloud_command(code: int, sequence: int, body: bytes = b"\0") -> bytes:
    """A command from the cloud (0x29)."""
    return versioned(
        0x29, 0x50, 0x10, struct.pack("<HHHi", 2, code, code, 5) + body, sequence=sequence
    )
