"""The local UDP framing, sans-I/O: the notes' datagrams, both ways, and any bytes at all."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.g90_cloud.g90.commands import (
    ArmState,
    HostStatus,
    Request,
    decode_reply,
    disarm,
    get_host_status,
    sensor_pager,
)
from custom_components.g90_cloud.g90.local import (
    LocalReply,
    ReplyKind,
    local_reply,
    local_request,
    parse_local_reply,
    parse_local_request,
    server_address_command,
)

from . import samples

QUICK = settings(max_examples=500, deadline=None)


@pytest.mark.parametrize(
    ("request_", "datagram"),
    [
        (get_host_status().request, samples.LOCAL_HOST_STATUS_REQUEST),
        (disarm().request, samples.LOCAL_DISARM_REQUEST),
        (sensor_pager().next_request(), samples.LOCAL_SENSORS_REQUEST),
    ],
)
def test_request_datagrams_are_the_notes(request_: Request, datagram: bytes) -> None:
    assert local_request(request_) == datagram
    assert parse_local_request(datagram) == request_


def test_the_notes_reply_reads_as_host_status() -> None:
    reply = parse_local_reply(samples.LOCAL_HOST_STATUS_REPLY)
    assert reply == LocalReply(ReplyKind.DATA, '[100,[3,"PHONE","PRODUCT","206","206"]]', 100)
    status = decode_reply(100, reply.text)
    assert status == HostStatus(ArmState.DISARMED, "PHONE", "PRODUCT", "206", "206")
    assert local_reply(reply.text) == samples.LOCAL_HOST_STATUS_REPLY


@pytest.mark.parametrize(
    ("datagram", "reply"),
    [
        (samples.LOCAL_EMPTY_REPLY, LocalReply(ReplyKind.EMPTY, "")),
        (b"ISTARTIEND", LocalReply(ReplyKind.EMPTY, "")),
        (b"ISTART IEND\0\0", LocalReply(ReplyKind.EMPTY, " ")),
        (b"ISTARTfailIEND\0", LocalReply(ReplyKind.REFUSED, "fail")),
        (b"ISTARTerrorIEND\0", LocalReply(ReplyKind.REFUSED, "error")),
        (b"ISTARTerror: busyIEND\0", LocalReply(ReplyKind.REFUSED, "error: busy")),
        (b"ISTART[101]IEND\0", LocalReply(ReplyKind.DATA, "[101]", 101)),
        (b"ISTART[102,[[2,1IEND\0", LocalReply(ReplyKind.DATA, "[102,[[2,1", 102)),
        (b"ISTARTnonsenseIEND\0", LocalReply(ReplyKind.DATA, "nonsense")),
        (
            b'ISTART[100,[3,"\xff\xfe"]]IEND\0',
            LocalReply(ReplyKind.DATA, '[100,[3,"\ufffd\ufffd"]]', 100),
        ),
        (b"", LocalReply(ReplyKind.MALFORMED, "")),
        (b"fail", LocalReply(ReplyKind.MALFORMED, "fail")),
        (b"ISTART[100,[3]]", LocalReply(ReplyKind.MALFORMED, "ISTART[100,[3]]")),
        (b"[100,[3]]IEND\0", LocalReply(ReplyKind.MALFORMED, "[100,[3]]IEND\0")),
        (
            b"ISTART[100]IEND\0trailing",
            LocalReply(ReplyKind.MALFORMED, "ISTART[100]IEND\0trailing"),
        ),
        (b"\xffISTARTIEND", LocalReply(ReplyKind.MALFORMED, "\ufffdISTARTIEND")),
    ],
)
def test_reply_datagrams(datagram: bytes, reply: LocalReply) -> None:
    assert parse_local_reply(datagram) == reply


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        b"ISTARTIEND\0",
        b"ISTART[100,100]IEND\0",
        b'ISTART[100,101,""]IEND\0',
        b'ISTART["100","100",""]IEND\0',
        b'ISTART[100,100,""IEND\0',
        b"ISTART[101,101,[102,[3]]]IEND\0",
        b"ISTART" + b"[" * 100_000 + b"IEND\0",
        server_address_command("192.168.1.10", 5678),
    ],
)
def test_datagrams_that_are_no_command_request(datagram: bytes) -> None:
    assert parse_local_request(datagram) is None


def test_server_address_command_is_unchanged() -> None:
    assert server_address_command("10.0.0.2", 5678) == (
        b'ISTART[0,100,"AT^IWT=1,78=10.0.0.2&10.0.0.2&5678,IWT"]IEND\0'
    )
    with pytest.raises(ValueError, match="out of range"):
        server_address_command("10.0.0.2", 0)
    with pytest.raises(ValueError, match="octets"):
        server_address_command("panel.local", 5678)


@QUICK
@given(
    st.binary(max_size=80) | st.builds(lambda b: b"ISTART" + b + b"IEND\0", st.binary(max_size=60))
)
def test_any_bytes_read_as_a_typed_reply(datagram: bytes) -> None:
    reply = parse_local_reply(datagram)
    assert isinstance(reply, LocalReply)
    assert isinstance(reply.kind, ReplyKind)
    assert (reply.code is None) or reply.kind is ReplyKind.DATA
    request = parse_local_request(datagram)
    assert request is None or isinstance(request, Request)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)


@QUICK
@given(
    st.integers(0, 0xFFFF),
    st.none() | st.lists(scalars | st.lists(scalars, max_size=3), max_size=5),
)
def test_request_datagrams_read_back(code: int, params: list[Any] | None) -> None:
    request = Request(code, params)
    assert parse_local_request(local_request(request)) == request


@QUICK
@given(st.text(max_size=60))
def test_reply_datagrams_read_back(text: str) -> None:
    reply = parse_local_reply(local_reply(text))
    if "IEND" not in text and not text.strip():
        assert reply.kind is ReplyKind.EMPTY
    assert reply.kind is not ReplyKind.MALFORMED
    assert reply.text == text
