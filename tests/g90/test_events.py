"""Events: every mapping of the notes, and odd input that must not break anything."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any

import pytest

from custom_components.g90_cloud.g90 import events
from custom_components.g90_cloud.g90.events import EventType, PanelEvent, events_from
from custom_components.g90_cloud.g90.messages import decode
from custom_components.g90_cloud.g90.session import Session

from . import samples
from .frames import (
    basic,
    fix_length,
    json_notification,
    notification,
    state_change,
    status,
    versioned,
    zone_status,
)

T = 1737794080  # 2025-01-25 08:34:40 UTC
T_DATETIME = datetime(2025, 1, 25, 8, 34, 40, tzinfo=UTC)


def _event(frame: bytes, guid: str | None = None) -> PanelEvent:
    (event,) = events_from(decode(frame), frame, guid)
    assert event.raw == frame
    return event


def _unknown(frame: bytes, detail: str) -> PanelEvent:
    event = _event(frame)
    assert event.type == "unknown"
    assert event.detail is not None
    assert detail in event.detail
    return event


# --- samples --------------------------------------------------------------------


def test_sample_disarmed() -> None:
    assert _event(samples.STATUS_DISARMED) == PanelEvent(
        type=EventType.DISARMED, state=3, timestamp=T, raw=samples.STATUS_DISARMED
    )


def test_sample_door_open() -> None:
    assert _event(samples.STATUS_DOOR_OPEN) == PanelEvent(
        type=EventType.DOOR_OPEN,
        zone_index=32,
        zone_name="Cord 1",
        timestamp=1738682545,  # 2025-02-04 15:22:25 UTC
        source=1,
        state=1,
        raw=samples.STATUS_DOOR_OPEN,
    )


def test_sample_notification() -> None:
    assert _event(samples.NOTIFICATION_ACTIVITY) == PanelEvent(
        type=EventType.SENSOR_ACTIVITY,
        zone_index=101,
        zone_name="Cord 1",
        raw=samples.NOTIFICATION_ACTIVITY,
    )


@pytest.mark.parametrize(
    "frame",
    [
        samples.HELLO,
        samples.HELLO_DISCOVERY,
        samples.PING,
        samples.COMMAND_RESPONSE,
        samples.CLOUD_COMMAND,
        *samples.ALL_SAMPLES[-3:],
    ],
)
def test_messages_without_events(frame: bytes) -> None:
    assert events_from(decode(frame), frame, "G") == ()


def test_event_carries_given_guid() -> None:
    assert _event(samples.STATUS_DOOR_OPEN, "GA00000A0000000").guid == "GA00000A0000000"


# --- kind 2: panel state --------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (1, "ac_power_failure"),
        (2, "ac_power_restored"),
        (3, "disarmed"),
        (4, "armed_away"),
        (5, "armed_home"),
        (6, "panel_low_battery"),
        (7, "wifi_connected"),
        (8, "wifi_disconnected"),
    ],
)
def test_panel_state_codes(code: int, name: str) -> None:
    event = _event(state_change(code, T, b"leftover"))
    assert event.type == name
    assert event.state == code
    assert event.panel_time == T_DATETIME
    assert event.zone_index is None
    assert event.detail is None


@pytest.mark.parametrize("code", [0, 9, 255])
def test_panel_state_unknown_code(code: int) -> None:
    event = _unknown(state_change(code, T), f"unknown panel state change code {code}")
    assert event.state == code
    assert event.panel_time == T_DATETIME


@pytest.mark.parametrize("timestamp", [0, -1, -(2**31)])
def test_panel_state_without_a_usable_time(timestamp: int) -> None:
    event = _event(state_change(4, timestamp))
    assert event.type == "armed_away"
    assert event.panel_time is None


def test_panel_state_latest_time() -> None:
    event = _event(state_change(4, 2**31 - 1))
    assert event.panel_time == datetime(2038, 1, 19, 3, 14, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "panel_time"),
    [
        (b"\x02\x04", None),
        (b"\x02\x04" + bytes(34) + b"\x20\xa2\x14", None),  # 39 bytes: time cut short
        (b"\x02\x04" + bytes(34) + b"\x20\xa2\x94\x67", T_DATETIME),  # 40 bytes
        (b"\x02\x04" + bytes(34) + b"\x20\xa2\x94\x67" + b"\xff" * 100, T_DATETIME),  # 140 bytes
    ],
)
def test_panel_state_short_and_long_payloads(payload: bytes, panel_time: datetime | None) -> None:
    event = _event(status(payload))
    assert event.type == "armed_away"
    assert event.panel_time == panel_time


def test_panel_state_without_code() -> None:
    _unknown(status(b"\x02"), "panel state change without its code")


# --- kind 3: alarms -------------------------------------------------------------


@pytest.mark.parametrize(
    ("peripheral_type", "state", "name", "tamper"),
    [
        (1, 0, "alarm", False),  # door/window
        (1, 3, "alarm", True),  # tamper
        (4, 254, "alarm", False),  # smoke
        (8, 3, "alarm", True),
        (10, 3, "sos", False),  # remote, SOS button
        (17, 3, "sos", False),  # 2.4 GHz remote
        (10, 0, "alarm", False),
        (17, 1, "alarm", False),
        (5, 0, "sos", False),  # SOS button, any state
        (5, 3, "sos", False),
        (5, 254, "sos", False),
        (200, 3, "alarm", True),  # unknown peripheral type
        (200, 200, "alarm", False),
    ],
)
def test_alarm(peripheral_type: int, state: int, name: str, tamper: bool) -> None:
    frame = zone_status(3, 12, peripheral_type, state, name=b"Hall", timestamp=T)
    assert _event(frame) == PanelEvent(
        type=EventType(name),
        zone_index=12,
        zone_name="Hall",
        timestamp=T,
        peripheral_type=peripheral_type,
        state=state,
        tamper=tamper,
        raw=frame,
    )


# --- kind 4: sensor activity ----------------------------------------------------


@pytest.mark.parametrize("source", [1, 0, 3, 15, 99])
@pytest.mark.parametrize(
    ("state", "name"),
    [
        (0, "door_close"),
        (1, "door_open"),
        (2, "sos"),
        (3, "tamper"),
        (4, "low_battery"),
        (254, "alarm"),
        (5, "sensor_activity"),  # not described: the zone is still active
        (255, "sensor_activity"),
    ],
)
def test_sensor_states(source: int, state: int, name: str) -> None:
    event = _event(zone_status(4, 7, source, state, name=b"Front", timestamp=T))
    assert event.type == name
    assert event.source == source
    assert event.state == state
    assert event.zone_index == 7
    assert event.zone_name == "Front"
    assert event.panel_time == T_DATETIME
    assert event.peripheral_type is None
    assert event.tamper is (False if name == "alarm" else None)
    assert event.button is None
    assert event.action is None


@pytest.mark.parametrize(
    ("state", "name"),
    [
        (0, "motion"),
        (1, "tamper"),
        (2, "low_battery"),
        (3, "sensor_activity"),
        (254, "sensor_activity"),
    ],
)
def test_infrared_states(state: int, name: str) -> None:
    event = _event(zone_status(4, 9, 8, state, name=b"PIR"))
    assert event.type == name
    assert event.source == 8
    assert event.tamper is None


@pytest.mark.parametrize(
    ("state", "button"), [(0, "arm_away"), (1, "arm_home"), (2, "disarm"), (3, "sos")]
)
def test_remote_buttons(state: int, button: str) -> None:
    event = _event(zone_status(4, 20, 10, state, name=b"Remote 1"))
    assert event.type == "remote_button"
    assert event.button == button
    assert event.action is None
    assert event.source == 10
    assert event.state == state


@pytest.mark.parametrize("state", [4, 254])
def test_remote_unknown_state(state: int) -> None:
    event = _event(zone_status(4, 20, 10, state))
    assert event.type == "sensor_activity"
    assert event.button is None


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (0, "arm_away"),
        (1, "arm_home"),
        (2, "disarm"),
        (5, "low_battery"),
        (6, "card_0"),
        (7, "card_1"),
        (8, "card_2"),
        (9, "card_3"),
        (10, "card_4"),
    ],
)
def test_rfid_actions(state: int, action: str) -> None:
    event = _event(zone_status(4, 30, 11, state, name=b"Keypad"))
    assert event.type == "rfid"
    assert event.action == action
    assert event.button is None
    assert event.source == 11


@pytest.mark.parametrize("state", [3, 4, 11, 254])
def test_rfid_unknown_state(state: int) -> None:
    event = _event(zone_status(4, 30, 11, state))
    assert event.type == "sensor_activity"
    assert event.action is None


@pytest.mark.parametrize("state", [0, 1, 3, 7, 254, 255])
def test_doorbell_any_state(state: int) -> None:
    event = _event(zone_status(4, 40, 12, state, name=b"Bell"))
    assert event.type == "doorbell"
    assert event.state == state
    assert event.zone_name == "Bell"


# --- status change odd payloads -------------------------------------------------


def test_status_empty_payload() -> None:
    _unknown(status(b""), "status change with an empty payload")


@pytest.mark.parametrize("kind", [0, 1, 5, 255])
def test_status_unknown_kind(kind: int) -> None:
    _unknown(status(bytes([kind]) + bytes(107)), f"status change of unknown kind {kind}")


@pytest.mark.parametrize("kind", [3, 4])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_zone_status_too_short(kind: int, size: int) -> None:
    payload = bytes([kind, 5, 1, 1])[:size]
    _unknown(status(payload), f"status change kind {kind} with {size} bytes")


@pytest.mark.parametrize(
    ("payload", "name", "panel_time"),
    [
        (b"\x04\x05\x01\x01", None, None),
        (b"\x04\x05\x01\x01C", "C", None),
        (b"\x04\x05\x01\x01Cord 1\0\0\0", "Cord 1", None),
        (b"\x04\x05\x01\x01" + b"Cord 1".ljust(32, b"\0") + b"\x20\x22\x14", "Cord 1", None),
        (
            b"\x04\x05\x01\x01" + b"Cord 1".ljust(32, b"\0") + b"\x20\xa2\x94\x67",
            "Cord 1",
            T_DATETIME,
        ),
        (
            b"\x04\x05\x01\x01" + b"Z" * 32 + b"\x20\xa2\x94\x67" + b"\x01" * 200,
            "Z" * 32,
            T_DATETIME,
        ),
    ],
)
def test_zone_status_short_and_long_payloads(
    payload: bytes, name: str | None, panel_time: datetime | None
) -> None:
    event = _event(status(payload))
    assert event.type == "door_open"
    assert event.zone_index == 5
    assert event.zone_name == name
    assert event.panel_time == panel_time


@pytest.mark.parametrize(
    ("payload", "name"),
    [(b"\x03\x05\x01\x03", None), (b"\x03\x05\x01\x03Back door\0\0", "Back door")],
)
def test_alarm_status_short_payload(payload: bytes, name: str | None) -> None:
    event = _event(status(payload))
    assert (event.type, event.zone_index, event.zone_name) == ("alarm", 5, name)
    assert (event.peripheral_type, event.state, event.tamper) == (1, 3, True)
    assert event.panel_time is None


def test_more_zone_names_than_are_remembered() -> None:
    for index in range(1100):
        event = _event(zone_status(4, index % 256, 1, 1, name=f"Zone {index}".encode()))
        assert event.zone_name == f"Zone {index}"
    assert _event(zone_status(4, 1, 1, 1, name=b"Zone 1")).zone_name == "Zone 1"


def test_zone_name_utf8() -> None:
    name = "Küche Tür ☃".encode()
    assert len(name) == 15
    event = _event(zone_status(4, 2, 1, 0, name=name))
    assert event.zone_name == "Küche Tür ☃"


def test_zone_name_invalid_utf8_is_replaced() -> None:
    event = _event(zone_status(4, 2, 1, 0, name=b"Bad \xff\xfe name"))
    assert event.zone_name == "Bad \ufffd\ufffd name"


def test_zone_name_stops_at_first_nul() -> None:
    event = _event(zone_status(4, 2, 1, 0, name=b"Door\0old name left over"))
    assert event.zone_name == "Door"


def test_zone_name_multibyte_cut_at_32_bytes() -> None:
    name = ("a" * 31 + "é").encode()  # 33 bytes: the é is cut in half
    event = _event(status(b"\x04\x02\x01\x00" + name[:32] + b"\x20\xa2\x94\x67"))
    assert event.zone_name == "a" * 31 + "\ufffd"


# --- notification 170 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "name"),
    [(1, "armed_away"), (2, "armed_home"), (3, "disarmed"), (4, "alarm_triggered")],
)
def test_arm_notifications(state: int, name: str) -> None:
    frame = json_notification(f"[170,[1,[{state}]]]")
    assert _event(frame) == PanelEvent(type=EventType(name), state=state, raw=frame)


def test_sensor_added_and_changed() -> None:
    added = json_notification('[170,[4,[3,"Back door",1]]]')
    changed = json_notification('[170,[4,[3,"Back door",2]]]')
    assert _event(added) == PanelEvent(
        type=EventType.SENSOR_ADDED, zone_index=3, zone_name="Back door", raw=added
    )
    assert _event(changed) == PanelEvent(
        type=EventType.SENSOR_CHANGED, zone_index=3, zone_name="Back door", raw=changed
    )


def test_sensor_activity_notification() -> None:
    frame = json_notification('[170,[5,[101,"Wohnzimmer Bewegungsmelder"]]]')
    assert _event(frame) == PanelEvent(
        type=EventType.SENSOR_ACTIVITY,
        zone_index=101,
        zone_name="Wohnzimmer Bewegungsmelder",
        raw=frame,
    )


def test_door_open_when_arming() -> None:
    frame = json_notification('[170,[6,[2,"Front door"]]]')
    assert _event(frame) == PanelEvent(
        type=EventType.DOOR_OPEN_WHEN_ARMING, zone_index=2, zone_name="Front door", raw=frame
    )


@pytest.mark.parametrize("text", ["[170,[8]]", "[170,[8,[]]]", '[170,[8,"x"]]'])
def test_firmware_updating(text: str) -> None:
    frame = json_notification(text)
    assert _event(frame) == PanelEvent(type=EventType.FIRMWARE_UPDATING, raw=frame)


@pytest.mark.parametrize(
    ("text", "index", "name"),
    [
        ("[170,[5,[7]]]", 7, None),
        ("[170,[5,[7,5]]]", 7, None),
        ('[170,[5,[7,"Gara\\u017c"]]]', 7, "Garaż"),
        ('[170,[5,[7,"Garaż"]]]', 7, "Garaż"),
        ('[170,[6,[0,"x",9,9]]]', 0, "x"),
    ],
)
def test_notification_zone_fields(text: str, index: int, name: str | None) -> None:
    event = _event(json_notification(text))
    assert event.zone_index == index
    assert event.zone_name == name


@pytest.mark.parametrize(
    "text",
    [
        "[170,[1,[5]]]",  # unknown arm state
        "[170,[1,[0]]]",
        "[170,[1]]",  # no args
        "[170,[1,[]]]",
        '[170,[1,["1"]]]',
        "[170,[1,[true]]]",
        '[170,[4,[3,"x",3]]]',  # unknown sensor change action
        '[170,[4,[3,"x"]]]',  # no action
        '[170,[4,[3,"x","1"]]]',
        '[170,[5,["7","x"]]]',  # index not a number
        "[170,[5,[]]]",
        '[170,[5,"x"]]',
        "[170,[5]]",
        "[170,[6,[null]]]",
        '[170,[7,[1,"x"]]]',  # unknown kind
        "[170,[99]]",
        '[170,["5",[1,"x"]]]',
        "[170,[]]",
        "[170,5]",
        "[170,null]",
        '[170,{"a":1}]',
    ],
)
def test_notification_not_understood(text: str) -> None:
    value = json.loads(text)
    _unknown(
        json_notification(text),
        "unknown notification " + json.dumps(value, ensure_ascii=False),
    )


# --- code 208: alerts in JSON form ----------------------------------------------


def _alert(*fields: Any) -> bytes:
    return json_notification(json.dumps([208, list(fields)]))


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (1, "ac_power_failure"),
        (3, "disarmed"),
        (4, "armed_away"),
        (5, "armed_home"),
        (8, "wifi_disconnected"),
    ],
)
def test_alert_state_change(code: int, name: str) -> None:
    frame = _alert(2, code, 0, 0, "", "GA00000A0000000", T, 0, 0)
    assert _event(frame) == PanelEvent(
        type=EventType(name), guid="GA00000A0000000", state=code, timestamp=T, raw=frame
    )


def test_alert_state_change_unknown_code() -> None:
    event = _unknown(_alert(2, 42, 0, 0, "", "G", T, 0, 0), "unknown panel state change code 42")
    assert event.state == 42
    assert event.guid == "G"


@pytest.mark.parametrize(
    ("source", "state", "name", "tamper"),
    [
        (10, 3, "sos", False),
        (10, 1, "alarm", False),
        (1, 3, "alarm", True),
        (1, 254, "alarm", False),
        (17, 3, "alarm", True),  # in JSON only source 10 marks a remote
    ],
)
def test_alert_alarm(source: int, state: int, name: str, tamper: bool) -> None:
    frame = _alert(3, 5, source, state, "Remote", "GA00000A0000000", T, 0, "")
    assert _event(frame) == PanelEvent(
        type=EventType(name),
        guid="GA00000A0000000",
        zone_index=5,
        zone_name="Remote",
        timestamp=T,
        source=source,
        state=state,
        tamper=tamper,
        raw=frame,
    )


@pytest.mark.parametrize(
    ("source", "state", "name", "button", "action"),
    [
        (1, 0, "door_close", None, None),
        (1, 1, "door_open", None, None),
        (1, 2, "sos", None, None),
        (1, 3, "tamper", None, None),
        (1, 4, "low_battery", None, None),
        (1, 254, "alarm", None, None),
        (8, 0, "motion", None, None),
        (8, 1, "tamper", None, None),
        (8, 2, "low_battery", None, None),
        (10, 0, "remote_button", "arm_away", None),
        (10, 3, "remote_button", "sos", None),
        (11, 2, "rfid", None, "disarm"),
        (11, 10, "rfid", None, "card_4"),
        (12, 9, "doorbell", None, None),
    ],
)
def test_alert_sensor_activity(
    source: int, state: int, name: str, button: str | None, action: str | None
) -> None:
    event = _event(_alert(4, 7, source, state, "Front", "GA00000A0000000", T, 0, 0))
    assert event.type == name
    assert event.zone_index == 7
    assert event.zone_name == "Front"
    assert event.source == source
    assert event.state == state
    assert event.button == button
    assert event.action == action
    assert event.panel_time == T_DATETIME
    assert event.guid == "GA00000A0000000"


def test_alert_host_sos() -> None:
    frame = _alert(1, 0, 0, 0, "", "GA00000A0000000", T, 0, 0)
    assert _event(frame) == PanelEvent(
        type=EventType.SOS,
        guid="GA00000A0000000",
        source=0,
        state=0,
        timestamp=T,
        raw=frame,
    )


def test_alert_minimal() -> None:
    frame = _alert(4, 7, 1, 1)
    event = _event(frame)
    assert event == PanelEvent(type=EventType.DOOR_OPEN, zone_index=7, source=1, state=1, raw=frame)


@pytest.mark.parametrize(
    ("guid_field", "session_guid", "expected"),
    [
        ("GA00000A0000000", None, "GA00000A0000000"),
        ("GA00000A0000000", "SESSION", "SESSION"),
        ("", None, None),
        (12, None, None),
        ("", "SESSION", "SESSION"),
    ],
)
def test_alert_guid(guid_field: Any, session_guid: str | None, expected: str | None) -> None:
    assert _event(_alert(4, 7, 1, 1, "", guid_field), session_guid).guid == expected


@pytest.mark.parametrize("unix_time", [0, -5, 10**20, 2**63, 1737794080.5, "1737794080", None])
def test_alert_time_unusable(unix_time: Any) -> None:
    event = _event(_alert(4, 7, 1, 1, "x", "G", unix_time))
    assert event.type == "door_open"
    assert event.panel_time is None


def test_alert_name_not_text() -> None:
    assert _event(_alert(4, 7, 1, 1, 5)).zone_name is None


@pytest.mark.parametrize(
    "fields",
    [
        [9, 7, 1, 1],  # unknown kind
        [0, 7, 1, 1],
        [4, 7, 1],  # too short
        [],
        [4, "7", 1, 1],  # not numbers
        [4, 7, 1, True],
        [4, 7, 1.0, 1],
        [None, 7, 1, 1],
    ],
)
def test_alert_not_understood(fields: list[Any]) -> None:
    _unknown(_alert(*fields), "unknown notification [208, ")


@pytest.mark.parametrize("data", ["5", "null", '"x"', '{"kind":4}'])
def test_alert_data_not_a_list(data: str) -> None:
    _unknown(json_notification(f"[208,{data}]"), "unknown notification [208, ")


# --- odd notifications ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("[300,[1]]", "unknown notification [300, [1]]"),
        ("[0,null]", "unknown notification [0, null]"),
        ('{"code":170}', 'unexpected notification {"code": 170}'),
        ("170", "unexpected notification 170"),
        ('"text"', 'unexpected notification "text"'),
        ("null", "unexpected notification null"),
        ("[]", "unexpected notification []"),
        ("[170]", "unexpected notification [170]"),
        ("[170,[5,[1]],0]", "unexpected notification [170, [5, [1]], 0]"),
        ('["170",[8]]', 'unexpected notification ["170", [8]]'),
        ("[true,[8]]", "unexpected notification [true, [8]]"),
        ("[170.0,[8]]", "unexpected notification [170.0, [8]]"),
        ("[NaN,[8]]", "unexpected notification [NaN, [8]]"),
    ],
)
def test_notification_unexpected_shape(text: str, detail: str) -> None:
    event = _unknown(json_notification(text), detail)
    assert event.detail == detail


@pytest.mark.parametrize(
    "body",
    [
        b"[170,\0",
        b"\0",
        b"[170,[8]]]\0",
        b"\xff[170,[8]]\0",
        b"{'a': 1}\0",
        b'[170,[5,[1,"x"]]] [1]\0',
    ],
)
def test_malformed_json(body: bytes) -> None:
    _unknown(notification(body), "malformed JSON: ")


def test_malformed_json_detail_shows_replaced_text() -> None:
    event = _unknown(notification(b"\xff[1\0"), "malformed JSON")
    assert event.detail == "malformed JSON: '\ufffd[1'"


def test_malformed_json_detail_is_bounded() -> None:
    event = _unknown(notification(b"[" + b"1," * 500 + b"\0"), "malformed JSON")
    assert event.detail == "malformed JSON: " + repr("[" + "1," * 99 + "1")


@pytest.mark.parametrize("text", ["[170,[1,[3]]] ", " [170,[1,[3]]]", "[170,[1,[3]]]\n"])
def test_whitespace_around_the_json(text: str) -> None:
    assert _event(json_notification(text)).type == "disarmed"


def test_missing_nul_still_decodes() -> None:
    # "Decode what is decodable": a firmware that leaves the NUL out loses nothing.
    assert _event(notification(b"[170,[8]]")).type == "firmware_updating"
    event = _event(notification(b'[170,[5,[101,"Cord 1"]]]'))
    assert (event.type, event.zone_index, event.zone_name) == ("sensor_activity", 101, "Cord 1")


def test_missing_nul_and_no_text() -> None:
    _unknown(notification(b""), "malformed JSON: ''")


def test_text_after_the_nul_is_ignored() -> None:
    assert _event(notification(b"[170,[8]]\0trailing junk\0")).type == "firmware_updating"


def test_invalid_utf8_in_a_name_is_replaced() -> None:
    event = _event(notification(b'[170,[5,[101,"Cord \xff1"]]]\0'))
    assert event.type == "sensor_activity"
    assert event.zone_name == "Cord \ufffd1"


def test_deeply_nested_json_within_a_frame() -> None:
    depth = 4000
    frame = notification(b"[" * depth + b"]" * depth + b"\0")
    assert len(frame) < 8192
    ((_, _, (event,), _),) = Session(cloud_ip="1.2.3.4", cloud_port=1).receive(frame)
    assert event.type == "unknown"
    assert event.detail == "unexpected notification " + "[" * 200 + "..."


def test_deeply_nested_json_beyond_the_parser() -> None:
    depth = 200_000
    event = _unknown(notification(b"[" * depth + b"]" * depth + b"\0"), "malformed JSON")
    assert event.detail == "malformed JSON: " + repr("[" * 200)


def test_detail_of_a_value_too_deep_to_print() -> None:
    value: list[Any] = []
    for _ in range(200_000):
        value = [value]
    assert events._short(value) == "a list nested too deeply to show"


def test_long_unknown_detail_is_bounded() -> None:
    text = "[300," + json.dumps(["x" * 300]) + "]"
    event = _unknown(json_notification(text), "unknown notification")
    assert event.detail == "unknown notification " + ('[300, ["' + "x" * 300)[:200] + "..."


# --- unknown and malformed messages ---------------------------------------------


def test_unknown_message_event() -> None:
    frame = basic(0x99, 0x10, 0x20, b"abc")
    event = _event(frame, "G")
    assert event == PanelEvent(
        type=EventType.UNKNOWN,
        guid="G",
        detail="unknown message 0x99 from 0x10 to 0x20",
        raw=frame,
    )


def test_malformed_message_event() -> None:
    frame = fix_length(samples.HELLO[:-1])
    event = _event(frame)
    assert event == PanelEvent(
        type=EventType.UNKNOWN, detail="hello: payload is 59 bytes, expected 60", raw=frame
    )


def test_versioned_unknown_message_event() -> None:
    frame = versioned(0x21, 0x10, 0x20, b"\x04", version=2)
    assert _event(frame).detail == "status_change: protocol version 2, expected 1"


# --- PanelEvent.fields ----------------------------------------------------------


def test_fields_of_a_sensor_event() -> None:
    session = Session(cloud_ip="1.2.3.4", cloud_port=1)
    session.receive(samples.HELLO)
    ((_, _, (event,), _),) = session.receive(samples.STATUS_DOOR_OPEN)
    fields = event.fields()
    assert fields == {
        "type": "door_open",
        "guid": "GA00000A0000000",
        "zone_index": 32,
        "zone_name": "Cord 1",
        "panel_time": "2025-02-04T15:22:25+00:00",
        "source": 1,
        "state": 1,
        "raw": "2110002078000000010000000420010143"
        "6f7264203100" + "00" * 25 + "b130a267" + "00" * 68,
    }
    assert json.loads(json.dumps(fields)) == fields


def test_fields_keep_false_and_zero() -> None:
    frame = zone_status(3, 0, 1, 0, name=b"", timestamp=0)
    assert _event(frame).fields() == {
        "type": "alarm",
        "zone_index": 0,
        "zone_name": "",
        "peripheral_type": 1,
        "state": 0,
        "tamper": False,
        "raw": frame.hex(),
    }


def test_fields_of_buttons_actions_and_details() -> None:
    remote = PanelEvent(type=EventType.REMOTE_BUTTON, button="sos", raw=b"\x01\xab")
    assert remote.fields() == {"type": "remote_button", "button": "sos", "raw": "01ab"}
    rfid = PanelEvent(type=EventType.RFID, action="card_2")
    assert rfid.fields() == {"type": "rfid", "action": "card_2", "raw": ""}
    unknown = PanelEvent(type=EventType.UNKNOWN, detail="why", tamper=True)
    assert unknown.fields() == {"type": "unknown", "tamper": True, "detail": "why", "raw": ""}


def test_fields_minimal() -> None:
    assert PanelEvent(type=EventType.FIRMWARE_UPDATING).fields() == {
        "type": "firmware_updating",
        "raw": "",
    }
