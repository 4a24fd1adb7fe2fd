"""The scenarios the simulator plays: the household day is paced like a home."""

from __future__ import annotations

from collections import defaultdict

import pytest

from custom_components.g90_cloud.g90.events import AlertSource
from custom_components.g90_cloud.g90.messages import decode
from custom_components.g90_cloud.g90.scenarios import (
    MOTION_REST,
    PANEL_STATE,
    Activity,
    PanelState,
    Pause,
    household,
)
from custom_components.g90_cloud.g90.session import Session


def test_panel_state_codes_are_the_notes() -> None:
    assert PANEL_STATE == {
        "ac_power_failure": 1,
        "ac_power_restored": 2,
        "disarmed": 3,
        "armed_away": 4,
        "armed_home": 5,
        "panel_low_battery": 6,
        "wifi_connected": 7,
        "wifi_disconnected": 8,
    }


@pytest.mark.parametrize("day", range(6))
def test_a_household_day(day: int) -> None:
    steps = household(day)
    assert steps == household(day)  # the same day, the same steps
    clock = 0.0
    last_motion: dict[int, float] = {}
    doors: dict[int, list[int]] = defaultdict(list)
    states: list[str] = []
    gaps: list[float] = []
    for step in steps:
        if isinstance(step, Pause):
            clock += step.seconds
            gaps.append(step.seconds)
            continue
        if isinstance(step, Activity) and step.source == AlertSource.INFRARED:
            if step.zone in last_motion:  # rests long enough for the zone to clear
                assert clock - last_motion[step.zone] >= MOTION_REST
            last_motion[step.zone] = clock
        if isinstance(step, Activity) and step.source == AlertSource.SENSOR:
            doors[step.zone].append(step.state)
        if isinstance(step, PanelState):
            states.append(step.state)
        # Every step is a frame the listener reads as its kind of event.
        frame = step.frame(1_700_000_000)
        assert decode(frame).encode() == frame
        ((_frame, _kind, (event,), _reply),) = Session(
            cloud_ip="127.0.0.1", cloud_port=5678
        ).receive(frame)
        assert event.type != "unknown"
    assert 7 * 60 <= clock <= 11 * 60  # a day lasts minutes, not seconds
    assert max(gaps) >= 20  # with quiet spells
    for opened_closed in doors.values():  # doors open, then close, in turn
        assert opened_closed[::2] == [1] * len(opened_closed[::2])
        assert opened_closed[1::2] == [0] * len(opened_closed[1::2])
    assert "armed_away" in states or "armed_home" in states
    assert states[-1] == "disarmed"
