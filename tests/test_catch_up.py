"""Nothing missed while Home Assistant was away: each connection replays the panel's history.

The simulated panel keeps a history as a real one does (newest first, see
`happen`); a test stops Home Assistant's side (the entry unloads, its state
is stored), lets the panel go on, and starts again on the stored state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import time
from typing import Any, override

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.alarm_control_panel import AlarmControlPanelState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.g90_cloud.catchup import TIMEOUTS_TRIED
from custom_components.g90_cloud.const import CONF_LOCAL_PORT, DOMAIN, EVENT_G90
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.commands import ArmState, CommandCode, HistoryRecord, Request
from custom_components.g90_cloud.g90.panel_model import HISTORY_SIZE, Answer, PanelModel, Quirk
from custom_components.g90_cloud.watermark import SEEN_KEPT

from .common import (
    GUID,
    HOST,
    LISTEN_ONLY,
    AlertSource,
    PeripheralType,
    activity,
    alarm,
    connected_panel,
    entity_id,
    panel_device,
    panel_state,
    send,
    until,
    wait_for,
)
from .g90.frames import PANEL_STATES

HISTORY = CommandCode.GET_HISTORY
HOUR = 3600
READS = [
    CommandCode.GET_HOST_STATUS,
    CommandCode.GET_HOST_INFO,
    CommandCode.GET_SENSORS,
    CommandCode.GET_RELAYS,
    CommandCode.GET_ALERTS,
]


# --- what a panel records, and reports live --------------------------------------------


def door(zone: int, name: str, when: int, *, opened: bool = True) -> HistoryRecord:
    return HistoryRecord(4, zone, AlertSource.SENSOR, 1 if opened else 0, name, when)


def motion(zone: int, name: str, when: int) -> HistoryRecord:
    return HistoryRecord(4, zone, AlertSource.INFRARED, 0, name, when)


def zone_alarm(zone: int, name: str, when: int) -> HistoryRecord:
    return HistoryRecord(3, zone, PeripheralType.DOOR, 1, name, when)


def panel(event: str, when: int) -> HistoryRecord:
    return HistoryRecord(2, PANEL_STATES[event], 0, 0, "", when)


def live(record: HistoryRecord) -> bytes:
    """The status change a panel sends for the event it records."""
    if record.kind == 2:
        return panel_state(record.event_id, record.timestamp)
    build = alarm if record.kind == 3 else activity
    return build(record.event_id, record.zone_name, record.source, record.state, record.timestamp)


def happen(model: PanelModel, *records: HistoryRecord) -> None:
    """The panel records events, oldest first given, as a real one keeps them: newest first."""
    for record in records:
        model.history.insert(0, record)
    del model.history[HISTORY_SIZE:]


def codes(model: PanelModel) -> list[int]:
    return [request.code for request in model.requests]


def iso(when: int) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat()


def replayed(events: list[Event]) -> list[tuple[str, int | None, str]]:
    """(type, zone, panel time) of the replayed bus events."""
    return [
        (event.data["type"], event.data.get("zone_index"), event.data["panel_time"])
        for event in events
        if event.data["replayed"]
    ]


def as_replayed(*records: HistoryRecord) -> list[tuple[str, int | None, str]]:
    """What replaying `records` fires, by (type, zone, panel time)."""
    events = [record.event(GUID) for record in records]
    return [
        (event.type.value, event.zone_index, iso(record.timestamp))
        for event, record in zip(events, records, strict=True)
        if event is not None
    ]


def state(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    found = hass.states.get(entity_id(hass, platform, unique_id))
    assert found is not None
    return found.state


async def away(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Home Assistant stops (its state written), and panels lose their connection."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def back(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Home Assistant starts again, on its stored state."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def report(hass: HomeAssistant, sim: SimulatedPanel, *records: HistoryRecord) -> None:
    """Events the panel records and reports live."""
    for record in records:
        happen(sim.model, record)
        await send(hass, sim, live(record))


class Clock:
    """The time, Home Assistant's and the panel's (`skew` seconds ahead), moved by the test.

    Without a freezer the time runs as it does (for tests that wait on the loop's
    clock, which a freezer stops): `at` only tells the panel's time.
    """

    def __init__(self, freezer: FrozenDateTimeFactory | None, skew: int = 0) -> None:
        self._freezer = freezer
        self.start = int(time.time())
        self.skew = skew

    def at(self, seconds: int) -> int:
        """`seconds` after the start; the panel's time then."""
        if self._freezer is not None:
            self._freezer.move_to(datetime.fromtimestamp(self.start + seconds, UTC))
        return self.panel(seconds)

    def panel(self, seconds: int) -> int:
        """The panel's time `seconds` after the start."""
        return self.start + self.skew + seconds


@pytest.fixture
def clock(freezer: FrozenDateTimeFactory) -> Clock:
    return Clock(freezer)


@pytest.fixture
def real_clock() -> Clock:
    return Clock(None)


@pytest.fixture
def model() -> PanelModel:
    """A panel that recorded one event before Home Assistant ever saw it."""
    return PanelModel(history=[door(1, "Front door", int(time.time()) - 3600)])


# --- a restart --------------------------------------------------------------------------


async def test_what_happened_while_away_is_replayed_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    model: PanelModel,
    clock: Clock,
) -> None:
    entry = init_integration
    bus = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port, model=model) as sim:
        assert codes(model) == READS  # seen for the first time: nothing to catch up with
        await report(hass, sim, door(1, "Front door", clock.at(0)))
        await report(hass, sim, door(1, "Front door", clock.at(60), opened=False))
    assert [event.data["replayed"] for event in bus] == [False, False]
    await away(hass, entry)

    # The panel goes on without Home Assistant.
    missed = [
        panel("armed_away", clock.panel(300)),
        zone_alarm(1, "Front door", clock.panel(600)),
        motion(2, "Hall motion", clock.panel(700)),
        panel("disarmed", clock.panel(900)),
        door(1, "Front door", clock.panel(1000)),
    ]
    happen(model, *missed)
    model.state = ArmState.DISARMED
    bus.clear()
    model.requests.clear()

    clock.at(3 * HOUR)
    await back(hass, entry)
    async with connected_panel(hass, port, model=model):
        # The history first (one page holds it), then the panel's picture.
        assert codes(model) == [HISTORY, *READS]
        assert model.requests[0].params == (1, 10)
    assert replayed(bus) == as_replayed(*missed)
    assert len(bus) == len(missed)  # nothing else: the events processed live are not replayed
    assert all(not event.data["repeat"] for event in bus)
    device = panel_device(hass, entry.entry_id)
    assert (bus[0].data["device_id"], bus[0].data["guid"]) == (device.id, GUID)
    alarm_event = bus[1].data
    assert (alarm_event["zone_name"], alarm_event["tamper"]) == ("Front door", False)

    # The state as the panel's events left it: the alarm reset by the disarm, the door
    # open again, the motion long over; the event entity shows no old news.
    assert state(hass, "alarm_control_panel", f"{GUID}_alarm") == AlarmControlPanelState.DISARMED
    assert state(hass, "binary_sensor", f"{GUID}_zone_1") == STATE_ON
    assert state(hass, "binary_sensor", f"{GUID}_zone_2") == STATE_OFF
    assert state(hass, "event", f"{GUID}_events") == STATE_UNKNOWN

    # Connected again, with nothing new: nothing replayed.
    bus.clear()
    async with connected_panel(hass, port, model=model):
        pass
    assert codes(model)[-6:] == [HISTORY, *READS]
    assert bus == []


async def test_a_motion_of_a_moment_ago(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    model: PanelModel,
    clock: Clock,
) -> None:
    """Activity replayed soon enough is on, for what is left of its time."""
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", clock.at(0)))
    await away(hass, init_integration)
    happen(model, motion(2, "Hall motion", clock.panel(50)))
    clock.at(60)
    await back(hass, init_integration)
    async with connected_panel(hass, port, model=model):
        assert state(hass, "binary_sensor", f"{GUID}_zone_2") == STATE_ON
        clock.at(80)  # 30 seconds after the motion
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert state(hass, "binary_sensor", f"{GUID}_zone_2") == STATE_OFF


async def test_the_panels_state_has_the_last_word(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    model: PanelModel,
    clock: Clock,
) -> None:
    """Host status is read after the replay: what the panel says it is, it is."""
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, panel("disarmed", clock.at(0)))
    await away(hass, init_integration)
    happen(model, panel("armed_home", clock.panel(60)))
    model.state = ArmState.ARMED_AWAY  # armed again, not recorded (its alert switched off)
    clock.at(HOUR)
    await back(hass, init_integration)
    async with connected_panel(hass, port, model=model):
        pass
    alarm_state = state(hass, "alarm_control_panel", f"{GUID}_alarm")
    assert alarm_state == AlarmControlPanelState.ARMED_AWAY


async def test_a_record_a_second_off_its_live_report(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    clock: Clock,
) -> None:
    """From the store alone: a record one second off an event processed live is that event."""
    start = clock.at(0)
    hass_storage[f"{DOMAIN}.{mock_config_entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{mock_config_entry.entry_id}",
        "data": {
            "panels": {
                GUID: {
                    "watermark": {
                        "time": start,
                        "recent": [[start, "door_open", 1, 1], ["odd"], "odd"],
                        "clock": [0, 1, "odd"],
                    }
                }
            }
        },
    }
    model = PanelModel()
    processed = door(1, "Front door", start + 1)  # stamped a second after its live report
    same_second = door(1, "Front door", start, opened=False)  # not the one processed
    missed = door(2, "Back door", start + 30)
    happen(model, door(1, "Front door", start - 60), processed, same_second, missed)
    mock_config_entry.add_to_hass(hass)
    bus = async_capture_events(hass, EVENT_G90)
    clock.at(HOUR)
    await back(hass, mock_config_entry)
    port = mock_config_entry.runtime_data.listener.port
    async with connected_panel(hass, port, model=model):
        assert codes(model) == [HISTORY, *READS]  # a panel it knew: caught up with
    assert replayed(bus) == as_replayed(same_second, missed)


async def test_a_panel_stored_before_the_catch_up_existed(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    clock: Clock,
) -> None:
    """Its first history read sets its watermark: nothing of the past is replayed."""
    hass_storage[f"{DOMAIN}.{mock_config_entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{mock_config_entry.entry_id}",
        "data": {"panels": {GUID: {"alarm_state": "disarmed"}}},
    }
    model = PanelModel(history=[door(1, "Front door", clock.panel(-60))])
    mock_config_entry.add_to_hass(hass)
    bus = async_capture_events(hass, EVENT_G90)
    await back(hass, mock_config_entry)
    port = mock_config_entry.runtime_data.listener.port
    async with connected_panel(hass, port, model=model):
        pass
    await away(hass, mock_config_entry)
    missed = door(1, "Front door", clock.panel(60), opened=False)
    happen(model, missed)
    clock.at(HOUR)
    await back(hass, mock_config_entry)
    async with connected_panel(hass, port, model=model):
        pass
    assert replayed(bus) == as_replayed(missed)


# --- the panel's clock -------------------------------------------------------------------


@pytest.mark.parametrize(
    "skew",
    [-26 * 365 * 86400, -5 * HOUR, 3 * HOUR],
    ids=["year 2000", "hours behind", "hours ahead"],
)
async def test_a_panel_with_a_wrong_clock(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    port: int,
    *,
    clock: Clock,
    skew: int,
) -> None:
    """Its events are followed on its own clock; its offset is learned from its live reports."""
    entry = init_integration
    clock.skew = skew
    model = PanelModel(history=[door(1, "Front door", clock.panel(-7200))])
    bus = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", clock.at(0)))
        await report(hass, sim, motion(2, "Hall motion", clock.at(5)))
    data = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    catch_up = data["panels"][0]["catch_up"]
    assert catch_up["clock_offset"] == skew
    assert catch_up["watermark"] == iso(clock.panel(5))
    await away(hass, entry)

    missed = [
        door(1, "Front door", clock.panel(600), opened=False),
        motion(2, "Hall motion", clock.panel(700)),
    ]
    happen(model, *missed)
    clock.at(720)
    await back(hass, entry)
    async with connected_panel(hass, port, model=model):
        # 20 seconds ago on the panel's clock: Hall motion is still on.
        assert state(hass, "binary_sensor", f"{GUID}_zone_2") == STATE_ON
    assert replayed(bus) == as_replayed(*missed)


async def test_a_clock_ahead_first_seen_silent(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int, clock: Clock
) -> None:
    """A panel first seen with its clock hours ahead, and nothing said with a time.

    Home Assistant cannot tell its recent events from its old ones: its history
    is not replayed at all (rather than all of it), and it is followed from
    its newest event on.
    """
    clock.skew = 3 * HOUR
    model = PanelModel(history=[door(1, "Front door", clock.panel(-HOUR))])
    bus = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port, model=model):
        pass
    await away(hass, init_integration)
    happen(model, door(1, "Front door", clock.panel(60), opened=False))
    clock.at(HOUR)
    await back(hass, init_integration)
    async with connected_panel(hass, port, model=model):
        pass
    assert replayed(bus) == []
    await away(hass, init_integration)
    missed = door(2, "Hall", clock.panel(2 * HOUR))
    happen(model, missed)
    clock.at(3 * HOUR)
    await back(hass, init_integration)
    async with connected_panel(hass, port, model=model):
        pass
    assert replayed(bus) == as_replayed(missed)


# --- what the history holds ----------------------------------------------------------------


async def test_an_empty_history(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = PanelModel()
    bus = async_capture_events(hass, EVENT_G90)
    async with connected_panel(hass, port, model=model):
        pass
    async with connected_panel(hass, port, model=model):
        pass
    assert codes(model) == [*READS, HISTORY, *READS]
    assert bus == []
    assert "history" not in caplog.text


async def test_away_longer_than_the_history_holds(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    *,
    model: PanelModel,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The panel's whole history is replayed (every page of it), and the gap logged once."""
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", clock.at(0)))
    await away(hass, init_integration)
    missed = [motion(2, "Hall motion", clock.panel(60 * minute)) for minute in range(1, 61)]
    happen(model, *missed)
    assert len(model.history) == HISTORY_SIZE
    bus = async_capture_events(hass, EVENT_G90)
    model.requests.clear()
    clock.at(2 * HOUR)
    await back(hass, init_integration)
    async with connected_panel(hass, port, model=model):
        pass
    assert [request.params for request in model.requests if request.code == HISTORY] == [
        (first, first + 9) for first in range(1, HISTORY_SIZE + 1, 10)
    ]
    assert replayed(bus) == as_replayed(*missed[-HISTORY_SIZE:])
    assert caplog.text.count("some events may be missing") == 1
    async with connected_panel(hass, port, model=model):
        pass
    assert caplog.text.count("some events may be missing") == 1
    assert len(replayed(bus)) == HISTORY_SIZE


# --- live events meanwhile ----------------------------------------------------------------------


async def test_live_events_while_the_history_is_read(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    model: PanelModel,
    real_clock: Clock,
) -> None:
    """Neither lost nor doubled; the state follows the panel's order of events."""
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", real_clock.at(0), opened=False))
    await away(hass, init_integration)
    missed = door(1, "Front door", real_clock.panel(1))  # opened while away...
    also_live = door(5, "Garage", real_clock.panel(2))  # ...and one reported once connected
    happen(model, missed, also_live)
    model.quirks.append(Quirk(delay=0.3))  # the history's page comes late
    bus = async_capture_events(hass, EVENT_G90)
    await back(hass, init_integration)

    sim = SimulatedPanel(HOST, port, model=model)
    async with sim:
        await sim.hello()
        await until(lambda: HISTORY in codes(model))
        closed = door(1, "Front door", real_clock.at(3), opened=False)  # during the read
        await send(hass, sim, live(also_live), live(closed))
        assert [event.data["type"] for event in bus] == ["door_open", "door_close"]
        await hass.async_block_till_done(wait_background_tasks=True)
    await hass.async_block_till_done()

    assert [(event.data["zone_index"], event.data["replayed"]) for event in bus] == [
        (5, False),
        (1, False),
        (1, True),
    ]
    assert replayed(bus) == as_replayed(missed)
    # Opened while away, closed since: closed, however late the opening was heard of.
    assert state(hass, "binary_sensor", f"{GUID}_zone_1") == STATE_OFF
    assert state(hass, "binary_sensor", f"{GUID}_zone_5") == STATE_ON

    # Next time, none of it again.
    async with connected_panel(hass, port, model=model):
        pass
    assert len(bus) == 3


class GrowingWhileRead(PanelModel):
    """A panel that logs one more event right after handing out its history's first page."""

    def __init__(self, history: list[HistoryRecord], logged: HistoryRecord) -> None:
        super().__init__(history=history)
        self.logged: HistoryRecord | None = logged

    @override
    def answer(self, request: Request) -> Answer:
        answer = super().answer(request)
        if request.code == HISTORY and self.logged is not None:
            happen(self, self.logged)
            self.logged = None
        return answer


async def test_events_logged_between_the_history_pages(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int, clock: Clock
) -> None:
    """The list grows between two pages: it is read afresh; every missed event once."""
    model = PanelModel()
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", clock.at(0), opened=False))
    await away(hass, init_integration)
    missed = [
        door(1, "Front door", clock.at(10 + index), opened=index % 2 == 0) for index in range(12)
    ]
    new = door(2, "Back door", clock.at(40))
    growing = GrowingWhileRead(list(model.history), new)
    happen(growing, *missed)
    bus = async_capture_events(hass, EVENT_G90)
    await back(hass, init_integration)
    async with connected_panel(hass, port, model=growing):
        await wait_for(hass, lambda: READS[-1] in codes(growing))
    pages = [request.params for request in growing.requests if request.code == HISTORY]
    assert pages == [(1, 10), (11, 20), (1, 10), (11, 20)]  # read again, from the start
    assert replayed(bus) == as_replayed(*missed, new)


async def test_a_connection_lost_while_the_history_is_read(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    model: PanelModel,
    real_clock: Clock,
) -> None:
    """The catch-up waits for the panel's next connection, the events of this one remembered."""
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", real_clock.at(0)))
    await away(hass, init_integration)
    missed = door(1, "Front door", real_clock.panel(1), opened=False)
    happen(model, missed)
    model.quirks.append(Quirk(silent=True))
    bus = async_capture_events(hass, EVENT_G90)
    await back(hass, init_integration)

    sim = SimulatedPanel(HOST, port, model=model)
    async with sim:
        await sim.hello()
        await until(lambda: HISTORY in codes(model))
        # Reported live, then the connection is lost.
        await report(hass, sim, door(2, "Hall", real_clock.at(2)))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert init_integration.runtime_data.panels[GUID].watermark.catching_up
    assert replayed(bus) == []

    async with connected_panel(hass, port, model=model):
        pass
    assert replayed(bus) == as_replayed(missed)
    assert len(bus) == 2


@pytest.mark.parametrize(
    "quirk", [Quirk(refuse=True), Quirk(silent=True)], ids=["refused", "silent"]
)
async def test_a_panel_that_does_not_hand_out_its_history(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    *,
    model: PanelModel,
    quirk: Quirk,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Logged once; its picture is read all the same; asked again at its next connection.

    A refusal ends the catch-up at once; silence (a busy panel) only after
    TIMEOUTS_TRIED reads in a row, so what it missed is not given up on at once.
    """
    monkeypatch.setattr("custom_components.g90_cloud.hub.COMMAND_TIMEOUT", timedelta(seconds=0.2))
    monkeypatch.setattr("custom_components.g90_cloud.control.CONNECTION_SHARE", 0.1)
    async with connected_panel(hass, port, model=model):
        pass
    watermark = init_integration.runtime_data.panels[GUID].watermark
    for attempt in range(1, TIMEOUTS_TRIED + 1):
        model.quirks.append(quirk)
        model.requests.clear()
        async with connected_panel(hass, port, model=model):
            pass
        assert codes(model) == [HISTORY, *READS]
        given_up = quirk.refuse or attempt == TIMEOUTS_TRIED
        assert watermark.catching_up is not given_up
    assert caplog.text.count("did not hand out its history") == 1


async def alarm_missed_while_away(
    hass: HomeAssistant, entry: MockConfigEntry, clock: Clock
) -> tuple[PanelModel, HistoryRecord, list[Event]]:
    """A door followed live, an alarm while Home Assistant was away, Home Assistant back.

    Returns the panel, the missed alarm, and the bus events from Home Assistant's return.
    """
    port = int(entry.data[CONF_LOCAL_PORT])
    model = PanelModel()
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", clock.at(0)))
    await away(hass, entry)
    missed = zone_alarm(1, "Front door", clock.panel(1))
    happen(model, missed)
    bus = async_capture_events(hass, EVENT_G90)
    await back(hass, entry)
    return model, missed, bus


def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads give up after 0.2 s."""
    monkeypatch.setattr("custom_components.g90_cloud.hub.COMMAND_TIMEOUT", timedelta(seconds=0.2))
    monkeypatch.setattr("custom_components.g90_cloud.control.CONNECTION_SHARE", 0.1)


async def test_a_history_read_that_times_out_is_tried_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    real_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A busy panel that does not answer the history read once: what it reported while
    Home Assistant was away is still replayed when it answers (live events meanwhile
    do not move the watermark past it)."""
    short_timeouts(monkeypatch)
    model, missed, bus = await alarm_missed_while_away(hass, init_integration, real_clock)
    model.quirks.append(Quirk(silent=True))
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, motion(2, "Hall", real_clock.at(30)))  # live meanwhile
    assert init_integration.runtime_data.panels[GUID].watermark.catching_up
    assert replayed(bus) == []
    async with connected_panel(hass, port, model=model):
        pass  # it answers this time
    assert replayed(bus) == as_replayed(missed)


async def test_a_long_catch_up_replays_nothing_already_seen(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    real_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The history read times out (the catch-up stays due) and, until it is read, the busy
    panel reports more live events than are remembered (SEEN_KEPT): when the history is
    read, only the alarm missed while away is replayed, not the door opening Home
    Assistant processed before it went away."""
    short_timeouts(monkeypatch)
    model, missed, bus = await alarm_missed_while_away(hass, init_integration, real_clock)
    model.quirks.append(Quirk(silent=True))
    async with connected_panel(hass, port, model=model) as sim:
        for second in range(SEEN_KEPT + 6):  # live, and not in the panel's history
            await send(hass, sim, live(motion(2, "Hall", real_clock.panel(30 + second))))
    assert init_integration.runtime_data.panels[GUID].watermark.catching_up
    async with connected_panel(hass, port, model=model):
        pass  # it answers this time
    assert replayed(bus) == as_replayed(missed)


async def test_arming_during_the_history_read_does_not_lose_the_catch_up(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int, real_clock: Clock
) -> None:
    """The history read under way is given up for a person's arming, and made again
    after it: what the panel reported while Home Assistant was away is still replayed."""
    model, missed, bus = await alarm_missed_while_away(hass, init_integration, real_clock)
    model.quirks.append(Quirk(delay=2.0))  # the first history page: slow
    model.requests.clear()
    sim = SimulatedPanel(HOST, port, guid=GUID, model=model)
    async with sim:
        await sim.hello()
        await until(lambda: codes(model)[:1] == [HISTORY])
        alarm = entity_id(hass, "alarm_control_panel", f"{GUID}_alarm")
        started = time.monotonic()
        await hass.services.async_call(
            "alarm_control_panel", "alarm_arm_away", {"entity_id": alarm}, blocking=True
        )
        assert time.monotonic() - started < 1.5  # not behind the 2 s read
        await hass.async_block_till_done(wait_background_tasks=True)
        assert codes(model)[:2] == [HISTORY, CommandCode.SET_HOST_STATUS]
        assert replayed(bus) == as_replayed(missed)


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])
async def test_listening_only(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    model: PanelModel,
    clock: Clock,
) -> None:
    """No command at all, not even the history; the watermark follows the live events.

    (A catch-up left due from before the options changed is dropped.)
    """
    async with connected_panel(hass, port, model=model) as sim:
        init_integration.runtime_data.panels[GUID].watermark.begin()
        await report(hass, sim, door(1, "Front door", clock.at(0)))
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", clock.at(60), opened=False))
    assert model.requests == []
    mark = init_integration.runtime_data.panels[GUID].watermark
    assert (mark.time, mark.catching_up) == (clock.panel(60), False)


# --- automations ------------------------------------------------------------------------------


async def test_triggers_for_what_was_missed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    model: PanelModel,
    clock: Clock,
) -> None:
    """Live triggers skip replayed events; the missed-while-offline triggers are for them."""
    async with connected_panel(hass, port, model=model) as sim:
        await report(hass, sim, door(1, "Front door", clock.at(0)))
    device = panel_device(hass, init_integration.entry_id)
    calls = async_mock_service(hass, "test", "automation")
    kinds = ["alarm", "alarm_missed_while_offline", "missed_while_offline"]
    message = (
        "{{ trigger.event.data.type }} in {{ trigger.event.data.zone_name }}"
        " at {{ trigger.event.data.panel_time }}"
    )
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "triggers": [
                        {
                            "trigger": "device",
                            "domain": DOMAIN,
                            "device_id": device.id,
                            "type": kind,
                        }
                    ],
                    "actions": [
                        {"action": "test.automation", "data": {"kind": kind, "message": message}}
                    ],
                }
                for kind in kinds
            ]
        },
    )
    await away(hass, init_integration)
    happen(model, zone_alarm(3, "Window", clock.panel(60)), door(1, "Front door", clock.panel(120)))
    clock.at(HOUR)
    await back(hass, init_integration)
    async with connected_panel(hass, port, model=model) as sim:
        await hass.async_block_till_done()
        assert [(call.data["kind"], call.data["message"]) for call in calls] == [
            ("alarm_missed_while_offline", f"alarm in Window at {iso(clock.panel(60))}"),
            ("missed_while_offline", f"alarm in Window at {iso(clock.panel(60))}"),
            ("missed_while_offline", f"door_open in Front door at {iso(clock.panel(120))}"),
        ]
        calls.clear()
        await send(hass, sim, live(zone_alarm(3, "Window", clock.at(HOUR + 10))))
        await wait_for(hass, lambda: len(calls) == 1)
    assert calls[0].data["kind"] == "alarm"
