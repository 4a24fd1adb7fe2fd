"""The simulated panel's brain: it answers as a real panel would, and reports what changed."""

from __future__ import annotations

import pytest

from custom_components.g90_cloud.g90.commands import (
    Ack,
    AlertFlags,
    ArmState,
    CommandRefused,
    DeviceRecord,
    HistoryRecord,
    HostStatus,
    Page,
    Pager,
    Request,
    WrongReplyCode,
    arm_away,
    arm_home,
    decode_reply,
    disarm,
    get_alert_flags,
    get_host_config,
    get_host_info,
    get_host_status,
    history_pager,
    raw_command,
    relay_pager,
    sensor_pager,
    set_alert_flags,
    switch_relay,
)
from custom_components.g90_cloud.g90.events import EventType, events_from
from custom_components.g90_cloud.g90.messages import decode
from custom_components.g90_cloud.g90.panel_model import (
    DEFAULT_ALERTS,
    DEMO_CONFIG,
    DEMO_INFO,
    DEMO_RELAYS,
    DEMO_SENSORS,
    Answer,
    ArmChange,
    PanelModel,
    Quirk,
)

from .frames import json_notification, state_change

NOW = 1_737_794_080


def model(**kwargs: object) -> PanelModel:
    return PanelModel(clock=lambda: NOW + 0.9, **kwargs)  # type: ignore[arg-type]


def ask[R](panel: PanelModel, pager: Pager[R]) -> tuple[R, ...]:
    """Drive a pager against the model, as a transport would."""
    while (request := pager.next_request()) is not None:
        text = panel.answer(request).text
        assert text is not None
        pager.feed(text)
    return pager.records


def zones(count: int) -> list[DeviceRecord]:
    return [
        DeviceRecord(f"Zone {i}", i, peripheral_type=1, user_flags=1) for i in range(1, count + 1)
    ]


def test_reads_answer_with_the_models_values() -> None:
    panel = model(phone="+100")
    assert get_host_info().decode(panel.answer(get_host_info().request).text or "") == DEMO_INFO
    assert (
        get_host_config().decode(panel.answer(get_host_config().request).text or "") == DEMO_CONFIG
    )
    assert (
        get_alert_flags().decode(panel.answer(get_alert_flags().request).text or "")
        == DEFAULT_ALERTS
    )
    status = get_host_status().decode(panel.answer(get_host_status().request).text or "")
    assert status == HostStatus(ArmState.DISARMED, "+100", "TSV018-C3SIA", "206", "206")
    assert panel.answer(get_host_config().request) == Answer("[106,[900,0,0,1,2,2,60,2,0,180,2]]")
    assert len(panel.requests) == 5


def test_lists_come_in_pages_with_their_header() -> None:
    panel = model(sensors=zones(25))
    assert ask(panel, sensor_pager()) == tuple(zones(25))
    assert [request.params for request in panel.requests] == [(1, 10), (11, 20), (21, 30)]
    page = decode_reply(102, panel.answer(Request(102, [21, 30])).text or "")
    assert page == Page(25, 21, 5, tuple(zones(25)[20:]))
    assert ask(panel, relay_pager()) == DEMO_RELAYS
    assert ask(model(), sensor_pager()) == DEMO_SENSORS


def test_empty_lists_and_pages_past_the_end() -> None:
    panel = model(relays=())
    assert panel.answer(Request(138, [1, 10])) == Answer("[138,[[0,0,0]]]")
    assert panel.answer(Request(102, [11, 20])) == Answer("")  # 5 demo sensors: past the end
    assert ask(panel, relay_pager()) == ()


def test_arming_changes_the_state_and_reports_it() -> None:
    panel = model()
    assert panel.answer(arm_away().request) == Answer("")
    assert panel.state is ArmState.ARMED_AWAY
    status = get_host_status().decode(panel.answer(get_host_status().request).text or "")
    assert status.state is ArmState.ARMED_AWAY
    panel.answer(arm_home().request)
    panel.answer(disarm().request)
    changes = panel.pop_changes()
    assert changes == [
        ArmChange(ArmState.ARMED_AWAY, NOW),
        ArmChange(ArmState.ARMED_HOME, NOW),
        ArmChange(ArmState.DISARMED, NOW),
    ]
    assert panel.pop_changes() == []
    away = changes[0]
    assert away.status_change().encode() == state_change(4, NOW)
    assert away.notification().encode() == json_notification("[170,[1,[1]]]")
    frames = [message.encode() for message in away.messages()]
    types = [event.type for frame in frames for event in events_from(decode(frame), frame)]
    assert types == [EventType.ARMED_AWAY, EventType.ARMED_AWAY]
    assert changes[1].status_change().encode() == state_change(5, NOW)
    assert changes[2].status_change().encode() == state_change(3, NOW)


def test_arming_writes_history_newest_first() -> None:
    old = HistoryRecord(4, 1, 1, 1, "Front door", NOW - 60)
    panel = model(history=[old], history_size=3)
    panel.answer(arm_away().request)
    panel.answer(disarm().request)
    history = ask(panel, history_pager())
    assert history == (
        HistoryRecord(2, 3, 0, 0, "", NOW),
        HistoryRecord(2, 4, 0, 0, "", NOW),
        old,
    )
    panel.answer(arm_home().request)
    assert [record.event_id for record in panel.history] == [5, 3, 4]


def test_no_history_when_the_arm_disarm_alert_is_off() -> None:
    panel = model(alert_flags=DEFAULT_ALERTS.with_flag(AlertFlags.ARM_DISARM, on=False))
    panel.answer(arm_away().request)
    assert panel.history == []
    assert panel.pop_changes() == [ArmChange(ArmState.ARMED_AWAY, NOW)]


def test_alert_switches_are_written_whole() -> None:
    panel = model()
    flags = DEFAULT_ALERTS.with_flag(AlertFlags.DOOR_CLOSE, on=False)
    assert set_alert_flags(flags).decode(
        panel.answer(set_alert_flags(flags).request).text or ""
    ) == Ack(116)
    read = get_alert_flags().decode(panel.answer(get_alert_flags().request).text or "")
    assert read == flags
    assert int(read) & (2048 | 8192) == 2048 | 8192
    assert not read & AlertFlags.DOOR_CLOSE


def test_relays_remember_the_last_commanded_state() -> None:
    panel = model()
    assert panel.answer(switch_relay(10, on=True).request) == Answer("")
    panel.answer(switch_relay(11, on=True, channel=1).request)
    panel.answer(switch_relay(11, on=False, channel=1).request)
    assert panel.relay_states == {(10, 0): True, (11, 1): False}


@pytest.mark.parametrize(
    "request_",
    [
        Request(101, [4]),
        Request(101, [0]),
        Request(101),
        Request(101, [1, 2]),
        Request(101, ["1"]),
        Request(101, [True]),
        Request(116, [-1]),
        Request(137, [99, 0, 0]),
        Request(137, [10, 2, 0]),
        Request(137, [10, 0, 1]),
        Request(102),
        Request(102, [0, 10]),
        Request(102, [5, 4]),
        Request(160),
        Request(999, [1]),
    ],
)
def test_what_makes_no_sense_is_refused(request_: Request) -> None:
    panel = model()
    assert panel.answer(request_) == Answer("fail")
    with pytest.raises(CommandRefused):
        decode_reply(request_.code, "fail")
    assert panel.state is ArmState.DISARMED
    assert panel.pop_changes() == []
    assert panel.relay_states == {}


def test_quirks_refuse_silence_delay_and_other_codes() -> None:
    panel = model()
    panel.quirks.extend(
        [Quirk(refuse=True), Quirk(silent=True, delay=2.0), Quirk(delay=0.5), Quirk(reply_code=102)]
    )
    assert panel.answer(arm_away().request) == Answer("fail")
    assert panel.answer(arm_away().request) == Answer(None, 2.0)
    assert panel.state is ArmState.DISARMED  # refused and unheard: nothing done
    assert panel.answer(get_alert_flags().request) == Answer(f"[117,[{int(DEFAULT_ALERTS)}]]", 0.5)
    answer = panel.answer(get_host_status().request)
    assert answer.text == '[102,[3,"","TSV018-C3SIA","206","206"]]'
    with pytest.raises(WrongReplyCode):
        get_host_status().decode(answer.text)
    assert panel.answer(get_host_status().request).text == '[100,[3,"","TSV018-C3SIA","206","206"]]'


def test_a_standing_quirk_applies_to_every_request() -> None:
    panel = model()
    panel.quirk = Quirk(reply_code=100)
    assert panel.answer(disarm().request) == Answer("[100]")
    assert panel.answer(raw_command(117).request).text == f"[100,[{int(DEFAULT_ALERTS)}]]"
    panel.quirk = Quirk(refuse=True)
    assert panel.answer(get_host_info().request) == Answer("fail")
