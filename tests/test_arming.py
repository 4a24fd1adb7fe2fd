"""Arming and disarming from Home Assistant: the code, the panel's answer, and its failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import time
from typing import Any

from homeassistant.components.alarm_control_panel import AlarmControlPanelState
from homeassistant.components.device_automation import (
    DeviceAutomationType,
    async_get_device_automations,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.g90_cloud.const import (
    COMMAND_TIMEOUT,
    CONF_CODE,
    CONF_CODE_ARM_REQUIRED,
    CONF_CONTROL_CHANNEL,
    CONF_PANEL_LAN_ADDRESS,
    DOMAIN,
)
from custom_components.g90_cloud.control import CommandPreempted
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.commands import CommandCode, get_host_status
from custom_components.g90_cloud.g90.panel_model import Quirk
from custom_components.g90_cloud.hub import lan_address_of

from .common import (
    GUID,
    HOST,
    LISTEN_ONLY,
    connected_panel,
    entity_id,
    panel_device,
    panel_state,
    send,
    until,
)

ARM = CommandCode.SET_HOST_STATUS
STATUS = CommandCode.GET_HOST_STATUS
OTHER_GUID = "GB00000B0000000"
CONNECTION_ONLY = {CONF_CONTROL_CHANNEL: "connection"}


def alarm_id(hass: HomeAssistant) -> str:
    return entity_id(hass, "alarm_control_panel", f"{GUID}_alarm")


def alarm_state(hass: HomeAssistant) -> str:
    state = hass.states.get(alarm_id(hass))
    assert state is not None
    return state.state


def arm_requests(panel: SimulatedPanel) -> list[tuple[Any, ...] | None]:
    """The parameters of every 101 the panel was sent, over either channel."""
    return [request.params for request in panel.model.requests if request.code == ARM]


async def call(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(
        "alarm_control_panel", service, {"entity_id": alarm_id(hass), **data}, blocking=True
    )


def states_written(hass: HomeAssistant) -> list[str]:
    """The alarm panel's states, one per change from now on."""
    seen: list[str] = []
    target = alarm_id(hass)

    @callback
    def changed(event: Event[Any]) -> None:
        if event.data["entity_id"] == target:
            seen.append(event.data["new_state"].state)

    hass.bus.async_listen("state_changed", changed)
    return seen


# --- arming ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("alarm_arm_away", ((1,), "arming", AlarmControlPanelState.ARMED_AWAY)),
        ("alarm_arm_home", ((2,), "arming", AlarmControlPanelState.ARMED_HOME)),
        ("alarm_disarm", ((3,), "disarming", AlarmControlPanelState.DISARMED)),
    ],
)
async def test_arm_and_disarm(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    service: str,
    expected: tuple[tuple[int], str, str],
) -> None:
    sent, shown_meanwhile, reported = expected
    async with connected_panel(hass, port) as panel:
        assert alarm_state(hass) == AlarmControlPanelState.DISARMED  # read at connect
        state = hass.states.get(alarm_id(hass))
        assert state.attributes["supported_features"] == 3  # arm home, arm away
        assert state.attributes["code_format"] is None  # no code set
        assert state.attributes["code_arm_required"] is False
        seen = states_written(hass)
        await call(hass, service)
        assert arm_requests(panel) == [sent]
        # Down the panel's own connection, as the vendor cloud sends it.
        assert [command.code for command in panel.result.commands].count(ARM) == 1
        # Shown on its way, then as the panel itself reports it.
        assert seen[0] == shown_meanwhile
        assert seen[-1] == reported
        assert alarm_state(hass) == reported


async def test_a_panel_that_does_not_report_is_asked(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A panel that accepts but never reports its new state is asked for it."""
    monkeypatch.setattr("custom_components.g90_cloud.hub.ARM_REPORT_WAIT", timedelta(seconds=0.05))
    async with connected_panel(hass, port) as panel:
        # The panel accepts, and keeps its report to itself.
        monkeypatch.setattr(panel, "report_changes", lambda _delay=0.0: panel.model.pop_changes())
        seen = states_written(hass)
        await call(hass, "alarm_arm_home")
        assert seen == ["arming", AlarmControlPanelState.ARMED_HOME]
        assert alarm_state(hass) == AlarmControlPanelState.ARMED_HOME
        codes = [request.code for request in panel.model.requests]
        assert codes[-2:] == [ARM, CommandCode.GET_HOST_STATUS]


# --- the code ----------------------------------------------------------------------


@pytest.mark.parametrize("entry_options", [{CONF_CODE: "1234"}, {CONF_CODE: 1234}])
async def test_a_code_guards_arming_and_disarming(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        state = hass.states.get(alarm_id(hass))
        assert state.attributes["code_format"] == "number"
        assert state.attributes["code_arm_required"] is True

        # Missing: Home Assistant's own check for arming, ours for disarming.
        with pytest.raises(ServiceValidationError) as raised:
            await call(hass, "alarm_arm_away")
        assert raised.value.translation_key == "code_arm_required"
        with pytest.raises(ServiceValidationError) as raised:
            await call(hass, "alarm_disarm")
        assert (raised.value.translation_domain, raised.value.translation_key) == (
            DOMAIN,
            "code_missing",
        )
        # Wrong.
        for service in ("alarm_arm_away", "alarm_arm_home", "alarm_disarm"):
            with pytest.raises(ServiceValidationError) as raised:
                await call(hass, service, code="4321")
            assert (raised.value.translation_domain, raised.value.translation_key) == (
                DOMAIN,
                "code_wrong",
            )
            assert "wrong" in str(raised.value)
        # Nothing reached the panel.
        assert arm_requests(panel) == []
        assert alarm_state(hass) == AlarmControlPanelState.DISARMED

        await call(hass, "alarm_arm_away", code="1234")
        assert alarm_state(hass) == AlarmControlPanelState.ARMED_AWAY
        await call(hass, "alarm_disarm", code="1234")
        assert alarm_state(hass) == AlarmControlPanelState.DISARMED
        assert arm_requests(panel) == [(1,), (3,)]


@pytest.mark.parametrize(
    "entry_options", [{CONF_CODE: "open sesame", CONF_CODE_ARM_REQUIRED: False}]
)
async def test_a_code_for_disarming_only(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        state = hass.states.get(alarm_id(hass))
        assert state.attributes["code_format"] == "text"
        assert state.attributes["code_arm_required"] is False
        await call(hass, "alarm_arm_home")
        assert alarm_state(hass) == AlarmControlPanelState.ARMED_HOME
        with pytest.raises(ServiceValidationError):
            await call(hass, "alarm_disarm")
        with pytest.raises(ServiceValidationError):
            await call(hass, "alarm_disarm", code="open")
        assert alarm_state(hass) == AlarmControlPanelState.ARMED_HOME
        await call(hass, "alarm_disarm", code="open sesame")
        assert alarm_state(hass) == AlarmControlPanelState.DISARMED
        assert arm_requests(panel) == [(2,), (3,)]


# --- when the panel does not do it -------------------------------------------------


@pytest.mark.parametrize("entry_options", [CONNECTION_ONLY])
async def test_a_silent_panel_fails_in_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No answer within COMMAND_TIMEOUT (30 s; a moment here) is an error, and nothing changes."""
    assert timedelta(seconds=30) == COMMAND_TIMEOUT
    monkeypatch.setattr("custom_components.g90_cloud.hub.COMMAND_TIMEOUT", timedelta(seconds=0.3))
    async with connected_panel(hass, port) as panel:
        panel.model.quirks.append(Quirk(silent=True))
        seen = states_written(hass)
        started = time.monotonic()
        with pytest.raises(HomeAssistantError) as raised:
            await call(hass, "alarm_arm_away")
        assert time.monotonic() - started >= 0.3
        assert raised.value.translation_key == "command_timeout"
        assert "did not answer command 101 within 0.3 seconds" in str(raised.value)
        assert arm_requests(panel) == [(1,)]
        # Arming while it waited, then back to what the panel last reported.
        assert seen == ["arming", AlarmControlPanelState.DISARMED]


@pytest.mark.parametrize("entry_options", [CONNECTION_ONLY])
async def test_arming_behind_a_slow_read_gets_its_whole_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A person's command does not wait behind a background read: the read is given up
    (read again after), and the command has its own whole budget."""
    monkeypatch.setattr("custom_components.g90_cloud.hub.COMMAND_TIMEOUT", timedelta(seconds=0.6))
    async with connected_panel(hass, port) as panel:
        hub = init_integration.runtime_data
        panel.model.quirks.extend([Quirk(delay=0.45), Quirk(delay=0.45)])
        reading = hass.async_create_task(hub.read(GUID, get_host_status()))
        await asyncio.sleep(0.1)  # the read is on its way, and would take most of the budget
        started = time.monotonic()
        await call(hass, "alarm_arm_away")
        with pytest.raises(CommandPreempted):
            await reading
        assert arm_requests(panel) == [(1,)]
        history = hub.commands.history[GUID]
        assert [(r.code, r.outcome) for r in history][-2:] == [(100, "cancelled"), (ARM, "ok")]
    assert time.monotonic() - started < 0.75  # behind the read: 0.35 s more, at least


async def test_the_state_read_of_an_arming_is_not_given_up_for_another_command(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The panel accepts an arming but does not report it: its state is read for the person
    waiting, and a relay switched meanwhile waits its turn instead of dropping that read
    (the alarm would show disarmed while the panel is armed)."""
    monkeypatch.setattr("custom_components.g90_cloud.hub.ARM_REPORT_WAIT", timedelta(seconds=0.05))
    async with connected_panel(hass, port) as panel:
        monkeypatch.setattr(panel, "report_changes", lambda _delay=0.0: panel.model.pop_changes())
        panel.model.quirks.extend([Quirk(), Quirk(delay=0.5)])  # the state read: slow
        arming = hass.async_create_task(call(hass, "alarm_arm_home"))
        await until(lambda: [r.code for r in panel.model.requests][-1:] == [STATUS])
        await hass.services.async_call(
            "switch",
            "turn_on",
            {"entity_id": entity_id(hass, "switch", f"{GUID}_relay_10_0")},
            blocking=True,
        )
        await arming
        history = init_integration.runtime_data.commands.history[GUID]
        assert [(r.code, r.outcome) for r in history][-3:] == [
            (ARM, "ok"),
            (STATUS, "ok"),
            (CommandCode.CONTROL_RELAY, "ok"),
        ]
        assert alarm_state(hass) == AlarmControlPanelState.ARMED_HOME


async def test_a_panel_that_refuses(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        panel.model.quirks.append(Quirk(refuse=True))
        with pytest.raises(HomeAssistantError) as raised:
            await call(hass, "alarm_arm_away")
        assert raised.value.translation_key == "command_refused"
        assert alarm_state(hass) == AlarmControlPanelState.DISARMED
        # A refusal is the panel's answer: the LAN is not tried.
        history = init_integration.runtime_data.commands.history[GUID]
        assert [(r.code, r.channel, r.outcome) for r in history][-1:] == [
            (ARM, "connection", "CommandRefused")
        ]
        assert history[-1].reply == "fail"


@pytest.mark.parametrize("entry_options", [{}, CONNECTION_ONLY])
async def test_a_panel_that_disconnects_while_arming(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        panel.model.quirks.append(Quirk(silent=True))
        arming = asyncio.ensure_future(call(hass, "alarm_arm_away"))
        await until(lambda: arm_requests(panel) == [(1,)])
        started = time.monotonic()
    with pytest.raises(HomeAssistantError) as raised:
        await arming
    assert time.monotonic() - started < 5  # at once, not after the timeout
    assert raised.value.translation_key == "panel_disconnected"
    assert alarm_state(hass) == AlarmControlPanelState.DISARMED

    # Not connected at all (its entities still show the last report): an error at once.
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "alarm_disarm")
    assert raised.value.translation_key == "panel_not_connected"


# --- over the LAN ------------------------------------------------------------------


@pytest.mark.parametrize("entry_options", [{CONF_PANEL_LAN_ADDRESS: HOST}])
async def test_the_lan_when_the_connection_fails(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The connection's share of the budget (10 s) is a moment here.
    monkeypatch.setattr("custom_components.g90_cloud.control.CONNECTION_SHARE", 0.3)
    async with connected_panel(hass, port) as panel:
        monkeypatch.setattr(
            "custom_components.g90_cloud.control.LAN_PORT", await panel.serve_local("127.0.0.1")
        )
        panel.model.quirks.append(Quirk(silent=True))  # silent down the connection only
        await call(hass, "alarm_arm_away")
        await send(hass, panel)
        assert arm_requests(panel) == [(1,), (1,)]
        assert alarm_state(hass) == AlarmControlPanelState.ARMED_AWAY
        history = init_integration.runtime_data.commands.history[GUID]
        assert [(r.code, r.channel, r.outcome) for r in history][-2:] == [
            (ARM, "connection", "CommandTimeout"),
            (ARM, "lan", "ok"),
        ]


@pytest.mark.parametrize(
    "entry_options", [{CONF_CONTROL_CHANNEL: "lan", CONF_PANEL_LAN_ADDRESS: HOST}]
)
async def test_lan_only(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    free_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = SimulatedPanel("127.0.0.1", free_port, guid=GUID)
    monkeypatch.setattr(
        "custom_components.g90_cloud.control.LAN_PORT", await panel.serve_local("127.0.0.1")
    )
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    async with panel:
        await panel.hello()
        await hass.async_block_till_done(wait_background_tasks=True)
        await call(hass, "alarm_arm_home")
        await send(hass, panel)
        assert alarm_state(hass) == AlarmControlPanelState.ARMED_HOME
        # Every command went over UDP, none down the connection.
        assert panel.result.commands == []
        codes = [request.code for request in panel.model.requests]
        assert codes == [100, 206, 102, 138, 117, ARM]
        history = mock_config_entry.runtime_data.commands.history[GUID]
        assert {record.channel for record in history} == {"lan"}


@pytest.mark.parametrize(
    "entry_options", [{CONF_CONTROL_CHANNEL: "lan", CONF_PANEL_LAN_ADDRESS: "192.0.2.10"}]
)
async def test_the_lan_address_from_the_options(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Only for an entry with one panel: with two, each panel's own address is used."""
    hub = init_integration.runtime_data
    assert hub.lan_address(GUID) is None  # no such panel
    hub.panel(GUID).lan_address = "127.0.0.1"
    assert hub.lan_address(GUID) == "192.0.2.10"
    hub.panel(OTHER_GUID)
    assert hub.lan_address(GUID) == "127.0.0.1"
    assert hub.lan_address(OTHER_GUID) is None
    # Neither connected nor with a LAN address: nothing can be sent.
    other = entity_id(hass, "alarm_control_panel", f"{OTHER_GUID}_alarm")
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            "alarm_control_panel", "alarm_arm_away", {"entity_id": other}, blocking=True
        )
    assert raised.value.translation_key == "panel_not_connected"


@pytest.mark.parametrize("entry_options", [{CONF_CONTROL_CHANNEL: "carrier pigeon"}])
async def test_an_unknown_channel_in_the_options_is_automatic(
    init_integration: MockConfigEntry,
) -> None:
    """Options written by another version: the default applies."""
    assert init_integration.runtime_data.control == "automatic"


@pytest.mark.parametrize(
    ("peer", "remembered"),
    [
        ("192.168.1.50", "192.168.1.50"),
        ("10.0.0.7", "10.0.0.7"),
        ("127.0.0.1", None),  # a tunnel or a simulator on Home Assistant's host
        ("93.184.216.34", None),  # a public address
        ("8.8.8.8", None),  # the internet
        ("::1", None),
        ("?", None),
    ],
)
def test_which_connection_addresses_are_lan_addresses(peer: str, remembered: str | None) -> None:
    assert lan_address_of(peer) == remembered


async def test_a_panel_connected_from_loopback_has_no_lan_address(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port):
        assert init_integration.runtime_data.lan_address(GUID) is None


# --- listening only, and the automation editor --------------------------------------


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])
async def test_listening_only_offers_no_arming(
    hass: HomeAssistant, init_integration: MockConfigEntry, port: int
) -> None:
    async with connected_panel(hass, port) as panel:
        await send(hass, panel, panel_state("armed_away"))
        state = hass.states.get(alarm_id(hass))
        assert state.attributes["supported_features"] == 0
        for service in ("alarm_arm_away", "alarm_arm_home"):
            with pytest.raises(HomeAssistantError):
                await call(hass, service)
        assert panel.model.requests == []


@pytest.mark.parametrize(
    ("entry_options", "actions", "conditions"),
    [
        (
            {},
            {"arm_away", "arm_home", "disarm"},
            {"is_armed_away", "is_armed_home", "is_disarmed", "is_triggered"},
        ),
        (LISTEN_ONLY, {"disarm"}, {"is_disarmed", "is_triggered"}),
    ],
)
async def test_device_actions_and_conditions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    port: int,
    actions: set[str],
    conditions: set[str],
) -> None:
    """Home Assistant offers arming in the automation editor as the entity supports it."""
    assert await async_setup_component(hass, "device_automation", {})
    async with connected_panel(hass, port):
        pass
    device = panel_device(hass, init_integration.entry_id)
    found = await async_get_device_automations(hass, DeviceAutomationType.ACTION, [device.id])
    offered = {
        action["type"] for action in found[device.id] if action["domain"] == "alarm_control_panel"
    }
    assert offered == actions
    found = await async_get_device_automations(hass, DeviceAutomationType.CONDITION, [device.id])
    offered = {
        condition["type"]
        for condition in found[device.id]
        if condition["domain"] == "alarm_control_panel"
    }
    assert offered == conditions
