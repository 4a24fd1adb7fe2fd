"""Framing matrix: whole, byte by byte, split anywhere, many per chunk, broken streams."""

from __future__ import annotations

from collections.abc import Callable, Iterable
import struct
from typing import NamedTuple

import pytest

from custom_components.g90_cloud.g90.framing import Framer, FramingError
from custom_components.g90_cloud.g90.session import Session
from custom_components.g90_cloud.g90.wire import MAX_FRAME_SIZE, MAX_SKIP_SIZE

from . import samples
from .frames import basic

STREAM = b"".join(samples.ALL_SAMPLES)
Feeder = Callable[[bytes], list[bytes]]


class Probe(NamedTuple):
    """One stream splitter under test, seen through the same three handles."""

    feed: Feeder
    error: Callable[[], FramingError | None]
    buffered: Callable[[], int]


def _framer_probe() -> Probe:
    framer = Framer()
    return Probe(framer.feed, lambda: framer.error, lambda: framer.buffered)


def _session_probe() -> Probe:
    session = Session(cloud_ip="192.168.1.10", cloud_port=5678, clock=lambda: 1737794080.0)

    def feed(data: bytes) -> list[bytes]:
        return [frame for frame, _, _, _ in session.receive(data)]

    return Probe(feed, lambda: session.error, lambda: session.buffered)


FEEDERS = pytest.mark.parametrize(
    "make", [_framer_probe, _session_probe], ids=["framer", "session"]
)
SAMPLES = pytest.mark.parametrize(
    "frame", samples.ALL_SAMPLES, ids=[f"sample{i}" for i in range(len(samples.ALL_SAMPLES))]
)


def _feed_all(feed: Feeder, chunks: Iterable[bytes]) -> list[bytes]:
    frames: list[bytes] = []
    for chunk in chunks:
        frames.extend(feed(chunk))
    return frames


def _bad_header(length: int) -> bytes:
    return bytes((0x01, 0x10, 0x00, 0x20)) + struct.pack("<i", length)


# --- valid streams ----------------------------------------------------------------


@FEEDERS
@SAMPLES
def test_whole(make: Callable[[], Probe], frame: bytes) -> None:
    feed, error, buffered = make()
    assert feed(frame) == [frame]
    assert error() is None
    assert buffered() == 0


@FEEDERS
@SAMPLES
def test_byte_by_byte(make: Callable[[], Probe], frame: bytes) -> None:
    feed, error, buffered = make()
    for index in range(len(frame) - 1):
        assert feed(frame[index : index + 1]) == []
        assert buffered() == index + 1
    assert feed(frame[-1:]) == [frame]
    assert buffered() == 0
    assert error() is None


@FEEDERS
@SAMPLES
def test_split_in_two_everywhere(make: Callable[[], Probe], frame: bytes) -> None:
    for cut in range(len(frame) + 1):
        feed, error, buffered = make()
        first = feed(frame[:cut])
        assert first == ([frame] if cut == len(frame) else [])
        assert buffered() == cut % len(frame)
        second = feed(frame[cut:])
        assert first + second == [frame]
        assert buffered() == 0
        assert error() is None


@FEEDERS
def test_all_samples_in_one_chunk(make: Callable[[], Probe]) -> None:
    feed, error, buffered = make()
    assert feed(STREAM) == list(samples.ALL_SAMPLES)
    assert error() is None
    assert buffered() == 0


@FEEDERS
def test_all_samples_byte_by_byte(make: Callable[[], Probe]) -> None:
    feed, error, buffered = make()
    frames = _feed_all(feed, (STREAM[i : i + 1] for i in range(len(STREAM))))
    assert frames == list(samples.ALL_SAMPLES)
    assert error() is None
    assert buffered() == 0


@FEEDERS
def test_all_samples_split_in_two_everywhere(make: Callable[[], Probe]) -> None:
    for cut in range(len(STREAM) + 1):
        feed, error, _ = make()
        assert _feed_all(feed, (STREAM[:cut], STREAM[cut:])) == list(samples.ALL_SAMPLES)
        assert error() is None


@FEEDERS
def test_empty_chunks(make: Callable[[], Probe]) -> None:
    feed, error, buffered = make()
    assert feed(b"") == []
    assert feed(samples.PING[:3]) == []
    assert feed(b"") == []
    assert buffered() == 3
    assert feed(samples.PING[3:]) == [samples.PING]
    assert error() is None


def test_session_replies_when_the_last_byte_arrives() -> None:
    session = Session(cloud_ip="192.168.1.10", cloud_port=5678)
    for byte in samples.HELLO[:-1]:
        assert session.receive(bytes((byte,))) == []
    ((_, _, _, reply),) = session.receive(samples.HELLO[-1:])
    assert reply == samples.HELLO_REPLY_5678


def test_session_replies_for_a_whole_stream() -> None:
    session = Session(cloud_ip="192.168.1.10", cloud_port=5678, clock=lambda: 1737794080.0)
    replies = [reply for _, _, _, reply in session.receive(b"".join(samples.PANEL_SAMPLES))]
    assert replies == [
        samples.HELLO_REPLY_5678,
        bytes.fromhex(
            "01 d0 00 10 2c 00 00 00 01 00 00 00 31 39 32 2e 31 36 38 2e 31 2e 31 30 00 00 00 00"
            "00 00 00 00 00 00 00 00 2e 16 00 00 20 a2 94 67"
        ),
        samples.PING,
        b"",
        b"",
        b"",
        b"",
    ]


# --- impossible lengths -------------------------------------------------------------


BAD_LENGTHS = [-(2**31), -8, -1, 0, 1, 7, MAX_SKIP_SIZE + 1, 2**31 - 1]
"""Lengths no frame has: shorter than a header, or beyond what any frame is skipped at."""


@FEEDERS
@pytest.mark.parametrize("length", BAD_LENGTHS)
def test_impossible_length(make: Callable[[], Probe], length: int) -> None:
    feed, error, buffered = make()
    bad = _bad_header(length)
    assert feed(samples.HELLO + samples.PING + bad + samples.PING) == [samples.HELLO, samples.PING]
    problem = error()
    assert problem is not None
    assert problem.length == length
    assert problem.header == bad
    assert buffered() == 0
    # nothing more, ever
    assert feed(samples.PING) == []
    assert feed(STREAM) == []
    assert error() is problem
    assert buffered() == 0


@FEEDERS
@pytest.mark.parametrize("length", [0, -1, MAX_SKIP_SIZE + 1])
def test_impossible_length_split_over_reads(make: Callable[[], Probe], length: int) -> None:
    feed, error, buffered = make()
    bad = _bad_header(length)
    assert feed(samples.PING + bad[:5]) == [samples.PING]
    assert error() is None
    assert buffered() == 5
    assert feed(bad[5:] + samples.PING) == []
    assert error() is not None
    assert buffered() == 0


def test_framing_error_text() -> None:
    framer = Framer()
    framer.feed(_bad_header(65537))
    assert str(framer.error) == (
        "impossible frame length 65537 (a frame has 8 to 65536 bytes) in header"
        " 01 10 00 20 01 00 01 00"
    )


@pytest.mark.parametrize("length", [8, 9, 100, MAX_FRAME_SIZE])
def test_extreme_possible_lengths(length: int) -> None:
    frame = basic(0x99, 0x10, 0x20, bytes(length - 8))
    framer = Framer()
    assert framer.feed(frame + samples.PING) == [frame, samples.PING]
    assert framer.error is None


def test_own_limit() -> None:
    framer = Framer(max_frame_size=72)
    assert framer.feed(samples.HELLO) == [samples.HELLO]
    long = basic(0x99, 0, 0, bytes(65))
    assert framer.feed(samples.HELLO_DISCOVERY + long + samples.PING) == [
        samples.HELLO_DISCOVERY,
        long[:12],  # only its header is kept
        samples.PING,
    ]
    assert framer.error is None
    assert framer.skipped == 1


# --- garbage -----------------------------------------------------------------------


@FEEDERS
def test_garbage_before_frames(make: Callable[[], Probe]) -> None:
    # "hi" shifts the stream: the length field read is 00 00 08 00 = 524288.
    feed, error, _ = make()
    assert feed(b"hi" + samples.PING + samples.HELLO) == []
    problem = error()
    assert problem is not None
    assert problem.length == 524288
    assert problem.header == b"hi\x01\x10\x00\x00\x08\x00"


@FEEDERS
def test_garbage_of_ff_before_frames(make: Callable[[], Probe]) -> None:
    feed, error, _ = make()
    assert feed(b"\xff" * 8 + samples.PING) == []
    problem = error()
    assert problem is not None
    assert problem.length == -1


@FEEDERS
def test_garbage_between_frames(make: Callable[[], Probe]) -> None:
    # after the ping, the header read is 00 00 00 01 10 00 20 48: length 0x48200010.
    feed, error, buffered = make()
    assert feed(samples.PING + b"\0\0\0" + samples.HELLO + samples.PING) == [samples.PING]
    problem = error()
    assert problem is not None
    assert problem.length == 0x48200010
    assert problem.header == bytes.fromhex("00 00 00 01 10 00 20 48")
    assert buffered() == 0


@FEEDERS
def test_garbage_that_looks_like_a_frame(make: Callable[[], Probe]) -> None:
    """Ten bytes whose bytes 4..7 happen to read 10: they are taken as a frame."""
    garbage = bytes.fromhex("de ad be ef 0a 00 00 00 ff ff")
    feed, error, _ = make()
    assert feed(samples.PING + garbage + samples.PING) == [samples.PING, garbage, samples.PING]
    assert error() is None


def test_session_reports_garbage_frame_as_unknown() -> None:
    garbage = bytes.fromhex("de ad be ef 0a 00 00 00 ff ff")
    session = Session(cloud_ip="1.2.3.4", cloud_port=1)
    ((_, _, events, reply),) = session.receive(garbage)
    assert reply == b""
    (event,) = events
    assert event.type == "unknown"
    assert event.detail == "unknown message 0xde from 0xad to 0xef"


@FEEDERS
def test_trailing_partial_header(make: Callable[[], Probe]) -> None:
    feed, error, buffered = make()
    assert feed(samples.PING + b"\x01\x02") == [samples.PING]
    assert error() is None
    assert buffered() == 2


def test_session_error_keeps_frames_before_it() -> None:
    session = Session(cloud_ip="192.168.1.10", cloud_port=5678)
    hello, door = session.receive(samples.HELLO + samples.STATUS_DOOR_OPEN + _bad_header(0))
    assert hello[3] == samples.HELLO_REPLY_5678
    assert door[2][0].type == "door_open"
    assert session.error is not None
    assert session.receive(samples.PING) == []


# --- bounded buffering -------------------------------------------------------------


@FEEDERS
def test_buffering_is_bounded(make: Callable[[], Probe]) -> None:
    feed, error, buffered = make()
    header = bytes.fromhex("99 10 00 20 00 20 00 00")  # announces 8192 bytes
    assert feed(header) == []
    assert buffered() == 8
    body = bytes(range(256)) * 32
    for index in range(MAX_FRAME_SIZE - 9):
        assert feed(body[index : index + 1]) == []
        assert buffered() == 9 + index
        assert buffered() < MAX_FRAME_SIZE
    assert feed(body[MAX_FRAME_SIZE - 9 : MAX_FRAME_SIZE - 8] + b"\x01") == [
        header + body[: MAX_FRAME_SIZE - 8]
    ]
    assert buffered() == 1
    assert error() is None


@FEEDERS
def test_buffering_after_an_oversized_header(make: Callable[[], Probe]) -> None:
    feed, error, buffered = make()
    header = _bad_header(MAX_FRAME_SIZE + 1) + bytes(4)  # its versioned header
    assert feed(header[:8]) == []  # the header is passed on whole, once it is there
    assert buffered() == 8
    assert feed(header[8:]) == [header]
    for _ in range(100):
        assert feed(b"\0") == []
        assert buffered() == 0
    assert error() is None


# --- oversized frames: skipped, the stream goes on ----------------------------------------


@FEEDERS
@pytest.mark.parametrize("length", [MAX_FRAME_SIZE + 1, 20000, MAX_SKIP_SIZE])
@pytest.mark.parametrize("chunk", [1, 7, 4096, 100_000])
def test_an_oversized_frame_is_skipped_as_it_arrives(
    make: Callable[[], Probe], length: int, chunk: int
) -> None:
    feed, error, buffered = make()
    big = basic(0x22, 0x10, 0x20, bytes(range(256)) * (length // 256 + 1))[:length]
    big = big[:4] + struct.pack("<i", length) + big[8:]
    stream = samples.HELLO + big + samples.PING + samples.STATUS_DOOR_OPEN
    frames = _feed_all(feed, (stream[i : i + chunk] for i in range(0, len(stream), chunk)))
    assert frames == [samples.HELLO, big[:12], samples.PING, samples.STATUS_DOOR_OPEN]
    assert error() is None
    assert buffered() == 0
    # never buffered whole: what is held back stays below a normal frame's size
    held = []
    feed_one = make()
    for i in range(0, len(big), 512):
        feed_one.feed(big[i : i + 512])
        held.append(feed_one.buffered())
    assert max(held) < MAX_FRAME_SIZE


def test_frames_beyond_a_limit_wait_for_the_next_call() -> None:
    framer = Framer()
    stream = samples.PING * 5 + samples.HELLO[:20]
    assert framer.feed(stream, limit=2) == [samples.PING] * 2
    assert framer.buffered == len(stream) - 16
    assert framer.feed(b"", limit=2) == [samples.PING] * 2
    assert framer.feed(samples.HELLO[20:], limit=2) == [samples.PING, samples.HELLO]
    assert framer.feed(b"", limit=2) == []
    assert framer.buffered == 0
