"""Session and event edges pinned by fixed inputs (each slipped past the suite when mutated)."""

from __future__ import annotations

import pytest

from custom_components.g90_cloud.g90.events import EventType, PanelEvent
from custom_components.g90_cloud.g90.messages import (
    CommandResponse,
    Malformed,
    Notification,
    Ping,
    StatusChange,
    Unknown,
)
from custom_components.g90_cloud.g90.session import Session, discovery_reply

from . import samples
from .frames import basic, hello_payload, json_notification, status, versioned
from .inbound import decoded
from .samples import GUID

NOW = 1737794080.0  # 2025-01-25 08:34:40 UTC


def _session() -> Session:
    return Session(cloud_ip="192.168.1.10", cloud_port=5678, clock=lambda: NOW)


def _unknown(frame: bytes, detail: str, guid: str | None = None) -> PanelEvent:
    return PanelEvent(type=EventType.UNKNOWN, guid=guid, detail=detail, raw=frame)


# --- short frames: what follows must not be read as their version ---------------


def test_short_alert_followed_by_a_frame_starting_01_00_is_malformed() -> None:
    # A short frame's "version" bytes are the next frame's first two bytes; a
    # command response starts with 01 00, which reads as version 1.
    short_status = basic(0x21, 0x10, 0x20)
    short_notification = basic(0x22, 0x10, 0x20, b"\0")
    assert samples.COMMAND_RESPONSE[:2] == b"\x01\x00"
    stream = short_status + samples.COMMAND_RESPONSE + short_notification + samples.COMMAND_RESPONSE
    status_reason = "status_change: 8 bytes, shorter than a versioned header"
    notification_reason = "notification: 9 bytes, shorter than a versioned header"
    response = CommandResponse(6, 106, b"[106,[900,0,0,1,2,2,60,2,0,180,2]]\0")
    assert decoded(_session().receive(stream)) == [
        (
            short_status,
            Malformed(short_status, status_reason),
            (_unknown(short_status, status_reason),),
            b"",
        ),
        (samples.COMMAND_RESPONSE, response, (), b""),
        (
            short_notification,
            Malformed(short_notification, notification_reason),
            (_unknown(short_notification, notification_reason),),
            b"",
        ),
        (samples.COMMAND_RESPONSE, response, (), b""),
    ]


def test_short_hello_followed_by_a_ping_is_malformed_as_short() -> None:
    # The ping's first bytes (01 10) would read as version 0x1001.
    short_hello = basic(0x01, 0x10, 0x20)
    reason = "hello: 8 bytes, shorter than a versioned header"
    assert decoded(_session().receive(short_hello + samples.PING)) == [
        (short_hello, Malformed(short_hello, reason), (_unknown(short_hello, reason),), b""),
        (samples.PING, Ping(), (), samples.PING),
    ]


def test_twelve_byte_frames_have_a_version() -> None:
    empty_hello = versioned(0x01, 0x10, 0x20)
    status_v2 = versioned(0x21, 0x10, 0x20, version=2)
    empty_status = versioned(0x21, 0x10, 0x20)
    hello_reason = "hello: payload is 0 bytes, expected 60"
    v2_reason = "status_change: protocol version 2, expected 1"
    session = _session()
    assert decoded(session.receive(empty_hello + status_v2 + empty_status)) == [
        (
            empty_hello,
            Malformed(empty_hello, hello_reason),
            (_unknown(empty_hello, hello_reason),),
            b"",
        ),
        (status_v2, Malformed(status_v2, v2_reason), (_unknown(status_v2, v2_reason),), b""),
        (
            empty_status,
            StatusChange(b""),
            (_unknown(empty_status, "status change with an empty payload"),),
            b"",
        ),
    ]
    assert session.guid is None


# --- the alert fast path keeps the header's flag and sequence -------------------


def test_alert_fast_path_keeps_flag_and_sequence() -> None:
    payload = bytes.fromhex("02 04") + bytes(106)
    status_frame = versioned(0x21, 0x10, 0x20, payload, flag=5, sequence=7)
    body = b"[170,[8]]\0"
    notification_frame = versioned(0x22, 0x10, 0x20, body, flag=9, sequence=300)
    inbound = decoded(_session().receive(status_frame + notification_frame))
    assert [message for _, message, _, _ in inbound] == [
        StatusChange(payload, flag=5, sequence=7),
        Notification(body, flag=9, sequence=300),
    ]
    assert [events for _, _, events, _ in inbound] == [
        (PanelEvent(type=EventType.ARMED_AWAY, state=4, timestamp=0, raw=status_frame),),
        (PanelEvent(type=EventType.FIRMWARE_UPDATING, raw=notification_frame),),
    ]


# --- identity within one read -----------------------------------------------------


def test_unknown_and_malformed_events_carry_the_session_guid() -> None:
    unknown = basic(0x99, 0x10, 0x20, b"?")
    status_v2 = versioned(0x21, 0x10, 0x20, b"\x04", version=2)
    v2_reason = "status_change: protocol version 2, expected 1"
    inbound = decoded(_session().receive(samples.HELLO + unknown + status_v2))
    assert [item[1:3] for item in inbound[1:]] == [
        (
            Unknown(unknown),
            (_unknown(unknown, "unknown message 0x99 from 0x10 to 0x20", GUID),),
        ),
        (Malformed(status_v2, v2_reason), (_unknown(status_v2, v2_reason, GUID),)),
    ]


def test_blank_hello_in_the_same_read_keeps_the_guid_for_later_alerts() -> None:
    session = _session()
    blank = versioned(0x01, 0x10, 0x20, hello_payload(b"", b""))
    disarmed = PanelEvent(
        type=EventType.DISARMED,
        guid=GUID,
        state=3,
        timestamp=1737794080,
        raw=samples.STATUS_DISARMED,
    )
    inbound = session.receive(samples.HELLO + samples.STATUS_DISARMED)
    assert inbound[1][2] == (disarmed,)
    inbound = session.receive(blank + samples.STATUS_DISARMED)
    assert inbound[0][3] == samples.HELLO_REPLY_5678
    assert inbound[1][2] == (disarmed,)
    assert session.guid == GUID


def test_guid_and_firmware_are_kept_independently() -> None:
    session = _session()
    session.receive(samples.HELLO)
    session.receive(versioned(0x01, 0x10, 0x20, hello_payload(b"GB1", b"")))
    assert (session.guid, session.firmware) == ("GB1", "207")
    session.receive(versioned(0x01, 0x10, 0x20, hello_payload(b"", b"208")))
    assert (session.guid, session.firmware) == ("GB1", "208")


# --- discovery past 2038 ----------------------------------------------------------


def test_discovery_time_stays_at_int32_max_after_2038() -> None:
    expected = bytes.fromhex(
        "01 d0 00 10 2c 00 00 00 01 00 00 00"
        "31 2e 32 2e 33 2e 34 00 00 00 00 00 00 00 00 00"  # "1.2.3.4"
        "00 00 00 00 00 00 00 00 01 00 00 00"  # 0, 0, port 1
        "ff ff ff 7f"  # 2**31 - 1
    )
    assert discovery_reply("1.2.3.4", 1, 2.0**31 - 1) == expected
    assert discovery_reply("1.2.3.4", 1, 2.0**31) == expected
    session = Session(cloud_ip="1.2.3.4", cloud_port=1, clock=lambda: 2.0**32 + 0.5)
    ((_, _, _, reply),) = session.receive(samples.HELLO_DISCOVERY)
    assert reply == expected


# --- events -----------------------------------------------------------------------


def test_short_panel_state_change_has_no_timestamp() -> None:
    frame = status(b"\x02\x04")
    ((_, _, events, _),) = _session().receive(frame)
    assert events == (PanelEvent(type=EventType.ARMED_AWAY, state=4, raw=frame),)
    assert events[0].timestamp is None


def test_detail_of_exactly_200_characters_is_not_cut() -> None:
    shown = '[999, "' + "x" * 191 + '"]'
    assert len(shown) == 200
    frame = json_notification('[999,"' + "x" * 191 + '"]')
    ((_, _, events, _),) = _session().receive(frame)
    assert events == (_unknown(frame, "unknown notification " + shown),)


# --- a failure while decoding leaves the stream in step ----------------------------


def test_the_stream_stays_in_step_after_a_failure_mid_read() -> None:
    calls = 0

    def clock() -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("clock unavailable")
        return NOW

    session = Session(cloud_ip="192.168.1.10", cloud_port=5678, clock=clock)
    half = len(samples.STATUS_DOOR_OPEN) // 2
    with pytest.raises(RuntimeError, match="clock unavailable"):
        session.receive(samples.HELLO_DISCOVERY + samples.STATUS_DOOR_OPEN[:half])
    assert session.buffered == half
    inbound = decoded(session.receive(samples.STATUS_DOOR_OPEN[half:] + samples.PING))
    assert [type(message) for _, message, _, _ in inbound] == [StatusChange, Ping]
    assert inbound[0][0] == samples.STATUS_DOOR_OPEN
    assert session.error is None


@pytest.mark.parametrize("port", [0, -1, 65536, 2**31, 2**40])
def test_a_port_that_cannot_be_announced_is_a_value_error(port: int) -> None:
    with pytest.raises(ValueError, match=f"cannot announce port {port}: ports are 1-65535"):
        Session(cloud_ip="192.168.1.10", cloud_port=port)
