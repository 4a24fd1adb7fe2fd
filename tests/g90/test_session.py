"""Session: what the cloud answers, byte for byte, and what it remembers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.g90_cloud.g90.events import EventType, PanelEvent
from custom_components.g90_cloud.g90.messages import (
    CloudCommand,
    CommandResponse,
    DiscoveryReply,
    HelloAck,
    HelloInfo,
    HelloReply,
    Malformed,
    Notification,
    Ping,
    StatusChange,
    Unknown,
    decode,
    identify,
)
from custom_components.g90_cloud.g90.session import (
    CloudStream,
    Inbound,
    Session,
    discovery_reply,
    hello_reply,
    pointed_here,
)

from . import samples
from .frames import (
    basic,
    discovery_reply as notes_discovery_reply,
    fix_length,
    hello_payload,
    versioned,
)
from .inbound import decoded, decoded_cloud
from .samples import GUID

NOW = 1737794080.0  # 2025-01-25 08:34:40 UTC

# The notes' reply to hello, parts 1 and 2; part 3 carries the port.
HELLO_ACK_AND_REPLY = bytes.fromhex(
    "41 20 00 10 0d 00 00 00 01 00 01 00 01 01 20 00 10 0d 00 00 00 01 00 02 00 1f"
)
DISCOVERY_REPLY_192_168_1_10_5678 = bytes.fromhex(
    "01 d0 00 10 2c 00 00 00 01 00 00 00"  # header: cmd 1, 0xD0 -> 0x10, length 44, v1, seq 0
    "31 39 32 2e 31 36 38 2e 31 2e 31 30 00 00 00 00"  # "192.168.1.10" NUL-padded to 16
    "00 00 00 00"  # 0
    "00 00 00 00"  # 0
    "2e 16 00 00"  # port 5678
    "20 a2 94 67"  # 1737794080
)


def _session(port: int = 5678, ip: str = "192.168.1.10") -> Session:
    return Session(cloud_ip=ip, cloud_port=port, clock=lambda: NOW)


# --- hello ----------------------------------------------------------------------


def test_hello_reply_golden() -> None:
    assert hello_reply(5678) == samples.HELLO_REPLY_5678
    assert len(samples.HELLO_REPLY_5678) == 42


def test_hello_reply_other_port() -> None:
    expected = HELLO_ACK_AND_REPLY + bytes.fromhex(
        "63 20 00 10 10 00 00 00 01 00 03 00 3e 3d 00 00"
    )
    assert hello_reply(15678) == expected


def test_session_answers_hello_with_announced_port() -> None:
    session = _session(port=15678)
    ((frame, _, events, reply),) = session.receive(samples.HELLO)
    assert reply == HELLO_ACK_AND_REPLY + bytes.fromhex(
        "63 20 00 10 10 00 00 00 01 00 03 00 3e 3d 00 00"
    )
    assert events == ()
    assert frame == samples.HELLO
    # the same answer every time (about once a minute)
    assert session.receive(samples.HELLO)[0][3] == reply


def test_session_answers_hello_5678() -> None:
    ((_, _, _, reply),) = _session().receive(samples.HELLO)
    assert reply == samples.HELLO_REPLY_5678


# --- discovery ------------------------------------------------------------------


def test_discovery_reply_golden() -> None:
    session = Session(cloud_ip="192.168.1.10", cloud_port=5678, clock=lambda: 1737794080.0)
    ((_, _, events, reply),) = session.receive(samples.HELLO_DISCOVERY)
    assert reply == DISCOVERY_REPLY_192_168_1_10_5678
    assert len(reply) == 44
    assert events == ()


def test_discovery_reply_uses_the_clock_each_time() -> None:
    times = iter([1737794080.9, 1737794141.0])
    session = Session(cloud_ip="10.1.2.3", cloud_port=15678, clock=lambda: next(times))
    (_, _, _, first), (_, _, _, second) = session.receive(
        samples.HELLO_DISCOVERY + samples.HELLO_DISCOVERY
    )
    head = bytes.fromhex("01 d0 00 10 2c 00 00 00 01 00 00 00")
    ip = b"10.1.2.3" + bytes(8)
    middle = bytes.fromhex("00 00 00 00 00 00 00 00 3e 3d 00 00")
    assert first == head + ip + middle + bytes.fromhex("20 a2 94 67")  # fraction dropped
    assert second == head + ip + middle + bytes.fromhex("5d a2 94 67")


def test_discovery_reply_function() -> None:
    assert discovery_reply("255.255.255.255", 1, 0.0) == bytes.fromhex(
        "01 d0 00 10 2c 00 00 00 01 00 00 00"
        "32 35 35 2e 32 35 35 2e 32 35 35 2e 32 35 35 00"
        "00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"
    )


# --- other messages -------------------------------------------------------------


def test_ping_is_echoed() -> None:
    ((_, message, events, reply),) = decoded(_session().receive(samples.PING))
    assert message == Ping()
    assert reply == bytes.fromhex("01 10 00 00 08 00 00 00")
    assert events == ()


def test_odd_ping_is_echoed_byte_exact() -> None:
    frame = bytes.fromhex("01 10 07 00 0a 00 00 00 ab cd")
    ((_, message, _, reply),) = decoded(_session().receive(frame))
    assert message == Ping(b"\xab\xcd", flag=7)
    assert reply == frame


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (samples.STATUS_DISARMED, StatusChange),
        (samples.STATUS_DOOR_OPEN, StatusChange),
        (samples.NOTIFICATION_ACTIVITY, Notification),
        (samples.COMMAND_RESPONSE, CommandResponse),
        (samples.CLOUD_COMMAND, CloudCommand),
        (samples.HELLO_REPLY_5678[:13], HelloAck),
        (basic(0x99, 0x10, 0x20), Unknown),
        (versioned(0x01, 0x10, 0x20, b"short"), Malformed),
    ],
)
def test_no_reply(frame: bytes, kind: type) -> None:
    inbound = _session().receive(frame)
    ((_, message, _, reply),) = decoded(inbound)
    assert type(message) is kind
    assert reply == b""
    assert inbound[0].kind is kind  # the type, without decoding


def test_command_response_carries_no_event() -> None:
    ((_, _, events, _),) = _session().receive(samples.COMMAND_RESPONSE)
    assert events == ()


# --- the message type of each frame --------------------------------------------


def _variants(frame: bytes) -> list[bytes]:
    """A sample, and what it becomes with another version, a cut, a longer or no payload."""
    return [
        frame,
        fix_length(frame[:8] + b"\x02\x00" + frame[10:]),  # version 2 (payload, if basic)
        fix_length(frame[:14]),
        fix_length(frame + b"more"),
        fix_length(frame[:12]),
        fix_length(frame[:8]),
    ]


VARIANTS = list(
    dict.fromkeys(
        [
            *(variant for frame in samples.ALL_SAMPLES for variant in _variants(frame)),
            basic(0x99, 0x10, 0x20),
            basic(0x99, 0x10, 0x20, b"?", flag=3),
            versioned(0x22, 0x10, 0x00, b"{}\0", sequence=4),
            versioned(0x01, 0x10, 0x20, b"short"),
            versioned(0x21, 0x10, 0x20, b"\x04", version=2),
        ]
    )
)


def test_the_variants_hold_every_outcome() -> None:
    kinds = {type(decode(frame)) for frame in VARIANTS}
    assert {Malformed, Unknown, Ping, StatusChange, Notification, CloudCommand} <= kinds


@pytest.mark.parametrize("frame", VARIANTS, ids=lambda frame: frame[:12].hex())
def test_kind_is_the_type_of_the_message(frame: bytes) -> None:
    (inbound,) = _session().receive(frame)
    assert inbound.frame == frame
    assert inbound.message == decode(frame)
    # Inbound.kind is Malformed when the frame holds no message, so it holds for those too.
    assert inbound.kind is type(inbound.message)
    if not isinstance(inbound.message, Malformed):
        assert inbound.kind is identify(frame)


@pytest.mark.parametrize("frame", VARIANTS, ids=lambda frame: frame[:12].hex())
def test_cloud_stream_kind_is_read_from_the_header(frame: bytes) -> None:
    ((received, kind, _events, _reply),) = CloudStream().receive(frame)
    assert received == frame
    assert kind is identify(frame)
    message = decode(frame)
    if not isinstance(message, Malformed):
        assert kind is type(message)


# --- identity -------------------------------------------------------------------


def test_guid_and_firmware_from_hello() -> None:
    session = _session()
    assert (session.guid, session.firmware) == (None, None)
    ((_, _, before, _),) = session.receive(samples.STATUS_DISARMED)
    assert before[0].guid is None
    session.receive(samples.HELLO)
    assert session.guid == "GA00000A0000000"
    assert session.firmware == "207"
    ((_, _, after, _),) = session.receive(samples.STATUS_DISARMED)
    assert after == (
        PanelEvent(
            type=EventType.DISARMED,
            guid="GA00000A0000000",
            state=3,
            timestamp=1737794080,  # 2025-01-25 08:34:40 UTC
            raw=samples.STATUS_DISARMED,
        ),
    )


def test_guid_from_discovery_hello() -> None:
    session = _session()
    session.receive(samples.HELLO_DISCOVERY)
    assert session.guid == GUID
    assert session.firmware == "207"


def test_empty_guid_or_firmware_keeps_what_is_known() -> None:
    session = _session()
    session.receive(samples.HELLO)
    blank = versioned(0x01, 0x10, 0x20, hello_payload(b"", b""))
    ((_, _, _, reply),) = session.receive(blank)
    assert reply == samples.HELLO_REPLY_5678
    assert session.guid == GUID
    assert session.firmware == "207"
    other = versioned(0x01, 0x30, 0x20, hello_payload(b"GB1", b"208", (0,) * 7))
    session.receive(other)
    assert session.guid == "GB1"
    assert session.firmware == "208"


def test_inbound_record() -> None:
    session = _session()
    inbound = session.receive(samples.PING + samples.COMMAND_RESPONSE)
    assert decoded(inbound) == [
        (samples.PING, Ping(), (), samples.PING),
        (
            samples.COMMAND_RESPONSE,
            CommandResponse(6, 106, b"[106,[900,0,0,1,2,2,60,2,0,180,2]]\0"),
            (),
            b"",
        ),
    ]
    # the record itself holds the message type; the message is decoded on demand
    assert inbound == [
        Inbound(samples.PING, Ping, (), samples.PING),
        Inbound(samples.COMMAND_RESPONSE, CommandResponse, (), b""),
    ]


def test_error_and_buffered_properties() -> None:
    session = _session()
    assert session.receive(samples.HELLO[:10]) == []
    no_error = session.error
    assert no_error is None
    assert session.buffered == 10
    assert [frame for frame, _, _, _ in session.receive(samples.HELLO[10:])] == [samples.HELLO]
    assert session.buffered == 0
    assert session.receive(bytes.fromhex("01 10 00 00 07 00 00 00")) == []
    problem = session.error
    assert problem is not None
    assert problem.length == 7


def test_session_max_frame_size() -> None:
    session = Session(cloud_ip="1.2.3.4", cloud_port=1, max_frame_size=60)
    assert [frame for frame, _, _, _ in session.receive(samples.HELLO_DISCOVERY)] == [
        samples.HELLO_DISCOVERY
    ]
    # Too long: skipped, reported by its header as a malformed frame; the stream goes on.
    (skipped, ping) = session.receive(samples.HELLO + samples.PING)
    assert skipped.frame == samples.HELLO[:12]
    assert skipped.kind is Malformed
    assert [event.detail for event in skipped.events] == [
        "length field 72 but the frame has 12 bytes"
    ]
    assert ping.reply == samples.PING
    assert session.error is None
    assert session.skipped == 1


def test_session_default_clock_is_wall_time() -> None:
    session = Session(cloud_ip="1.2.3.4", cloud_port=1)
    ((_, _, _, reply),) = session.receive(samples.HELLO_DISCOVERY)
    sent = int.from_bytes(reply[-4:], "little")
    assert abs(sent - datetime.now(UTC).timestamp()) < 60


# --- the cloud's side -----------------------------------------------------------


def test_cloud_stream() -> None:
    stream = CloudStream()
    data = samples.CLOUD_COMMAND + samples.HELLO_REPLY_5678
    first = stream.receive(data[:30])
    assert decoded_cloud(first) == [(samples.CLOUD_COMMAND, CloudCommand(100, sequence=6))]
    assert first == [Inbound(samples.CLOUD_COMMAND, CloudCommand, (), b"")]
    rest = stream.receive(data[30:])
    assert decoded_cloud(rest) == [
        (samples.HELLO_REPLY_5678[:13], HelloAck(1, sequence=1)),
        (samples.HELLO_REPLY_5678[13:26], HelloReply(0x1F, sequence=2)),
        (samples.HELLO_REPLY_5678[26:], HelloInfo(5678, sequence=3)),
    ]
    assert rest == [
        Inbound(samples.HELLO_REPLY_5678[:13], HelloAck, (), b""),
        Inbound(samples.HELLO_REPLY_5678[13:26], HelloReply, (), b""),
        Inbound(samples.HELLO_REPLY_5678[26:], HelloInfo, (), b""),
    ]
    no_error = stream.error
    assert no_error is None
    assert stream.receive(bytes.fromhex("29 50 00 10 ff ff ff ff")) == []
    problem = stream.error
    assert problem is not None
    assert problem.length == -1
    assert stream.receive(samples.CLOUD_COMMAND) == []


def test_cloud_stream_max_frame_size() -> None:
    stream = CloudStream(max_frame_size=22)
    assert stream.receive(samples.CLOUD_COMMAND) == [
        Inbound(samples.CLOUD_COMMAND[:12], Malformed, (), b"")
    ]
    assert stream.error is None


def test_a_cloud_discovery_answer_is_pointed_here_and_nothing_else_changes() -> None:
    """Chaining: the vendor's discovery answer names the vendor; the panel gets ours (the
    vendor's time kept). Any other frame, and a discovery answer that does not parse,
    byte for byte."""
    vendor = notes_discovery_reply("47.88.7.61", 5678, 1_765_000_000)
    assert pointed_here(vendor, DiscoveryReply, "192.168.1.10", 15678) == (
        notes_discovery_reply("192.168.1.10", 15678, 1_765_000_000)
    )
    for frame in (samples.PING, samples.CLOUD_COMMAND, samples.HELLO_REPLY_5678):
        assert pointed_here(frame, CloudStream().receive(frame)[0].kind, "1.2.3.4", 1) == frame
    short = fix_length(vendor[:-4])
    assert pointed_here(short, DiscoveryReply, "1.2.3.4", 1) == short
