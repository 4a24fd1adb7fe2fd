"""Property-based tests: nothing raises, chunking does not matter, encoding is exact."""

from __future__ import annotations

import itertools
import struct

from hypothesis import given, settings, strategies as st

from custom_components.g90_cloud.g90.events import EventType, events_from
from custom_components.g90_cloud.g90.framing import Framer
from custom_components.g90_cloud.g90.messages import (
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
    Notification,
    Ping,
    StatusChange,
    Unknown,
    decode,
    identify,
)
from custom_components.g90_cloud.g90.session import Session
from custom_components.g90_cloud.g90.wire import MAX_FRAME_SIZE, is_identity

from . import samples
from .frames import basic, fix_length, json_notification, versioned, zone_status
from .inbound import decoded

QUICK = settings(max_examples=200, deadline=None)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
i32 = st.integers(-(2**31), 2**31 - 1)
small_bytes = st.binary(max_size=40)

EXTRA_FRAMES = (
    zone_status(3, 4, 10, 3, name="Télécommande".encode()),
    zone_status(4, 1, 11, 6),
    json_notification("[170,[1,[1]]]"),
    json_notification('[208,[3,5,10,3,"R","GA00000A0000000",1737794080,0,0]]'),
    basic(0x99, 0x10, 0x20, b"?"),
    versioned(0x21, 0x10, 0x20, b"\x04", version=2),
)
VALID_FRAMES = samples.ALL_SAMPLES + EXTRA_FRAMES


def _session() -> Session:
    return Session(cloud_ip="192.168.1.10", cloud_port=5678, clock=lambda: 1737794080.0)


def _check_decode(frame: bytes) -> Message:
    """decode never raises, always gives the frame back, and events never raise."""
    message = decode(frame)
    assert message.encode() == frame
    for event in events_from(message, frame, None):
        assert isinstance(event.type, EventType)
        assert event.raw == frame
        if event.type is EventType.UNKNOWN:
            assert event.detail
        event.fields()
    return message


# --- nothing raises ---------------------------------------------------------------


@QUICK
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data: bytes) -> None:
    _check_decode(data)
    session = _session()
    inbound = session.receive(data)
    # what is delivered is always a prefix of the stream, frame after frame
    delivered = b"".join(frame for frame, _, _, _ in inbound)
    assert data.startswith(delivered)
    assert session.buffered + len(delivered) <= len(data)


@QUICK
@given(st.lists(st.binary(max_size=80), max_size=12))
def test_random_chunks_never_raise(chunks: list[bytes]) -> None:
    session = _session()
    delivered = b""
    for chunk in chunks:
        delivered += b"".join(frame for frame, _, _, _ in session.receive(chunk))
        assert session.buffered < MAX_FRAME_SIZE
    assert b"".join(chunks).startswith(delivered)


@st.composite
def random_header_frames(draw: st.DrawFn) -> bytes:
    """Random bytes behind a header with a known triple and a consistent length."""
    triple = draw(
        st.sampled_from(
            [
                (0x01, 0x10, 0x00),
                (0x01, 0x10, 0x20),
                (0x01, 0x30, 0x20),
                (0x21, 0x10, 0x20),
                (0x22, 0x10, 0x20),
                (0x01, 0x00, 0x20),
                (0x29, 0x50, 0x10),
                (0x41, 0x20, 0x10),
                (0x01, 0x20, 0x10),
                (0x63, 0x20, 0x10),
                (0x01, 0xD0, 0x10),
            ]
        )
    )
    version = draw(st.sampled_from([b"\x01\x00", b"\x01\x00", b"\x00\x00", b"\x02\x00"]))
    rest = draw(st.binary(max_size=130))
    return fix_length(basic(*triple, version + rest, flag=draw(u8)))


@st.composite
def mutated_frames(draw: st.DrawFn) -> bytes:
    """A sample with bytes flipped, inserted or deleted; the length field kept right or not."""
    frame = bytearray(draw(st.sampled_from(VALID_FRAMES)))
    for _ in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(["flip", "insert", "delete", "set"]))
        if operation == "insert":
            frame.insert(draw(st.integers(0, len(frame))), draw(u8))
        elif not frame:
            continue
        elif operation == "delete":
            del frame[draw(st.integers(0, len(frame) - 1))]
        elif operation == "flip":
            frame[draw(st.integers(0, len(frame) - 1))] ^= draw(st.integers(1, 0xFF))
        else:
            frame[draw(st.integers(0, len(frame) - 1))] = draw(st.sampled_from([0, 1, 3, 10, 255]))
    if len(frame) >= 8 and draw(st.booleans()):
        return fix_length(bytes(frame))
    return bytes(frame)


@QUICK
@given(st.one_of(mutated_frames(), random_header_frames()))
def test_mutated_frames_never_raise(frame: bytes) -> None:
    _check_decode(frame)
    session = _session()
    inbound = session.receive(frame)
    if len(frame) >= 8 and int.from_bytes(frame[4:8], "little", signed=True) == len(frame):
        # consistent length: the mutation reaches the decoders as one frame
        assert [item[0] for item in inbound] == [frame]
        assert session.error is None
    for delivered, message, _, _ in decoded(inbound):
        assert message.encode() == delivered


@QUICK
@given(st.lists(mutated_frames(), max_size=6))
def test_streams_of_mutated_frames_never_raise(frames: list[bytes]) -> None:
    session = _session()
    for frame in frames:
        session.receive(frame)


@st.composite
def short_frames(draw: st.DrawFn) -> bytes:
    """8 to 11 bytes with a consistent length: too short for a versioned header."""
    triple = draw(st.sampled_from([(0x01, 0x10, 0x00), (0x21, 0x10, 0x20), (0x22, 0x10, 0x20)]))
    return basic(*triple, draw(st.binary(max_size=3)), flag=draw(u8))


@QUICK
@given(st.lists(st.one_of(short_frames(), random_header_frames(), mutated_frames()), max_size=8))
def test_session_decodes_each_frame_as_decode_does(frames: list[bytes]) -> None:
    """Whatever follows a frame in the stream, the session reads it as decode() alone would."""
    frames = [frame for frame in frames if len(frame) >= 8 and frame[4:8] == _length(frame)]
    session = _session()
    inbound = decoded(session.receive(b"".join(frames)))
    assert [item[0] for item in inbound] == frames
    assert [item[1] for item in inbound] == [decode(frame) for frame in frames]
    guid = None
    for frame, message, events, _ in inbound:
        if isinstance(message, (Hello, HelloDiscovery)):
            # Only a GUID of visible ASCII names a panel (a hostile one could forge log lines).
            guid = message.guid if is_identity(message.guid) else guid
        else:
            assert events == events_from(message, frame, guid)


def _length(frame: bytes) -> bytes:
    return struct.pack("<i", len(frame))


# --- identify: the message type from the header alone ---------------------------------


@st.composite
def any_payload_frames(draw: st.DrawFn) -> tuple[bytes, type[Message]]:
    """Any payload behind a valid header of a message that takes any payload."""
    kind = draw(st.sampled_from([Ping, StatusChange, Notification]))
    payload, flag = draw(st.binary(max_size=200)), draw(u8)
    if kind is Ping:
        return basic(0x01, 0x10, 0x00, payload, flag=flag), kind
    triple = (0x21, 0x10, 0x20) if kind is StatusChange else (0x22, 0x10, 0x20)
    return versioned(*triple, payload, sequence=draw(u16), flag=flag), kind


@QUICK
@given(any_payload_frames())
def test_identify_is_final_for_any_payload_messages(case: tuple[bytes, type[Message]]) -> None:
    frame, kind = case
    assert kind.ANY_PAYLOAD
    assert identify(frame) is kind
    assert type(decode(frame)) is kind
    ((_, inbound_kind, _, _),) = _session().receive(frame)
    assert inbound_kind is kind


@QUICK
@given(st.one_of(st.binary(max_size=40), short_frames(), random_header_frames(), mutated_frames()))
def test_identify_agrees_with_decode(frame: bytes) -> None:
    """The header's type is decode's, unless the payload does not fit a type that checks it."""
    kind, message = identify(frame), decode(frame)
    if kind is not type(message):
        assert isinstance(message, Malformed)
        assert not kind.ANY_PAYLOAD
        assert kind not in {Unknown, Malformed}
        assert message.reason.startswith(f"{kind.NAME}: ")


@QUICK
@given(st.lists(st.one_of(short_frames(), random_header_frames(), mutated_frames()), max_size=8))
def test_session_kind_is_the_type_of_the_message(frames: list[bytes]) -> None:
    frames = [frame for frame in frames if len(frame) >= 8 and frame[4:8] == _length(frame)]
    inbound = _session().receive(b"".join(frames))
    assert [item.frame for item in inbound] == frames
    for item in inbound:
        assert item.kind is type(item.message)


# --- chunking does not matter ---------------------------------------------------


@st.composite
def split_streams(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    frames = draw(st.lists(st.sampled_from(VALID_FRAMES), min_size=1, max_size=8))
    stream = b"".join(frames)
    cuts = sorted(draw(st.sets(st.integers(0, len(stream)), max_size=12)))
    bounds = [0, *cuts, len(stream)]
    chunks = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    return stream, chunks


@QUICK
@given(split_streams())
def test_any_split_decodes_like_the_whole(case: tuple[bytes, list[bytes]]) -> None:
    stream, chunks = case
    whole_session, split_session = _session(), _session()
    whole = whole_session.receive(stream)
    split = [inbound for chunk in chunks for inbound in split_session.receive(chunk)]
    assert split == whole
    assert decoded(split) == decoded(whole)
    assert b"".join(frame for frame, _, _, _ in whole) == stream
    assert split_session.guid == whole_session.guid
    assert split_session.buffered == whole_session.buffered == 0
    framer = Framer()
    assert [f for chunk in chunks for f in framer.feed(chunk)] == Framer().feed(stream)


# --- well-formed frames of every type -------------------------------------------


def _hello_like(numbers: int) -> st.SearchStrategy[tuple[bytes, tuple[int, ...], bytes]]:
    fmt = f"<15sB4i3sB{numbers - 4}i"

    @st.composite
    def build(draw: st.DrawFn) -> tuple[bytes, tuple[int, ...], bytes]:
        guid = draw(st.binary(min_size=15, max_size=15))
        firmware = draw(st.binary(min_size=3, max_size=3))
        pads = (draw(u8), draw(u8))
        values = tuple(draw(st.lists(i32, min_size=numbers, max_size=numbers)))
        payload = struct.pack(fmt, guid, pads[0], *values[:4], firmware, pads[1], *values[4:])
        return payload + draw(small_bytes), values, bytes(pads)

    return build()


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[bytes, type[Message]]:
    kind = draw(
        st.sampled_from(
            [
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
            ]
        )
    )
    flag, sequence = draw(u8), draw(u16)

    def v(command: int, source: int, destination: int, payload: bytes) -> bytes:
        return versioned(command, source, destination, payload, sequence=sequence, flag=flag)

    if kind is Ping:
        frame = basic(0x01, 0x10, 0x00, draw(small_bytes), flag=flag)
    elif kind is Hello:
        payload, numbers, pads = draw(_hello_like(10))
        frame = v(0x01, 0x10, 0x20, payload)
        message = decode(frame)
        assert isinstance(message, Hello)
        assert message.numbers == numbers
        assert message.padding == pads
    elif kind is HelloDiscovery:
        payload, numbers, pads = draw(_hello_like(7))
        frame = v(0x01, 0x30, 0x20, payload)
        message = decode(frame)
        assert isinstance(message, HelloDiscovery)
        assert message.numbers == numbers
        assert message.padding == pads
    elif kind is StatusChange:
        frame = v(0x21, 0x10, 0x20, draw(st.binary(max_size=140)))
    elif kind is Notification:
        frame = v(0x22, 0x10, 0x20, draw(st.binary(max_size=80)))
    elif kind is CommandResponse:
        head = struct.pack(
            "<HiHiHH", draw(u16), draw(i32), draw(u16), draw(i32), draw(u16), draw(u16)
        )
        frame = basic(0x01, 0x00, 0x20, head + draw(small_bytes), flag=flag)
    elif kind is CloudCommand:
        head = struct.pack("<HHHi", draw(u16), draw(u16), draw(u16), draw(i32))
        frame = v(0x29, 0x50, 0x10, head + draw(small_bytes))
    elif kind is HelloAck:
        frame = v(0x41, 0x20, 0x10, bytes((draw(u8),)))
    elif kind is HelloReply:
        frame = v(0x01, 0x20, 0x10, bytes((draw(u8),)))
    elif kind is HelloInfo:
        frame = v(0x63, 0x20, 0x10, struct.pack("<i", draw(i32)))
    else:
        ip = draw(st.binary(min_size=16, max_size=16))
        frame = v(
            0x01, 0xD0, 0x10, ip + struct.pack("<4i", *draw(st.lists(i32, min_size=4, max_size=4)))
        )
    return frame, kind


@settings(max_examples=300, deadline=None)
@given(well_formed())
def test_well_formed_frames_round_trip(case: tuple[bytes, type[Message]]) -> None:
    frame, kind = case
    message = decode(frame)
    assert type(message) is kind
    assert message.flag == frame[2]
    assert message.encode() == frame
    assert decode(message.encode()) == message


# --- typed values round trip ----------------------------------------------------

ascii_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", max_size=15)

messages = st.one_of(
    st.builds(Ping, small_bytes, flag=u8),
    st.builds(
        Hello,
        ascii_text,
        st.text(alphabet="0123456789", max_size=3),
        st.lists(i32, min_size=10, max_size=10).map(tuple),
        small_bytes,
        st.binary(min_size=2, max_size=2),
        flag=u8,
        sequence=u16,
    ),
    st.builds(
        HelloDiscovery,
        ascii_text,
        st.text(alphabet="0123456789", max_size=3),
        st.lists(i32, min_size=7, max_size=7).map(tuple),
        small_bytes,
        st.binary(min_size=2, max_size=2),
        flag=u8,
        sequence=u16,
    ),
    st.builds(StatusChange, st.binary(max_size=120), flag=u8, sequence=u16),
    st.builds(Notification, small_bytes, flag=u8, sequence=u16),
    st.builds(CloudCommand, u16, small_bytes, u16, i32, st.none(), flag=u8, sequence=u16),
    st.builds(HelloAck, u8, flag=u8, sequence=u16),
    st.builds(HelloReply, u8, flag=u8, sequence=u16),
    st.builds(HelloInfo, i32, flag=u8, sequence=u16),
    st.builds(
        DiscoveryReply,
        st.text(alphabet="0123456789.:abcdef", max_size=16),
        i32,
        i32,
        st.tuples(i32, i32),
        flag=u8,
        sequence=u16,
    ),
)


@st.composite
def command_responses(draw: st.DrawFn) -> CommandResponse:
    sequence, code = draw(i32), draw(u16)
    again = draw(st.one_of(st.none(), i32.filter(lambda value: value != sequence)))
    code_again = draw(st.one_of(st.none(), u16.filter(lambda value: value != code)))
    return CommandResponse(
        sequence, code, draw(small_bytes), draw(u16), draw(u16), again, code_again, flag=draw(u8)
    )


@QUICK
@given(st.one_of(messages, command_responses()))
def test_typed_values_round_trip(message: Message) -> None:
    frame = message.encode()
    assert decode(frame) == message
    assert not isinstance(decode(frame), (Unknown, Malformed))
