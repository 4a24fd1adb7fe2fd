"""Message table: the notes' samples decode to the right typed values and encode back."""

from __future__ import annotations

import pytest

from custom_components.g90_cloud.g90.messages import (
    MESSAGE_TYPES,
    CloudCommand,
    CommandResponse,
    DiscoveryReply,
    Hello,
    HelloAck,
    HelloDiscovery,
    HelloInfo,
    HelloReply,
    Malformed,
    Message,
    MessageDecodeError,
    Notification,
    Ping,
    StatusChange,
    Unknown,
    decode,
    identify,
    message_type,
)
from custom_components.g90_cloud.g90.wire import HeaderKind

from . import samples
from .frames import basic, hello_payload, versioned, with_length
from .samples import GUID

HELLO_NUMBERS = (0, 0, 2, 28672, 536918616, 48, 0, 7, 30, 30)
DISCOVERY_NUMBERS = (0, 0, 1, 28672, 84215045, 101056560, 117901063)
DISARMED_PAYLOAD = bytes.fromhex(
    "02 03 37 30 2c 5b 31 2c 5b 33 5d 5d 5d 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 20 a2 94 67"
) + bytes(68)
DOOR_OPEN_PAYLOAD = (
    bytes.fromhex("04 20 01 01") + b"Cord 1" + bytes(26) + bytes.fromhex("b1 30 a2 67") + bytes(68)
)
RESPONSE_BODY = b"[106,[900,0,0,1,2,2,60,2,0,180,2]]\0"


# --- samples -------------------------------------------------------------------


def test_hello_sample() -> None:
    message = decode(samples.HELLO)
    assert type(message) is Hello
    assert message.guid == "GA00000A0000000"
    assert message.firmware == "207"
    assert message.numbers == HELLO_NUMBERS
    assert message.sequence == 0
    assert message.flag == 0
    assert message.trailing == b""
    assert message.padding == b"\0\0"
    assert message == Hello("GA00000A0000000", "207", HELLO_NUMBERS)


def test_hello_discovery_sample() -> None:
    message = decode(samples.HELLO_DISCOVERY)
    assert type(message) is HelloDiscovery
    assert message.guid == "GA00000A0000000"
    assert message.firmware == "207"
    assert message.numbers == DISCOVERY_NUMBERS
    assert message.sequence == 0
    assert message == HelloDiscovery("GA00000A0000000", "207", DISCOVERY_NUMBERS)


def test_ping_sample() -> None:
    message = decode(samples.PING)
    assert message == Ping()
    assert message.trailing == b""
    assert message.flag == 0


def test_status_disarmed_sample() -> None:
    message = decode(samples.STATUS_DISARMED)
    assert type(message) is StatusChange
    assert message.kind == 2
    assert len(message.data) == 108
    assert message.data == DISARMED_PAYLOAD
    assert message.sequence == 0


def test_status_door_open_sample() -> None:
    message = decode(samples.STATUS_DOOR_OPEN)
    assert type(message) is StatusChange
    assert message.kind == 4
    assert message.data == DOOR_OPEN_PAYLOAD


def test_notification_sample() -> None:
    message = decode(samples.NOTIFICATION_ACTIVITY)
    assert type(message) is Notification
    assert message.body == b'[170,[5,[101,"Cord 1"]]]\0'
    assert message.sequence == 0


def test_command_response_sample() -> None:
    message = decode(samples.COMMAND_RESPONSE)
    assert type(message) is CommandResponse
    assert message.sequence == 6
    assert message.code == 106
    assert message.body == RESPONSE_BODY
    assert message.lead == 1
    assert message.reserved == 0
    assert message.sequence_again is None  # same as sequence
    assert message.code_again is None  # same as code


def test_cloud_command_sample() -> None:
    message = decode(samples.CLOUD_COMMAND)
    assert type(message) is CloudCommand
    assert message.code == 100
    assert message.sequence == 6
    assert message.body == b"\0"
    assert message.lead == 2
    assert message.tail == 5
    assert message.code_again is None


def test_hello_reply_samples() -> None:
    ack, reply, info = (decode(frame) for frame in samples.ALL_SAMPLES[-3:])
    assert ack == HelloAck(1, sequence=1)
    assert reply == HelloReply(0x1F, sequence=2)
    assert info == HelloInfo(5678, sequence=3)


@pytest.mark.parametrize("frame", samples.ALL_SAMPLES)
def test_every_sample_encodes_back(frame: bytes) -> None:
    message = decode(frame)
    assert not isinstance(message, (Unknown, Malformed))
    assert message.encode() == frame


# --- building frames from fields ---------------------------------------------------


def test_samples_built_from_fields() -> None:
    """Encoding typed values gives the captured bytes exactly."""
    assert Hello(GUID, "207", HELLO_NUMBERS).encode() == samples.HELLO
    assert HelloDiscovery(GUID, "207", DISCOVERY_NUMBERS).encode() == samples.HELLO_DISCOVERY
    assert Ping().encode() == samples.PING
    leftover = b"70,[1,[3]]]"
    assert StatusChange.panel_state(3, 1737794080, leftover).encode() == samples.STATUS_DISARMED
    door = StatusChange.zone(
        4, zone=32, type_or_source=1, state=1, name="Cord 1", timestamp=0x67A230B1
    )
    assert door.encode() == samples.STATUS_DOOR_OPEN
    note = Notification.from_text('[170,[5,[101,"Cord 1"]]]')
    assert note.encode() == samples.NOTIFICATION_ACTIVITY
    assert CommandResponse(6, 106, RESPONSE_BODY).encode() == samples.COMMAND_RESPONSE
    assert CloudCommand(100, sequence=6).encode() == samples.CLOUD_COMMAND
    assert HelloAck(sequence=1).encode() == samples.HELLO_REPLY_5678[:13]
    assert HelloReply(sequence=2).encode() == samples.HELLO_REPLY_5678[13:26]
    assert HelloInfo(5678, sequence=3).encode() == samples.HELLO_REPLY_5678[26:]


def test_cloud_side_frames_from_fields() -> None:
    assert HelloAck(7, sequence=9, flag=3).encode() == bytes.fromhex(
        "41 20 03 10 0d 00 00 00 01 00 09 00 07"
    )
    assert HelloReply(0x20).encode() == bytes.fromhex("01 20 00 10 0d 00 00 00 01 00 00 00 20")
    assert HelloInfo(-2).encode() == bytes.fromhex(
        "63 20 00 10 10 00 00 00 01 00 00 00 fe ff ff ff"
    )
    assert DiscoveryReply("10.0.0.2", 5678, 1737794080).encode() == bytes.fromhex(
        "01 d0 00 10 2c 00 00 00 01 00 00 00"
        "31 30 2e 30 2e 30 2e 32 00 00 00 00 00 00 00 00"
        "00 00 00 00 00 00 00 00 2e 16 00 00 20 a2 94 67"
    )
    history = CloudCommand(200, b"[200,[1,10]]\0", sequence=7).encode()
    assert (
        history
        == bytes.fromhex("29 50 00 10 23 00 00 00 01 00 07 00 02 00 c8 00 c8 00 05 00 00 00")
        + b"[200,[1,10]]\0"
    )


FROM_FIELDS: list[Message] = [
    Ping(),
    Ping(b"\x01\x02", flag=9),
    Hello(GUID, "207", HELLO_NUMBERS, sequence=4, flag=1),
    Hello("", "", tuple(range(-5, 5)), b"extra", b"\x07\x08"),
    HelloDiscovery(GUID, "207", DISCOVERY_NUMBERS),
    HelloDiscovery("X", "1", tuple(range(7)), b"\xff", b"\x00\x09", sequence=65535),
    StatusChange(DISARMED_PAYLOAD),
    StatusChange(b"", sequence=2),
    StatusChange.panel_state(8, 1),
    StatusChange.zone(3, zone=255, type_or_source=17, state=3, name="Küche", timestamp=-1),
    Notification(b"[170,[8]]\0", flag=255),
    Notification(b""),
    Notification.from_text('[208,[1,0,0,0,"","X",1,0,0]]'),
    CommandResponse(6, 106, RESPONSE_BODY),
    CommandResponse(-1, 65535, b"", 0, 65535, 7, 8, flag=2),
    CloudCommand(100),
    CloudCommand(0, b"[1]\0", 0, -3, 9, sequence=3),
    HelloAck(),
    HelloAck(255, sequence=1),
    HelloReply(),
    HelloReply(0, sequence=2),
    HelloInfo(5678, sequence=3),
    HelloInfo(2**31 - 1),
    DiscoveryReply("192.168.1.10", 15678, 1737794080),
    DiscoveryReply("255.255.255.255", 0, -1, (3, -4), sequence=5),
    DiscoveryReply("", 1, 2),
]


@pytest.mark.parametrize("message", FROM_FIELDS, ids=lambda m: type(m).__name__)
def test_encode_decode_round_trip(message: Message) -> None:
    frame = message.encode()
    assert decode(frame) == message
    assert decode(frame).encode() == frame


def test_status_change_helpers() -> None:
    assert StatusChange(b"").kind is None
    long_name = StatusChange.zone(4, zone=1, type_or_source=1, state=0, name="N" * 40, timestamp=5)
    assert long_name.data[4:36] == b"N" * 32
    assert long_name.data[36:40] == b"\x05\0\0\0"
    assert len(long_name.data) == 108


def test_fields_that_do_not_fit_refuse_to_encode() -> None:
    with pytest.raises(MessageDecodeError):
        Hello("G" * 16, "207").encode()
    with pytest.raises(MessageDecodeError):
        HelloDiscovery(GUID, "2071").encode()
    with pytest.raises(MessageDecodeError):
        DiscoveryReply("1234:5678:9abc:def0::1", 1, 2).encode()


# --- the table ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("triple", "expected", "header"),
    [
        ((0x01, 0x10, 0x00), Ping, HeaderKind.BASIC),
        ((0x01, 0x10, 0x20), Hello, HeaderKind.VERSIONED),
        ((0x01, 0x30, 0x20), HelloDiscovery, HeaderKind.VERSIONED),
        ((0x21, 0x10, 0x20), StatusChange, HeaderKind.VERSIONED),
        ((0x22, 0x10, 0x20), Notification, HeaderKind.VERSIONED),
        ((0x01, 0x00, 0x20), CommandResponse, HeaderKind.BASIC),
        ((0x29, 0x50, 0x10), CloudCommand, HeaderKind.VERSIONED),
        ((0x41, 0x20, 0x10), HelloAck, HeaderKind.VERSIONED),
        ((0x01, 0x20, 0x10), HelloReply, HeaderKind.VERSIONED),
        ((0x63, 0x20, 0x10), HelloInfo, HeaderKind.VERSIONED),
        ((0x01, 0xD0, 0x10), DiscoveryReply, HeaderKind.VERSIONED),
    ],
)
def test_message_table(
    triple: tuple[int, int, int], expected: type[Message], header: HeaderKind
) -> None:
    assert message_type(*triple) is expected
    assert expected.HEADER is header
    assert header == (12 if header is HeaderKind.VERSIONED else 8)


@pytest.mark.parametrize(
    "triple",
    [(0x99, 0x10, 0x20), (0x01, 0x20, 0x20), (0x21, 0x30, 0x20), (0x22, 0x10, 0x00), (0, 0, 0)],
)
def test_unknown_triples(triple: tuple[int, int, int]) -> None:
    assert message_type(*triple) is None
    for frame in (
        basic(*triple),
        basic(*triple, b"\x01\x02\x03", flag=5),
        versioned(*triple, b"{}\0", sequence=3, version=7),
    ):
        message = decode(frame)
        assert type(message) is Unknown
        assert message.raw == frame
        assert message.triple == triple
        assert message.flag == frame[2]
        assert message.encode() == frame


# --- malformed --------------------------------------------------------------------


def _assert_malformed(frame: bytes, reason: str) -> None:
    message = decode(frame)
    assert type(message) is Malformed
    assert message.raw == frame
    assert message.encode() == frame
    assert reason in message.reason


@pytest.mark.parametrize("version", [0, 2, 0xFFFF])
@pytest.mark.parametrize(
    "frame",
    [
        samples.HELLO,
        samples.HELLO_DISCOVERY,
        samples.STATUS_DISARMED,
        samples.NOTIFICATION_ACTIVITY,
        samples.CLOUD_COMMAND,
        *samples.ALL_SAMPLES[-3:],
    ],
)
def test_versioned_message_with_another_version(frame: bytes, version: int) -> None:
    changed = frame[:8] + version.to_bytes(2, "little") + frame[10:]
    _assert_malformed(changed, f"protocol version {version}, expected 1")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (versioned(0x01, 0x10, 0x20, hello_payload()[:59]), "hello: payload is 59 bytes"),
        (versioned(0x01, 0x10, 0x20), "hello: payload is 0 bytes, expected 60"),
        (
            versioned(0x01, 0x30, 0x20, hello_payload(numbers=(0,) * 7)[:47]),
            "hello_discovery: payload is 47 bytes, expected 48",
        ),
        (basic(0x01, 0x00, 0x20, bytes(15)), "command_response: payload is 15 bytes"),
        (basic(0x01, 0x00, 0x20), "expected at least 16"),
        (versioned(0x29, 0x50, 0x10, bytes(9)), "command: payload is 9 bytes"),
        (versioned(0x41, 0x20, 0x10), "hello_ack: payload is 0 bytes, expected 1"),
        (versioned(0x41, 0x20, 0x10, b"\x01\x01"), "hello_ack: payload is 2 bytes"),
        (versioned(0x01, 0x20, 0x10, b"\x1f\x00"), "hello_reply: payload is 2 bytes"),
        (versioned(0x63, 0x20, 0x10, b"\x2e\x16\x00"), "hello_info: payload is 3 bytes"),
        (versioned(0x63, 0x20, 0x10, bytes(5)), "hello_info: payload is 5 bytes, expected 4"),
        (versioned(0x01, 0xD0, 0x10, bytes(31)), "discovery_reply: payload is 31 bytes"),
        (versioned(0x01, 0xD0, 0x10, bytes(33)), "discovery_reply: payload is 33 bytes"),
    ],
)
def test_payload_does_not_fit(frame: bytes, reason: str) -> None:
    _assert_malformed(frame, reason)


@pytest.mark.parametrize(
    "triple",
    [
        (0x01, 0x10, 0x20),
        (0x01, 0x30, 0x20),
        (0x21, 0x10, 0x20),
        (0x22, 0x10, 0x20),
        (0x29, 0x50, 0x10),
        (0x41, 0x20, 0x10),
        (0x63, 0x20, 0x10),
    ],
)
def test_versioned_message_shorter_than_its_header(triple: tuple[int, int, int]) -> None:
    for extra in (b"", b"\x01", b"\x01\x00\x00"):
        _assert_malformed(basic(*triple, extra), "shorter than a versioned header")


@pytest.mark.parametrize("length", [0x47, 0x49, 0, 8, -72, 2**31 - 1])
def test_length_field_disagrees_with_frame(length: int) -> None:
    _assert_malformed(
        with_length(samples.HELLO, length), f"length field {length} but the frame has 72 bytes"
    )


def test_length_field_disagrees_on_unknown_triple() -> None:
    _assert_malformed(with_length(basic(0x99, 0, 0, b"abc"), 12), "length field 12")


@pytest.mark.parametrize("frame", [b"", b"\x01", b"\x01\x10\x00\x00\x08\x00\x00"])
def test_shorter_than_a_header(frame: bytes) -> None:
    _assert_malformed(frame, f"{len(frame)} bytes, shorter than a header")


def test_hello_keeps_odd_bytes() -> None:
    """Pad bytes, trailing bytes and non-ASCII text survive a round trip."""
    payload = hello_payload(b"GA\xff0000A000000\0\0", b"2\x80\0", HELLO_NUMBERS, (0x41, 0x42))
    frame = versioned(0x01, 0x10, 0x20, payload + b"tail", sequence=3, flag=1)
    message = decode(frame)
    assert type(message) is Hello
    assert message.guid == "GA\udcff0000A000000"
    assert message.firmware == "2\udc80"
    assert message.padding == b"AB"
    assert message.trailing == b"tail"
    assert message.sequence == 3
    assert message.flag == 1
    assert message.encode() == frame


def test_command_response_with_differing_repeats() -> None:
    payload = bytes.fromhex("01 00 07 00 00 00 00 00 08 00 00 00 6a 00 6b 00") + b"[]\0"
    frame = basic(0x01, 0x00, 0x20, payload)
    message = decode(frame)
    assert message == CommandResponse(7, 106, b"[]\0", 1, 0, 8, 107)
    assert message.encode() == frame


def test_cloud_command_with_differing_code_repeat() -> None:
    frame = versioned(0x29, 0x50, 0x10, bytes.fromhex("02 00 64 00 65 00 05 00 00 00"))
    message = decode(frame)
    assert message == CloudCommand(100, b"", 2, 5, 101)
    assert message.encode() == frame


@pytest.mark.parametrize("frame", samples.ALL_SAMPLES, ids=lambda frame: decode(frame).NAME)
def test_decode_builds_what_from_payload_builds(frame: bytes) -> None:
    """decode() reads the header and hands the payload, flag and sequence on unchanged."""
    kind = type(decode(frame))
    offset = int(kind.HEADER)
    sequence = 3 if offset == 12 else 0  # a basic header has no sequence
    for payload in (frame[offset:], frame[offset:] + b"more", frame[offset : offset + 2], b""):
        try:
            expected: Message | str = kind.from_payload(payload, 7, sequence)
        except MessageDecodeError as err:
            expected = f"{kind.NAME}: {err}"
        header = bytearray(frame[:offset])
        header[2] = 7  # flag
        if offset == 12:
            header[10:12] = (3).to_bytes(2, "little")  # sequence
        header[4:8] = (offset + len(payload)).to_bytes(4, "little")
        message = decode(bytes(header) + payload)
        built: Message | str = message.reason if isinstance(message, Malformed) else message
        assert built == expected


# --- identify: the message type from the header alone --------------------------------

ANY_PAYLOAD_TYPES: tuple[type[Message], ...] = (Ping, StatusChange, Notification)
EVERY_TYPE: tuple[type[Message], ...] = (*MESSAGE_TYPES, Unknown, Malformed)


def test_names() -> None:
    # Malformed had Unknown's name; diagnostics now tell the two apart.
    assert Malformed.NAME == "malformed"
    assert Unknown.NAME == "unknown"
    names = [kind.NAME for kind in EVERY_TYPE]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("kind", EVERY_TYPE, ids=lambda kind: kind.NAME)
def test_any_payload_is_set_for_ping_status_change_and_notification_only(
    kind: type[Message],
) -> None:
    assert kind.ANY_PAYLOAD is (kind in ANY_PAYLOAD_TYPES)


@pytest.mark.parametrize("frame", samples.ALL_SAMPLES, ids=lambda frame: decode(frame).NAME)
def test_identify_every_sample(frame: bytes) -> None:
    assert identify(frame) is type(decode(frame))


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        pytest.param(b"", Malformed, id="empty"),
        pytest.param(samples.PING[:7], Malformed, id="shorter-than-a-header"),
        pytest.param(samples.HELLO[:7], Malformed, id="hello-shorter-than-a-header"),
        pytest.param(with_length(samples.PING, 9), Malformed, id="ping-length-lies"),
        pytest.param(with_length(samples.HELLO, 0x47), Malformed, id="hello-length-lies"),
        pytest.param(with_length(samples.STATUS_DOOR_OPEN, 8), Malformed, id="status-length-lies"),
        pytest.param(with_length(basic(0x99, 0, 0, b"abc"), 12), Malformed, id="unknown-lies"),
        pytest.param(
            versioned(0x21, 0x10, 0x20, b"\x04", version=2), Malformed, id="status-version-2"
        ),
        pytest.param(
            versioned(0x22, 0x10, 0x20, b"[170,[8]]\0", version=0),
            Malformed,
            id="notification-version-0",
        ),
        pytest.param(
            samples.HELLO[:8] + b"\xff\xff" + samples.HELLO[10:], Malformed, id="hello-version"
        ),
        pytest.param(basic(0x21, 0x10, 0x20), Malformed, id="status-no-versioned-header"),
        pytest.param(basic(0x99, 0x10, 0x20), Unknown, id="unknown-triple"),
        pytest.param(versioned(0x22, 0x10, 0x00, b"{}\0"), Unknown, id="unknown-versioned"),
        pytest.param(basic(0, 0, 0), Unknown, id="zero-triple"),
    ],
)
def test_identify_edges(frame: bytes, expected: type[Message]) -> None:
    assert identify(frame) is expected
    assert type(decode(frame)) is expected  # what decode says too


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (versioned(0x01, 0x10, 0x20), Hello),
        (versioned(0x01, 0x30, 0x20, hello_payload(numbers=(0,) * 7)[:47]), HelloDiscovery),
        (basic(0x01, 0x00, 0x20, bytes(15)), CommandResponse),
        (versioned(0x29, 0x50, 0x10, bytes(9)), CloudCommand),
        (versioned(0x41, 0x20, 0x10, b"\x01\x01"), HelloAck),
        (versioned(0x01, 0x20, 0x10), HelloReply),
        (versioned(0x63, 0x20, 0x10, bytes(5)), HelloInfo),
        (versioned(0x01, 0xD0, 0x10, bytes(31)), DiscoveryReply),
    ],
)
def test_identify_reads_no_payload(frame: bytes, kind: type[Message]) -> None:
    # Only decode can tell that a payload does not fit a message that is not ANY_PAYLOAD.
    assert not kind.ANY_PAYLOAD
    assert identify(frame) is kind
    assert type(decode(frame)) is Malformed


@pytest.mark.parametrize("kind", ANY_PAYLOAD_TYPES, ids=lambda kind: kind.NAME)
@pytest.mark.parametrize(
    "payload", [b"", b"\0", b"\x04", bytes(200), b"not json", b"\xff" * 7], ids=repr
)
def test_identify_is_final_for_any_payload_messages(kind: type[Message], payload: bytes) -> None:
    header = basic if kind.HEADER is HeaderKind.BASIC else versioned
    frame = header(kind.COMMAND, kind.SOURCE, kind.DESTINATION, payload)
    assert identify(frame) is kind
    assert type(decode(frame)) is kind


def test_more_panels_than_the_texts_remembered() -> None:
    for index in range(1100):
        guid = f"GA{index:013d}"
        message = decode(versioned(0x01, 0x10, 0x20, hello_payload(guid=guid.encode())))
        assert isinstance(message, Hello)
        assert message.guid == guid
