"""The command vocabulary: request bodies, cloud framing and reply decoding, from the notes."""

from __future__ import annotations

from datetime import UTC, datetime
import json
import struct
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.g90_cloud.g90.commands import (
    Ack,
    AlertFlags,
    AlertMode,
    ArmState,
    CommandCode,
    CommandError,
    CommandRefused,
    CommandTimeout,
    DeviceRecord,
    HistoryRecord,
    HostConfig,
    HostInfo,
    HostStatus,
    InconsistentPage,
    ListChanged,
    MalformedReply,
    Page,
    Pager,
    RawReply,
    ReplyError,
    Request,
    SensorFlag,
    WrongReplyCode,
    arm_away,
    arm_home,
    command_frame,
    decode_history_page,
    decode_reply,
    decode_sensor_page,
    disarm,
    get_alert_flags,
    get_host_config,
    get_host_info,
    get_host_status,
    history_pager,
    is_refusal,
    raw_command,
    relay_pager,
    reply_code,
    request_from_body,
    request_from_command,
    response_text,
    sensor_pager,
    set_alert_flags,
    set_host_status,
    switch_relay,
)
from custom_components.g90_cloud.g90.events import AlertKind
from custom_components.g90_cloud.g90.messages import CloudCommand, CommandResponse, decode

from . import samples
from .frames import basic, versioned

QUICK = settings(max_examples=300, deadline=None)
KNOWN_CODES = [int(code) for code in CommandCode]
CORD_1 = DeviceRecord("Cord 1", 12, 0, 126, 1, 0, 32, 0, 5, 16, 1, 0, "")


def page_text(
    code: int, total: int, first: int, records: list[Any], count: int | None = None
) -> str:
    header = [total, first, len(records) if count is None else count]
    return json.dumps([code, [header, *records]], separators=(",", ":"))


def sensor(index: int) -> list[Any]:
    return [f"Zone {index}", index, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, ""]


# --- cloud framing: the notes' bytes ------------------------------------------------


def test_host_status_command_frame_is_the_real_clouds() -> None:
    expected = bytes.fromhex("29 50 00 10 17 00 00 00 01 00 06 00 02 00 64 00 64 00 05 00 00 00 00")
    assert expected == samples.CLOUD_COMMAND
    assert command_frame(6, get_host_status().request) == expected
    assert command_frame(6, Request(100)) == expected


def test_history_command_frame_is_the_real_clouds() -> None:
    request = history_pager().next_request()
    assert request == Request(200, [1, 10])
    assert command_frame(5, request) == samples.CLOUD_COMMAND_HISTORY
    assert len(samples.CLOUD_COMMAND_HISTORY) == 0x23


def test_command_frame_is_built_by_cloud_command() -> None:
    """One encoder: the frame decodes to the CloudCommand that built it."""
    frame = command_frame(300, Request(137, [10, 0, 0]))
    assert decode(frame) == CloudCommand(137, b"[137,[10,0,0]]\0", sequence=300)
    assert frame == versioned(
        0x29, 0x50, 0x10, struct.pack("<HHHi", 2, 137, 137, 5) + b"[137,[10,0,0]]\0", sequence=300
    )


@pytest.mark.parametrize("sequence", [-1, 65536])
def test_command_frame_refuses_a_sequence_out_of_range(sequence: int) -> None:
    with pytest.raises(ValueError, match="sequence"):
        command_frame(sequence, Request(100))


def test_the_real_clouds_commands_read_back_as_requests() -> None:
    history = decode(samples.CLOUD_COMMAND_HISTORY)
    status = decode(samples.CLOUD_COMMAND)
    assert isinstance(history, CloudCommand)
    assert isinstance(status, CloudCommand)
    assert (history.sequence, status.sequence) == (5, 6)
    assert request_from_command(history) == Request(200, (1, 10))
    assert request_from_command(status) == Request(100)


def test_the_panels_command_response_decodes_to_host_config() -> None:
    response = decode(samples.COMMAND_RESPONSE)
    assert isinstance(response, CommandResponse)
    assert (response.sequence, response.code) == (6, 106)
    text = response_text(response)
    assert text == samples.HOST_CONFIG_REPLY
    config = decode_reply(response.code, text)
    assert config == HostConfig(900, 0, 0, 1, 2, 2, 60, 2, 0, 180, ring_volume=2)
    assert isinstance(config, HostConfig)
    assert (config.siren_duration, config.ring_duration, config.timezone_offset) == (900, 60, 180)
    assert config.ring_volume == 2
    assert config.raw == text
    assert get_host_config().decode(text) == config


def test_response_text_stops_at_the_nul_and_replaces_bad_utf8() -> None:
    head = struct.pack("<HiHiHH", 1, 9, 0, 9, 100, 100)
    response = decode(basic(0x01, 0x00, 0x20, head + b'[100,[3,"\xff"]]\0junk'))
    assert isinstance(response, CommandResponse)
    assert response_text(response) == '[100,[3,"\ufffd"]]'
    assert response_text(CommandResponse(1, 101)) == ""
    assert response_text(CommandResponse(1, 101, b"[101]")) == "[101]"


# --- request bodies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "body"),
    [
        (arm_away().request, b"[101,[1]]"),
        (arm_home().request, b"[101,[2]]"),
        (disarm().request, b"[101,[3]]"),
        (set_host_status(ArmState.DISARMED).request, b"[101,[3]]"),
        (sensor_pager().next_request(), b"[102,[1,10]]"),
        (relay_pager().next_request(), b"[138,[1,10]]"),
        (history_pager().next_request(), b"[200,[1,10]]"),
        (switch_relay(10, on=True).request, b"[137,[10,0,0]]"),
        (switch_relay(10, on=False).request, b"[137,[10,1,0]]"),
        (switch_relay(3, on=True, channel=1).request, b"[137,[3,0,1]]"),
        (set_alert_flags(9).request, b"[116,[9]]"),
        (set_alert_flags(AlertFlags.DOOR_CLOSE | 2048).request, b"[116,[2304]]"),
        (get_host_status().request, b""),
        (get_host_config().request, b""),
        (get_alert_flags().request, b""),
        (get_host_info().request, b""),
        (raw_command(160).request, b""),
        (raw_command(999, ["é", [1, None]]).request, '[999,["é",[1,null]]]'.encode()),
        (Request(100, []), b"[100,[]]"),
    ],
)
def test_request_body(request_: Request | None, body: bytes) -> None:
    assert request_ is not None
    assert request_.body() == body


def test_request_keeps_its_parameters_as_a_tuple() -> None:
    request = Request(CommandCode.GET_SENSORS, [1, 10])
    assert request == Request(102, (1, 10))
    assert request.params == (1, 10)
    assert type(request.code) is int
    assert hash(request) == hash(Request(102, (1, 10)))


@pytest.mark.parametrize(
    ("code", "params", "error"),
    [
        (-1, None, ValueError),
        (65536, None, ValueError),
        (True, None, TypeError),
        ("100", None, TypeError),
        (100, "1,10", TypeError),
        (100, [float("nan")], ValueError),
        (100, [object()], ValueError),
    ],
)
def test_request_refuses_what_cannot_be_sent(
    code: Any, params: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        Request(code, params)


@pytest.mark.parametrize(
    "make",
    [
        lambda: set_host_status(ArmState.ALARM),
        lambda: set_host_status(0),
        lambda: set_alert_flags(-1),
        lambda: set_alert_flags(2**31),
        lambda: switch_relay(-1, on=True),
        lambda: switch_relay(1, on=True, channel=-1),
    ],
)
def test_command_helpers_refuse_values_a_panel_cannot_take(make: Any) -> None:
    with pytest.raises(ValueError, match=r"states 1, 2 or 3|out of range|negative"):
        make()


def test_set_alert_flags_wants_an_int() -> None:
    with pytest.raises(TypeError):
        set_alert_flags("9")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "body", "request_"),
    [
        (100, b"\0", Request(100)),
        (100, b"", Request(100)),
        (200, b"[200,[1,10]]\0", Request(200, (1, 10))),
        (101, b"[101,[3]]", Request(101, (3,))),
        (101, b"[102,[3]]\0", None),
        (101, b"[101,3]\0", None),
        (101, b"[101,[3],4]\0", None),
        (101, b"[101,[NaN]]\0", None),
        (101, b"{}\0", None),
        (101, b"[101\0", None),
        (70000, b"\0", None),
    ],
)
def test_request_from_body(code: int, body: bytes, request_: Request | None) -> None:
    assert request_from_body(code, body) == request_


# --- replies: the notes' samples ------------------------------------------------------


def test_host_status_reply() -> None:
    text = '[100,[3,"PHONE","PRODUCT","206","206"]]'
    status = decode_reply(100, text)
    assert status == HostStatus(ArmState.DISARMED, "PHONE", "PRODUCT", "206", "206")
    assert isinstance(status, HostStatus)
    assert status.state is ArmState.DISARMED
    assert status.raw == text
    assert get_host_status().decode(text) == status
    assert json.dumps([100, status.values()], separators=(",", ":")) == text


@pytest.mark.parametrize(
    ("number", "state"),
    [
        (1, ArmState.ARMED_AWAY),
        (2, ArmState.ARMED_HOME),
        (3, ArmState.DISARMED),
        (4, ArmState.ALARM),
    ],
)
def test_host_status_states(number: int, state: ArmState) -> None:
    status = decode_reply(100, f'[100,[{number},"","","",""]]')
    assert isinstance(status, HostStatus)
    assert status.state is state


def test_host_status_keeps_an_unknown_state_as_its_number() -> None:
    status = get_host_status().decode('[100,[9,"","","","","extra"]]')
    assert status.state == 9
    assert not isinstance(status.state, ArmState)


def test_host_info_reply() -> None:
    info = get_host_info().decode(samples.HOST_INFO_REPLY)
    assert info == HostInfo(
        "DUMMYGUID", "DUMMYPRODUCT", "1.2", "1.1", "206", "206", 3, 3, 0, 2, "4242", 50, 100
    )
    assert info.battery_voltage == "4242"
    assert info.battery_millivolts == 4242
    assert (info.gsm_signal, info.wifi_signal) == (50, 100)
    assert info.raw == samples.HOST_INFO_REPLY
    assert decode_reply(206, samples.HOST_INFO_REPLY) == info
    assert json.dumps([206, info.values()], separators=(",", ":")) == samples.HOST_INFO_REPLY


@pytest.mark.parametrize(
    ("battery", "millivolts"),
    [('"4242"', 4242), ('" 3900 "', 3900), ('""', None), ('"4.2V"', None), ("4100", 4100)],
)
def test_host_info_battery_voltage(battery: str, millivolts: int | None) -> None:
    info = get_host_info().decode(f'[206,["","P","1.2","1.1","1","1",0,0,0,0,{battery},0,0]]')
    assert info.guid == ""
    assert info.battery_millivolts == millivolts


def test_host_config_without_ring_volume() -> None:
    config = get_host_config().decode("[106,[900,0,0,1,2,2,60,2,0,-180]]")
    assert config == HostConfig(900, 0, 0, 1, 2, 2, 60, 2, 0, -180)
    assert config.ring_volume is None
    assert config.values() == [900, 0, 0, 1, 2, 2, 60, 2, 0, -180]


def test_sensor_record_sample() -> None:
    page = decode_reply(102, f"[102,[[1,1,1],{samples.SENSOR_RECORD}]]")
    assert page == Page(1, 1, 1, (CORD_1,))
    assert isinstance(page, Page)
    (record,) = page.records
    assert isinstance(record, DeviceRecord)
    assert record.raw == samples.SENSOR_RECORD
    assert (record.name, record.index, record.peripheral_type, record.subtype) == (
        "Cord 1",
        12,
        126,
        1,
    )
    assert (record.user_flags, record.protocol, record.reserved, record.node_count) == (
        32,
        5,
        16,
        1,
    )
    assert record.wired
    assert not record.enabled
    assert record.alert_mode is AlertMode.AWAY_AND_HOME
    assert record.channels == 1
    assert record.flags == SensorFlag.ALERT_AWAY_AND_HOME
    assert json.dumps(record.values(), separators=(",", ":")) == samples.SENSOR_RECORD


@pytest.mark.parametrize(
    ("flags", "enabled", "mode"),
    [
        (0, False, AlertMode.ALWAYS),
        (1, True, AlertMode.ALWAYS),
        (65, True, AlertMode.AWAY_ONLY),
        (33, True, AlertMode.AWAY_AND_HOME),
        (97, True, AlertMode.AWAY_AND_HOME),
        (512 | 4096, False, AlertMode.ALWAYS),
    ],
)
def test_sensor_flags(flags: int, enabled: bool, mode: AlertMode) -> None:
    record = DeviceRecord("Door", 1, user_flags=flags)
    assert record.enabled is enabled
    assert record.alert_mode is mode
    assert int(record.flags) == flags


@pytest.mark.parametrize(("nodes", "channels"), [(0, 1), (1, 1), (3, 3)])
def test_device_channels(nodes: int, channels: int) -> None:
    record = DeviceRecord("Switch", 1, peripheral_type=137, node_count=nodes)
    assert record.channels == channels
    assert not record.wired


def test_history_record_sample() -> None:
    page = decode_reply(200, f"[200,[[1,1,1],{samples.HISTORY_RECORD}]]")
    assert isinstance(page, Page)
    (record,) = page.records
    assert record == HistoryRecord(3, 33, 1, 1, "Sensor 1", 1630147285, "")
    assert isinstance(record, HistoryRecord)
    assert record.raw == samples.HISTORY_RECORD
    assert record.alert_kind is AlertKind.ALARM
    assert record.time == datetime(2021, 8, 28, 10, 41, 25, tzinfo=UTC)
    assert json.dumps(record.values(), separators=(",", ":")) == samples.HISTORY_RECORD


@pytest.mark.parametrize("timestamp", [0, -5, 10**15])
def test_history_record_absurd_time(timestamp: int) -> None:
    record = HistoryRecord(9, 1, 0, 0, "", timestamp)
    assert record.time is None
    assert record.alert_kind is None


def test_alert_flags_keep_unknown_bits_when_a_bit_changes() -> None:
    flags = get_alert_flags().decode("[117,[10633]]")  # 8192 + 2048 + 256 + 128 + 8 + 1
    assert flags == 10633
    assert flags & AlertFlags.DOOR_CLOSE
    without = flags.with_flag(AlertFlags.DOOR_CLOSE, on=False)
    assert int(without) == 10633 - 256
    assert int(without) & (2048 | 8192) == 2048 | 8192
    assert isinstance(without, AlertFlags)
    back = without.with_flag(AlertFlags.DOOR_CLOSE, on=True)
    assert int(back) == 10633
    assert int(back.with_flag(AlertFlags.DOOR_CLOSE, on=True)) == 10633
    assert int(AlertFlags(0).with_flag(AlertFlags.SMS_PUSH, on=True)) == 512
    assert set_alert_flags(without).request.body() == b"[116,[10377]]"


@pytest.mark.parametrize("code", [101, 116, 137])
@pytest.mark.parametrize("text", ["", "   ", "\0", "[{code}]", "[{code},null]", "[{code},[1]]"])
def test_commands_that_return_nothing_accept_any_reply_of_theirs(code: int, text: str) -> None:
    reply = decode_reply(code, text.format(code=code))
    assert reply == Ack(code)
    assert isinstance(reply, Ack)
    assert reply.raw == text.format(code=code)


def test_typed_commands_decode_their_acks() -> None:
    assert arm_away().decode("") == Ack(101)
    assert switch_relay(1, on=True).decode("") == Ack(137)
    assert set_alert_flags(1).decode("[116]") == Ack(116)


def test_an_unknown_code_decodes_to_its_raw_json() -> None:
    text = '[160,["a","b","c","d","e","f"]]'
    assert decode_reply(160, text) == RawReply(160, ["a", "b", "c", "d", "e", "f"])
    assert decode_reply(160, "") == RawReply(160, None)
    assert decode_reply(999, "[999]") == RawReply(999, None)
    assert raw_command(160).decode(text) == RawReply(160, ["a", "b", "c", "d", "e", "f"], raw=text)
    assert raw_command(100).decode('[100,[1,"","","",""]]') == HostStatus(
        ArmState.ARMED_AWAY, "", "", "", ""
    )


# --- replies that are not a success ------------------------------------------------------


@pytest.mark.parametrize("code", [*KNOWN_CODES, 160])
@pytest.mark.parametrize("text", ["fail", " fail\n", "error", "error: busy", "fail\0"])
def test_refusals_are_typed(code: int, text: str) -> None:
    with pytest.raises(CommandRefused) as caught:
        decode_reply(code, text)
    assert caught.value.code == code
    assert caught.value.raw == text
    assert is_refusal(text)


@pytest.mark.parametrize(
    ("code", "text", "reason"),
    [
        (100, "[100,[3", "not JSON"),
        (100, "{}", "not [code, data]"),
        (100, "[]", "not [code, data]"),
        (100, '["100",[]]', "not [code, data]"),
        (100, "[true,[]]", "not [code, data]"),
        (100, "", "no data"),
        (100, "[100]", "no data"),
        (100, '[100,[3,"PHONE","PRODUCT","206"]]', "host status has 4 fields, expected 5"),
        (100, '[100,[true,"P","P","2","2"]]', "field 0 is true, not an integer"),
        (100, '[100,[3.0,"P","P","2","2"]]', "field 0 is 3.0, not an integer"),
        (100, '[100,[3,null,"P","2","2"]]', "field 1 is null, not a string"),
        (100, '[100,{"state":3}]', "not a list"),
        (106, "[106,[900,0,0,1,2,2,60,2,0]]", "host config has 9 fields, expected 10"),
        (106, '[106,[900,0,0,1,2,2,60,2,0,180,"2"]]', "field 10"),
        (117, "[117,[]]", "alert flags has 0 fields"),
        (117, "[117,[-1]]", "negative"),
        (117, "[117,9]", "not a list"),
        (206, '[206,["","P","1.2","1.1","1","1",0,0,0,0,4.2,0,0]]', "field 10 is 4.2"),
        (102, "[102,[]]", "page is not"),
        (102, "[102,{}]", "page is not"),
        (102, "[102,[[1,1]]]", "page header has 2 fields"),
        (102, "[102,[[1,-1,0]]]", "negative"),
        (102, '[102,[[1,1,1],["Cord 1",12]]]', "record 1 has 2 fields"),
        (138, f"[138,[[2,1,2],{samples.SENSOR_RECORD},7]]", "record 2 is 7, not a list"),
        (200, '[200,[[1,1,1],[3,33,1,1,"S",1630147285,[]]]]', "field 6 is [], not a scalar"),
        (200, '[200,[[1,1,1],[3,33,1,1,null,1630147285,""]]]', "field 4 is null"),
        (160, "nonsense", "not JSON"),
        (160, "[" * 100_000, "not JSON"),
    ],
)
def test_malformed_replies_are_typed_errors(code: int, text: str, reason: str) -> None:
    with pytest.raises(MalformedReply) as caught:
        decode_reply(code, text)
    assert reason in caught.value.reason
    assert caught.value.raw == text
    assert caught.value.code == code
    assert isinstance(caught.value, ReplyError)
    assert isinstance(caught.value, CommandError)


def test_a_long_field_is_cut_short_in_the_reason() -> None:
    with pytest.raises(MalformedReply) as caught:
        decode_reply(100, json.dumps([100, ["x" * 500, "", "", "", ""]]))
    assert caught.value.reason.endswith("..., not an integer")
    assert len(caught.value.reason) < 120
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize("depth", [10, 1_000, 50_000, 70_000, 200_000])
def test_deep_nesting_gives_a_typed_value_or_a_typed_error(depth: int) -> None:
    """However deep an extra field nests, nothing but a ReplyError escapes."""
    nested = "[" * depth + "]" * depth
    text = f"[102,[[1,1,1],{samples.SENSOR_RECORD[:-1]},{nested}]]]"
    outcome: Any
    try:
        outcome = decode_reply(102, text)
    except ReplyError as err:
        outcome = err
    if isinstance(outcome, ReplyError):
        assert outcome.reason == "not JSON"
    else:
        assert outcome.records[0].name == "Cord 1"


@pytest.mark.parametrize("code", [*KNOWN_CODES, 160])
def test_another_commands_code_is_a_typed_error(code: int) -> None:
    text = "[7,[1,2,3]]"
    with pytest.raises(WrongReplyCode) as caught:
        decode_reply(code, text)
    assert (caught.value.code, caught.value.reply_code, caught.value.raw) == (code, 7, text)


def test_a_page_whose_count_is_not_its_records_is_inconsistent() -> None:
    text = page_text(102, 5, 1, [sensor(1), sensor(2)], count=3)
    with pytest.raises(InconsistentPage, match="counts 3 records, the page holds 2"):
        decode_reply(102, text)


def test_command_timeout_is_a_timeout_error() -> None:
    error = CommandTimeout(100, 3)
    assert isinstance(error, TimeoutError)
    assert isinstance(error, CommandError)
    assert (error.code, error.attempts) == (100, 3)
    assert str(error) == "command 100: no reply after 3 attempt(s)"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[100,[3]]", 100),
        (" [ 206 ]", 206),
        ("[102,[[2,1", 102),
        ("[1.5,2]", None),
        ("100", None),
        ("", None),
        ("[1234567,1]", None),
    ],
)
def test_reply_code_reads_the_leading_code(text: str, code: int | None) -> None:
    assert reply_code(text) == code


# --- pages -------------------------------------------------------------------------------


def test_empty_lists_and_empty_replies() -> None:
    assert decode_reply(102, "[102,[[0,0,0]]]") == Page(0, 0, 0, ())
    assert decode_reply(138, "") == Page(None, 0, 0, ())
    assert decode_reply(200, "[200,[[3,4,0]]]") == Page(3, 4, 0, ())


def test_pager_fetches_page_after_page_until_the_total() -> None:
    records = [sensor(index) for index in range(1, 26)]
    pager = sensor_pager()
    asked = []
    while (request := pager.next_request()) is not None:
        asked.append(request.params)
        first, last = request.params or ()
        chunk = records[first - 1 : last]
        page = pager.feed(page_text(102, 25, first, chunk))
        assert len(page.records) == len(chunk)
    assert asked == [(1, 10), (11, 20), (21, 30)]
    assert pager.done
    assert pager.total == 25
    assert [record.index for record in pager.records] == list(range(1, 26))
    assert pager.next_request() is None
    with pytest.raises(RuntimeError):
        pager.feed("")


def test_pager_stops_at_an_empty_page_or_an_empty_reply() -> None:
    pager = relay_pager()
    pager.feed(page_text(138, 12, 1, [sensor(i) for i in range(1, 11)]))
    assert pager.next_request() == Request(138, (11, 20))  # not done yet
    pager.feed("")  # asked past the end (the list shrank)
    assert pager.done
    assert len(pager.records) == 10

    pager = relay_pager()
    pager.feed("[138,[[0,0,0]]]")
    assert pager.done
    assert pager.records == ()
    assert pager.total == 0


def test_pager_asks_again_from_where_a_short_page_ended() -> None:
    pager = sensor_pager()
    pager.feed(page_text(102, 12, 1, [sensor(i) for i in range(1, 6)]))
    assert pager.next_request() == Request(102, (6, 15))


def test_pager_limit_and_page_size() -> None:
    pager = history_pager(page_size=3, limit=5)
    history = [[4, i, 1, 1, f"Zone {i}", 1630147285 - i, ""] for i in range(1, 9)]
    assert pager.next_request() == Request(200, (1, 3))
    pager.feed(page_text(200, 8, 1, history[0:3]))
    assert pager.next_request() == Request(200, (4, 5))
    pager.feed(page_text(200, 8, 4, history[3:5]))
    assert pager.done
    assert [record.event_id for record in pager.records] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("page_size", "limit"), [(0, None), (10, 0)])
def test_pager_wants_positive_sizes(page_size: int, limit: int | None) -> None:
    with pytest.raises(ValueError, match="positive"):
        sensor_pager(page_size=page_size, limit=limit)


@pytest.mark.parametrize(
    ("texts", "error", "reason"),
    [
        (
            [page_text(102, 30, 1, [sensor(i) for i in range(1, 12)])],
            InconsistentPage,
            "11 records for 10 asked",
        ),
        (
            [page_text(102, 3, 1, [sensor(i) for i in range(1, 5)])],
            InconsistentPage,
            "more records than the total of 3",
        ),
        ([page_text(102, 30, 1, [sensor(1)], count=2)], InconsistentPage, "counts 2 records"),
        (
            [
                page_text(102, 15, 1, [sensor(i) for i in range(1, 11)]),
                page_text(102, 16, 11, [sensor(i) for i in range(11, 17)]),
            ],
            ListChanged,
            "the list had 15 records, now 16",
        ),
        (
            [
                page_text(102, 12, 1, [sensor(i) for i in range(1, 11)]),
                page_text(102, 12, 11, [sensor(i) for i in range(11, 14)]),
            ],
            InconsistentPage,
            "more records than the total of 12",
        ),
        (["[102,[[2,1,1],[1]]]"], MalformedReply, "record 1 has 1 fields"),
        (["[138,[[2,1,0]]]"], WrongReplyCode, "reply carries code 138"),
        (["fail"], CommandRefused, "refused"),
    ],
)
def test_pager_consistency_checks_leave_it_unchanged(
    texts: list[str], error: type[ReplyError], reason: str
) -> None:
    pager = sensor_pager()
    for text in texts[:-1]:
        pager.feed(text)
    before = (pager.next_request(), pager.records, pager.total, pager.done)
    with pytest.raises(error) as caught:
        pager.feed(texts[-1])
    assert reason in caught.value.reason
    assert caught.value.raw == texts[-1]
    assert (pager.next_request(), pager.records, pager.total, pager.done) == before


def test_pager_is_generic_over_any_page_decoder() -> None:
    pager = Pager(102, decode_sensor_page, page_size=1)
    assert pager.next_request() == Request(102, (1, 1))
    pager.feed(page_text(102, 1, 1, [sensor(4)]))
    assert pager.records == (DeviceRecord("Zone 4", 4, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, ""),)


# --- properties: whatever the text, a typed value or a typed error --------------------------

finite_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_scalars = finite_scalars | st.floats(allow_nan=False)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=14) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=40,
)
codes = st.sampled_from([*KNOWN_CODES, 160, 0]) | st.integers(0, 70000)


def _page_shaped(draw: st.DrawFn) -> Any:
    header = draw(st.lists(st.integers(-2, 30), min_size=0, max_size=4))
    records = draw(st.lists(json_values, max_size=4))
    return [header, *records]


@st.composite
def reply_texts(draw: st.DrawFn) -> tuple[int, str]:
    code = draw(codes)
    shape = draw(st.sampled_from(["any", "json", "envelope", "page", "fields"]))
    if shape == "any":
        return code, draw(st.text(max_size=60))
    if shape == "json":
        return code, json.dumps(draw(json_values))
    if shape == "envelope":
        return code, json.dumps([draw(st.sampled_from([code, code + 1])), draw(json_values)])
    if shape == "page":
        return code, json.dumps([code, _page_shaped(draw)])
    fields = draw(st.lists(json_scalars, min_size=0, max_size=14))
    return code, json.dumps([code, fields])


@QUICK
@given(reply_texts())
def test_any_reply_text_gives_a_typed_value_or_a_typed_error(case: tuple[int, str]) -> None:
    code, text = case
    outcome: Any
    try:
        outcome = decode_reply(code, text)
    except ReplyError as err:
        outcome = err
    if isinstance(outcome, ReplyError):
        assert (outcome.code, outcome.raw) == (code, text)
    else:
        assert isinstance(
            outcome, (HostStatus, HostInfo, HostConfig, AlertFlags, Ack, Page, RawReply)
        )


@st.composite
def page_texts(draw: st.DrawFn, code: int) -> str:
    if draw(st.booleans()):
        return json.dumps([code, _page_shaped(draw)])
    total = draw(st.integers(0, 25))
    first = draw(st.integers(0, 25))
    records = [sensor(1) if code != 200 else [4, 1, 1, 1, "Z", 1, ""]] * draw(st.integers(0, 12))
    return page_text(code, total, first, records, count=draw(st.none() | st.integers(0, 12)))


@QUICK
@given(st.sampled_from([sensor_pager, relay_pager, history_pager]), st.data())
def test_any_page_text_leaves_the_pager_consistent(make: Any, data: st.DataObject) -> None:
    pager = make()
    for _ in range(4):
        if pager.done:
            break
        before = (pager.next_request(), pager.records, pager.total)
        text = data.draw(page_texts(pager.code) | reply_texts().map(lambda case: case[1]))
        try:
            pager.feed(text)
        except ReplyError:
            assert (pager.next_request(), pager.records, pager.total) == before
        else:
            assert pager.total is None or len(pager.records) <= pager.total


int32 = st.integers(0, 2**31 - 1)
names = st.text(max_size=20)
device_records = st.builds(
    DeviceRecord,
    names,
    int32,
    int32,
    int32,
    int32,
    int32,
    int32,
    int32,
    int32,
    int32,
    int32,
    int32,
    names,
)
history_records = st.builds(HistoryRecord, int32, int32, int32, int32, names, int32, json_scalars)


@QUICK
@given(st.lists(device_records, max_size=10))
def test_device_records_read_back_from_their_values(records: list[DeviceRecord]) -> None:
    text = page_text(138, len(records), 1, [record.values() for record in records])
    page = decode_reply(138, text)
    assert isinstance(page, Page)
    assert page.records == tuple(records)


@QUICK
@given(st.lists(history_records, max_size=10))
def test_history_records_read_back_from_their_values(records: list[HistoryRecord]) -> None:
    text = page_text(200, len(records), 1, [record.values() for record in records])
    page = decode_reply(200, text)
    assert isinstance(page, Page)
    assert page.records == tuple(records)


@QUICK
@given(
    st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.none() | st.lists(finite_scalars, max_size=5)
)
def test_command_frames_read_back_as_their_requests(
    sequence: int, code: int, params: list[Any] | None
) -> None:
    request = Request(code, params)
    message = decode(command_frame(sequence, request))
    assert isinstance(message, CloudCommand)
    assert (message.sequence, message.code) == (sequence, code)
    assert request_from_command(message) == request


# --- history records as events -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3, 33, 1, 1, "Sensor 1", 1630147285, ""], {"type": "alarm", "zone_index": 33}),
        ([4, 33, 1, 1, "Sensor 1", 1630147285, ""], {"type": "door_open", "zone_index": 33}),
        ([4, 7, 8, 0, "Hall", 1630147285, ""], {"type": "motion", "zone_index": 7}),
        ([2, 4, 0, 0, "", 1630147285, ""], {"type": "armed_away", "state": 4}),
        ([2, 3, 0, 0, "", 1630147285, ""], {"type": "disarmed", "state": 3}),
        ([1, 0, 0, 0, "", 1630147285, ""], {"type": "sos"}),
    ],
)
def test_a_history_record_is_the_event_the_panel_reported(
    values: list[object], expected: dict[str, object]
) -> None:
    (record,) = decode_history_page(json.dumps([200, [[1, 1, 1], values]])).records
    event = record.event("GA00000A0000000")
    assert event is not None
    fields = event.fields()
    assert fields["guid"] == "GA00000A0000000"
    assert fields["panel_time"] == "2021-08-28T10:41:25+00:00"
    for key, value in expected.items():
        assert fields[key] == value
    assert event.raw == json.dumps(values, separators=(",", ":")).encode()


def test_a_history_record_of_an_unknown_kind_is_no_event() -> None:
    assert HistoryRecord(9, 1, 1, 1, "", 1630147285).event(None) is None
