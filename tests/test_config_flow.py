"""Config, options and reconfigure flows, against real sockets."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
import contextlib
import json
from pathlib import Path
import socket
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.g90_cloud import config_flow
from custom_components.g90_cloud.const import (
    CONF_ALLOWED_GUIDS,
    CONF_CLOUD_IP,
    CONF_CLOUD_PORT,
    CONF_CODE,
    CONF_CODE_ARM_REQUIRED,
    CONF_CONTROL_CHANNEL,
    CONF_HELLO_TIMEOUT,
    CONF_LIMITS,
    CONF_LOCAL_IP,
    CONF_LOCAL_PORT,
    CONF_MAX_CONNECTIONS,
    CONF_MAX_PANELS_PER_ADDRESS,
    CONF_MAX_STRANGERS_PER_ADDRESS,
    CONF_PANEL_IP,
    CONF_PANEL_LAN_ADDRESS,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
    DOMAIN,
    ControlChannel,
)

from .common import GUID, HOST, connected_panel, port_is_free, send

COMPONENT = Path(config_flow.__file__).parent
SOURCE_IP = "192.168.1.50"
CONTROL_OPTIONS = (CONF_CODE, CONF_CODE_ARM_REQUIRED, CONF_CONTROL_CHANNEL, CONF_PANEL_LAN_ADDRESS)


def settings(port: int, **overrides: Any) -> dict[str, Any]:
    """What a user types into the form (ports as the number selector gives them)."""
    return {
        CONF_LOCAL_IP: HOST,
        CONF_LOCAL_PORT: float(port),
        CONF_CLOUD_IP: HOST,
        CONF_CLOUD_PORT: 5678.0,
        CONF_UPSTREAM_PORT: 5678.0,
    } | overrides


def unused_port(*taken: int) -> int:
    """A loopback port nothing listens on, other than `taken`."""
    while True:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            return port


@contextlib.contextmanager
def occupied(port: int) -> Iterator[socket.socket]:
    """Another program listening on `port`."""
    with socket.socket() as blocker:
        blocker.bind((HOST, port))
        blocker.listen()
        yield blocker


def form_defaults(result: FlowResult) -> dict[str, Any]:
    """The form's defaults, by field."""
    schema = result["data_schema"]
    assert schema is not None
    return {
        str(key): key.default() for key in schema.schema if key.default is not probatio.UNDEFINED
    }


def suggested(result: FlowResult, field: str) -> Any:
    """A field's suggested value (shown, not defaulted)."""
    schema = result["data_schema"]
    assert schema is not None
    for key in schema.schema:
        if key == field:
            return (key.description or {}).get("suggested_value")
    raise AssertionError(f"no field {field}")


async def start_user_flow(hass: HomeAssistant) -> FlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result


async def can_say_hello(hass: HomeAssistant, port: int) -> bool:
    """Whether a panel gets the cloud's answer on `port`."""
    try:
        async with connected_panel(hass, port) as panel:
            await send(hass, panel)
    except OSError:
        return False
    return True


# --- step user ----------------------------------------------------------------------


async def test_user_form_defaults(hass: HomeAssistant, socket_enabled: None) -> None:
    with patch(
        "homeassistant.components.network.async_get_source_ip", return_value=SOURCE_IP
    ) as source_ip:
        result = await start_user_flow(hass)
    source_ip.assert_awaited()
    assert form_defaults(result) == {
        CONF_LOCAL_IP: "0.0.0.0",
        CONF_LOCAL_PORT: 5678,
        CONF_CLOUD_IP: SOURCE_IP,
        CONF_CLOUD_PORT: 5678,
        CONF_UPSTREAM_PORT: 5678,
    }
    assert suggested(result, CONF_UPSTREAM_HOST) == ""


async def test_user_form_without_source_ip(hass: HomeAssistant, socket_enabled: None) -> None:
    with patch(
        "homeassistant.components.network.async_get_source_ip",
        side_effect=HomeAssistantError("no IPv4 address"),
    ):
        result = await start_user_flow(hass)
    assert form_defaults(result)[CONF_CLOUD_IP] == ""


async def test_user_creates_entry_and_listens(hass: HomeAssistant, free_port: int) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(free_port, **{CONF_LOCAL_IP: f" {HOST} "})
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"G90 Cloud (port {free_port})"
    data = result["data"]
    assert data == {
        CONF_LOCAL_IP: HOST,
        CONF_LOCAL_PORT: free_port,
        CONF_CLOUD_IP: HOST,
        CONF_CLOUD_PORT: 5678,
        CONF_UPSTREAM_HOST: "",
        CONF_UPSTREAM_PORT: 5678,
    }
    for field in (CONF_LOCAL_PORT, CONF_CLOUD_PORT, CONF_UPSTREAM_PORT):
        assert type(data[field]) is int
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert entry.state is ConfigEntryState.LOADED
    assert await can_say_hello(hass, free_port)


async def test_user_creates_entry_with_upstream(hass: HomeAssistant, free_port: int) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        settings(free_port, **{CONF_UPSTREAM_HOST: " cloud.example.com ", CONF_UPSTREAM_PORT: 7}),
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_UPSTREAM_HOST] == "cloud.example.com"
    assert result["data"][CONF_UPSTREAM_PORT] == 7


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({CONF_LOCAL_IP: "not-an-ip"}, {CONF_LOCAL_IP: "invalid_local_ip"}),
        ({CONF_LOCAL_IP: ""}, {CONF_LOCAL_IP: "invalid_local_ip"}),
        ({CONF_LOCAL_IP: "300.1.1.1"}, {CONF_LOCAL_IP: "invalid_local_ip"}),
        ({CONF_CLOUD_IP: "ha.local"}, {CONF_CLOUD_IP: "invalid_cloud_ip"}),
        ({CONF_CLOUD_IP: "0.0.0.0"}, {CONF_CLOUD_IP: "invalid_cloud_ip"}),
        ({CONF_CLOUD_IP: "::1"}, {CONF_CLOUD_IP: "invalid_cloud_ip"}),
        ({CONF_CLOUD_IP: "fd00::10"}, {CONF_CLOUD_IP: "invalid_cloud_ip"}),
        ({CONF_LOCAL_PORT: 0}, {CONF_LOCAL_PORT: "invalid_port"}),
        ({CONF_LOCAL_PORT: 70000}, {CONF_LOCAL_PORT: "invalid_port"}),
        ({CONF_LOCAL_PORT: 1.5}, {CONF_LOCAL_PORT: "invalid_port"}),
        ({CONF_CLOUD_PORT: 0}, {CONF_CLOUD_PORT: "invalid_port"}),
        ({CONF_CLOUD_PORT: 65536}, {CONF_CLOUD_PORT: "invalid_port"}),
        ({CONF_UPSTREAM_PORT: 70000}, {CONF_UPSTREAM_PORT: "invalid_port"}),
        ({CONF_UPSTREAM_PORT: 2.5}, {CONF_UPSTREAM_PORT: "invalid_port"}),
        ({CONF_UPSTREAM_HOST: "bad host!"}, {CONF_UPSTREAM_HOST: "invalid_upstream_host"}),
        ({CONF_UPSTREAM_HOST: "-bad-.example"}, {CONF_UPSTREAM_HOST: "invalid_upstream_host"}),
        (
            {CONF_LOCAL_IP: "nowhere", CONF_CLOUD_IP: "0.0.0.0", CONF_CLOUD_PORT: 0},
            {
                CONF_LOCAL_IP: "invalid_local_ip",
                CONF_CLOUD_IP: "invalid_cloud_ip",
                CONF_CLOUD_PORT: "invalid_port",
            },
        ),
    ],
)
async def test_user_invalid_field(
    hass: HomeAssistant, free_port: int, overrides: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(free_port, **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    assert hass.config_entries.async_entries(DOMAIN) == []
    # What was typed is shown again, to be corrected.
    defaults = form_defaults(result)
    for field, value in overrides.items():
        if field == CONF_UPSTREAM_HOST:
            assert suggested(result, field) == value
        else:
            assert defaults[field] == value


async def test_user_error_then_success(hass: HomeAssistant, free_port: int) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(free_port, **{CONF_CLOUD_IP: "0.0.0.0"})
    )
    assert result["errors"] == {CONF_CLOUD_IP: "invalid_cloud_ip"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], settings(free_port))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


LISTEN_PORT = "listen port"
"""Stands for the test's listen port in the parameters below."""


@pytest.mark.parametrize(
    "overrides",
    [
        # The announced address on the listen port.
        {CONF_UPSTREAM_HOST: HOST, CONF_UPSTREAM_PORT: LISTEN_PORT},
        # The announced address on the announced port, which port mapping leads to us.
        {
            CONF_CLOUD_IP: "10.0.0.5",
            CONF_CLOUD_PORT: 5678,
            CONF_UPSTREAM_HOST: "10.0.0.5",
            CONF_UPSTREAM_PORT: 5678,
        },
        # The listen address itself.
        {CONF_CLOUD_IP: "10.0.0.5", CONF_UPSTREAM_HOST: HOST, CONF_UPSTREAM_PORT: LISTEN_PORT},
        # Loopback, while listening on every interface.
        {
            CONF_LOCAL_IP: "0.0.0.0",
            CONF_CLOUD_IP: "10.0.0.5",
            CONF_UPSTREAM_HOST: "localhost",
            CONF_UPSTREAM_PORT: LISTEN_PORT,
        },
        {
            CONF_LOCAL_IP: "0.0.0.0",
            CONF_CLOUD_IP: "10.0.0.5",
            CONF_UPSTREAM_HOST: "127.0.0.2",
            CONF_UPSTREAM_PORT: LISTEN_PORT,
        },
    ],
)
async def test_user_upstream_is_us(
    hass: HomeAssistant, free_port: int, overrides: dict[str, Any]
) -> None:
    given = {key: free_port if value == LISTEN_PORT else value for key, value in overrides.items()}
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(free_port, **given)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_UPSTREAM_HOST: "upstream_is_us"}
    assert hass.config_entries.async_entries(DOMAIN) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {CONF_UPSTREAM_HOST: HOST, CONF_UPSTREAM_PORT: 1},
        {CONF_CLOUD_IP: "10.0.0.5", CONF_UPSTREAM_HOST: "47.88.7.61", CONF_UPSTREAM_PORT: 5678},
        {CONF_UPSTREAM_HOST: "localhost", CONF_UPSTREAM_PORT: 5678},
    ],
)
async def test_user_upstream_elsewhere(
    hass: HomeAssistant, free_port: int, overrides: dict[str, Any]
) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(free_port, **overrides)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_UPSTREAM_HOST] == overrides[CONF_UPSTREAM_HOST]


async def test_user_port_in_use(hass: HomeAssistant, free_port: int) -> None:
    result = await start_user_flow(hass)
    with occupied(free_port):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], settings(free_port)
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_LOCAL_PORT: "port_in_use"}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_user_address_not_on_this_host(hass: HomeAssistant, free_port: int) -> None:
    result = await start_user_flow(hass)
    # 192.0.2.1 (TEST-NET-1) belongs to no interface here: binding it fails.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(free_port, **{CONF_LOCAL_IP: "192.0.2.1"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_LOCAL_PORT: "cannot_bind"}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_user_port_of_another_entry_is_a_field_error(
    hass: HomeAssistant, free_port: int
) -> None:
    """One entry per port: said on the port field, and what was typed stays in the form."""
    other = MockConfigEntry(domain=DOMAIN, data=settings(free_port) | {CONF_LOCAL_PORT: free_port})
    other.add_to_hass(hass)
    result = await start_user_flow(hass)
    typed = settings(
        free_port,
        **{
            CONF_CLOUD_IP: "10.0.0.2",
            CONF_CLOUD_PORT: 15678.0,
            CONF_UPSTREAM_HOST: "cloud.example.com",
            CONF_PANEL_IP: "192.168.1.50",
        },
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_LOCAL_PORT: "port_configured"}
    assert hass.config_entries.async_entries(DOMAIN) == [other]
    defaults = form_defaults(result)
    for field in (CONF_LOCAL_IP, CONF_LOCAL_PORT, CONF_CLOUD_IP, CONF_CLOUD_PORT):
        assert defaults[field] == typed[field], field
    assert suggested(result, CONF_UPSTREAM_HOST) == "cloud.example.com"
    assert suggested(result, CONF_PANEL_IP) == "192.168.1.50"

    # Another port: the entry is made.
    other_port = unused_port(free_port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(other_port, **{CONF_CLOUD_IP: "10.0.0.2"})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


@pytest.mark.parametrize("value", ["abc", None, [5678], "5678.5"])
async def test_port_that_is_no_number(hass: HomeAssistant, free_port: int, value: object) -> None:
    """What the number selector would never let through is still refused."""
    clean, errors = await config_flow.validate_settings(
        hass, settings(free_port, **{CONF_CLOUD_PORT: value})
    )
    assert errors == {CONF_CLOUD_PORT: "invalid_port"}
    assert clean[CONF_CLOUD_PORT] is None


async def test_ports_as_text_are_accepted(hass: HomeAssistant, free_port: int) -> None:
    clean, errors = await config_flow.validate_settings(
        hass, settings(free_port, **{CONF_LOCAL_PORT: str(free_port), CONF_CLOUD_PORT: "80"})
    )
    assert errors == {}
    assert clean[CONF_LOCAL_PORT] == free_port
    assert clean[CONF_CLOUD_PORT] == 80


# --- options flow ------------------------------------------------------------------


async def start_options(hass: HomeAssistant, entry: MockConfigEntry) -> FlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    return result


def guid_choices(result: FlowResult) -> list[str]:
    schema = result["data_schema"]
    assert schema is not None
    for key, selector in schema.schema.items():
        if key == CONF_ALLOWED_GUIDS:
            return list(selector.config["options"])
    raise AssertionError("no allowed_guids field")


def form_fields(result: FlowResult) -> set[str]:
    schema = result["data_schema"]
    assert schema is not None
    return {str(key) for key in schema.schema}


async def test_options_form_offers_known_panels(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    port = init_integration.data[CONF_LOCAL_PORT]
    async with connected_panel(hass, port):
        pass
    result = await start_options(hass, init_integration)
    assert guid_choices(result) == [GUID]
    defaults = form_defaults(result)
    assert defaults[CONF_ALLOWED_GUIDS] == []
    # Only what is optional: the connection settings are changed with Reconfigure.
    assert form_fields(result) == {CONF_ALLOWED_GUIDS, CONF_PANEL_IP, *CONTROL_OPTIONS, CONF_LIMITS}


async def test_options_refuse_connection_settings(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    result = await start_options(hass, entry)
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], settings(unused_port(entry.data[CONF_LOCAL_PORT]))
        )
    assert entry.options == {}


async def test_options_same_port_and_allow_list_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    port = entry.data[CONF_LOCAL_PORT]
    data = dict(entry.data)
    hub = entry.runtime_data
    result = await start_options(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ALLOWED_GUIDS: [f" {GUID} "]}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_ALLOWED_GUIDS: [GUID]}
    assert dict(entry.data) == data  # the connection settings are untouched
    assert entry.data[CONF_LOCAL_PORT] == port
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not hub  # reloaded
    assert entry.runtime_data.listener.config.allowed_guids == frozenset({GUID})
    assert entry.runtime_data.listener.config.port == port

    # The allow-list is in force: the known panel gets in, another is shown the door.
    assert await can_say_hello(hass, port)
    with pytest.raises(ConnectionError):
        async with connected_panel(hass, port, guid="GB00000B0000000"):
            pass
    assert "GB00000B0000000" not in entry.runtime_data.panels

    # Emptied again: any panel may connect.
    result = await start_options(hass, entry)
    assert form_defaults(result)[CONF_ALLOWED_GUIDS] == [GUID]
    await hass.config_entries.options.async_configure(result["flow_id"], {CONF_ALLOWED_GUIDS: []})
    await hass.async_block_till_done()
    assert entry.options == {CONF_ALLOWED_GUIDS: []}
    assert entry.runtime_data.listener.config.allowed_guids is None
    assert await can_say_hello(hass, port)


@pytest.mark.parametrize("guid", ["bad guid", "G" * 16, "GA0000-0A000000"])
async def test_options_invalid_guid(
    hass: HomeAssistant, init_integration: MockConfigEntry, guid: str
) -> None:
    entry = init_integration
    result = await start_options(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ALLOWED_GUIDS: [GUID, guid], CONF_PANEL_IP: "192.168.1.50"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ALLOWED_GUIDS: "invalid_guid"}
    assert entry.options == {}
    # The typed GUIDs are offered again, and the typed panel address shown.
    assert sorted(guid_choices(result)) == sorted([GUID, guid])
    assert form_defaults(result)[CONF_ALLOWED_GUIDS] == [GUID, guid]
    assert suggested(result, CONF_PANEL_IP) == "192.168.1.50"


async def test_options_control(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    entry = init_integration
    result = await start_options(hass, entry)
    assert suggested(result, CONF_CODE) == ""
    assert suggested(result, CONF_CODE_ARM_REQUIRED) is True
    assert suggested(result, CONF_CONTROL_CHANNEL) == ControlChannel.AUTOMATIC
    assert suggested(result, CONF_PANEL_LAN_ADDRESS) == ""
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_CODE: " 1234 ",
            CONF_CODE_ARM_REQUIRED: False,
            CONF_CONTROL_CHANNEL: "connection",
            CONF_PANEL_LAN_ADDRESS: " 192.168.1.60 ",
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_ALLOWED_GUIDS: [],
        CONF_CODE: "1234",
        CONF_CODE_ARM_REQUIRED: False,
        CONF_CONTROL_CHANNEL: "connection",
        CONF_PANEL_LAN_ADDRESS: "192.168.1.60",
    }
    assert entry.runtime_data.control is ControlChannel.CONNECTION  # reloaded with them

    # Shown as saved; an emptied field is not saved.
    result = await start_options(hass, entry)
    assert suggested(result, CONF_CODE) == "1234"
    assert suggested(result, CONF_CODE_ARM_REQUIRED) is False
    assert suggested(result, CONF_CONTROL_CHANNEL) == "connection"
    assert suggested(result, CONF_PANEL_LAN_ADDRESS) == "192.168.1.60"
    await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CODE: "", CONF_CONTROL_CHANNEL: "off"}
    )
    await hass.async_block_till_done()
    assert entry.options == {CONF_ALLOWED_GUIDS: [], CONF_CONTROL_CHANNEL: "off"}
    assert not entry.runtime_data.can_control


@pytest.mark.parametrize(
    "address", ["panel.local", "::1", "192.168.1", "0.0.0.0", "255.255.255.255", "224.0.0.1"]
)
async def test_options_invalid_lan_address(
    hass: HomeAssistant, init_integration: MockConfigEntry, address: str
) -> None:
    entry = init_integration
    result = await start_options(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PANEL_LAN_ADDRESS: address, CONF_CODE: "1234"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PANEL_LAN_ADDRESS: "invalid_lan_address"}
    assert entry.options == {}
    assert suggested(result, CONF_PANEL_LAN_ADDRESS) == address
    assert suggested(result, CONF_CODE) == "1234"


async def test_options_refuse_an_unknown_channel(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await start_options(hass, init_integration)
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_CONTROL_CHANNEL: "carrier pigeon"}
        )


def test_control_channels_are_translated() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    labels = strings["selector"][CONF_CONTROL_CHANNEL]["options"]
    assert set(labels) == {channel.value for channel in ControlChannel}


# --- reconfigure flow --------------------------------------------------------------


async def test_reconfigure_moves_the_listener(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    old = entry.data[CONF_LOCAL_PORT]
    new = unused_port(old)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert form_defaults(result)[CONF_LOCAL_PORT] == old
    assert form_defaults(result)[CONF_LOCAL_IP] == HOST

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(new, **{CONF_CLOUD_IP: "10.1.2.3"})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_LOCAL_PORT] == new
    assert entry.data[CONF_CLOUD_IP] == "10.1.2.3"
    assert entry.options == {}
    assert entry.title == f"G90 Cloud (port {new})"
    assert entry.state is ConfigEntryState.LOADED
    assert await can_say_hello(hass, new)
    assert port_is_free(old)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(HOST, old)


async def test_reconfigure_same_port(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The entry's own listener holds its port: keeping it is no conflict."""
    entry = init_integration
    port = entry.data[CONF_LOCAL_PORT]
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(port, **{CONF_CLOUD_PORT: 15678})
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CLOUD_PORT] == 15678
    async with connected_panel(hass, port) as panel:
        assert panel.result.announced_port == 15678


async def test_reconfigure_keeps_the_allow_list(
    hass: HomeAssistant, entry_data: dict[str, Any]
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data, options={CONF_ALLOWED_GUIDS: [GUID]}, minor_version=2
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    new = unused_port(entry.data[CONF_LOCAL_PORT])
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], settings(new))
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.options == {CONF_ALLOWED_GUIDS: [GUID]}
    assert entry.runtime_data.listener.config.allowed_guids == frozenset({GUID})
    assert await can_say_hello(hass, new)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({CONF_CLOUD_IP: "::1"}, {CONF_CLOUD_IP: "invalid_cloud_ip"}),
        ({CONF_CLOUD_IP: "0.0.0.0"}, {CONF_CLOUD_IP: "invalid_cloud_ip"}),
        ({CONF_LOCAL_PORT: 0}, {CONF_LOCAL_PORT: "invalid_port"}),
        ({CONF_LOCAL_PORT: 70000}, {CONF_LOCAL_PORT: "invalid_port"}),
        ({CONF_LOCAL_IP: "x"}, {CONF_LOCAL_IP: "invalid_local_ip"}),
        ({CONF_UPSTREAM_HOST: "bad_host"}, {CONF_UPSTREAM_HOST: "invalid_upstream_host"}),
        ({CONF_UPSTREAM_HOST: "a b"}, {CONF_UPSTREAM_HOST: "invalid_upstream_host"}),
    ],
)
async def test_reconfigure_invalid(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    overrides: dict[str, Any],
    errors: dict[str, str],
) -> None:
    entry = init_integration
    before = dict(entry.data)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(entry.data[CONF_LOCAL_PORT], **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == errors
    assert dict(entry.data) == before
    assert entry.options == {}


async def test_reconfigure_port_in_use(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    busy = unused_port(entry.data[CONF_LOCAL_PORT])
    result = await entry.start_reconfigure_flow(hass)
    with occupied(busy):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], settings(busy))
    assert result["errors"] == {CONF_LOCAL_PORT: "port_in_use"}
    assert entry.data[CONF_LOCAL_PORT] != busy
    assert entry.options == {}


async def test_reconfigure_port_of_another_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    other_port = unused_port(entry.data[CONF_LOCAL_PORT])
    MockConfigEntry(
        domain=DOMAIN, data=settings(other_port) | {CONF_LOCAL_PORT: other_port}
    ).add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], settings(other_port))
    assert result["errors"] == {CONF_LOCAL_PORT: "port_configured"}
    assert entry.data[CONF_LOCAL_PORT] != other_port
    assert entry.options == {}


async def test_reconfigure_listen_everywhere_on_the_same_port(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Widening the listen address keeps the port: its own listener is no conflict."""
    entry = init_integration
    port = entry.data[CONF_LOCAL_PORT]
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(port, **{CONF_LOCAL_IP: "0.0.0.0"})
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.listener.config.host == "0.0.0.0"
    assert await can_say_hello(hass, port)


async def test_reconfigure_other_address_in_use_on_the_same_port(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Only the entry's own listener is excused: any other holder of the port is not."""
    entry = init_integration
    port = entry.data[CONF_LOCAL_PORT]
    before = dict(entry.data)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    result = await entry.start_reconfigure_flow(hass)
    with occupied(port):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], settings(port, **{CONF_LOCAL_IP: "0.0.0.0"})
        )
    assert result["errors"] == {CONF_LOCAL_PORT: "port_in_use"}
    assert dict(entry.data) == before


async def test_reconfigure_can_switch_chaining_off(
    hass: HomeAssistant, entry_data: dict[str, Any]
) -> None:
    """A vendor cloud set at setup is gone once reconfigure clears it."""
    entry = MockConfigEntry(
        domain=DOMAIN, data=entry_data | {CONF_UPSTREAM_HOST: "cloud.example.com"}
    )
    port = entry.data[CONF_LOCAL_PORT]
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.chaining

    result = await entry.start_reconfigure_flow(hass)
    assert suggested(result, CONF_UPSTREAM_HOST) == "cloud.example.com"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings(port, **{CONF_UPSTREAM_HOST: ""})
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_UPSTREAM_HOST] == ""
    assert not entry.runtime_data.chaining
    assert entry.runtime_data.listener.config.upstream_host is None


# --- entries of 1.1, whose options flow also saved the connection settings -----------


async def test_migration_moves_connection_settings_from_options_to_data(
    hass: HomeAssistant, entry_data: dict[str, Any]
) -> None:
    first = entry_data[CONF_LOCAL_PORT]
    second = unused_port(first)
    third = unused_port(first, second)
    # As the 1.1 options flow left it: every setting again in options, winning over data.
    in_options = {
        CONF_LOCAL_IP: HOST,
        CONF_LOCAL_PORT: second,
        CONF_CLOUD_IP: "127.0.0.1",
        CONF_CLOUD_PORT: 15678,
        CONF_UPSTREAM_HOST: "",
        CONF_UPSTREAM_PORT: 5678,
    }
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        data=entry_data | {CONF_UPSTREAM_HOST: "cloud.example.com"},
        options=in_options | {CONF_ALLOWED_GUIDS: [GUID]},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert dict(entry.data) == in_options
    assert entry.options == {CONF_ALLOWED_GUIDS: [GUID]}
    # The settings that were in force are still in force.
    listener = entry.runtime_data.listener
    assert listener.port == second
    assert listener.config.cloud_port == 15678
    assert listener.config.upstream_host is None
    assert listener.config.allowed_guids == frozenset({GUID})
    async with connected_panel(hass, second) as panel:
        assert panel.result.announced_port == 15678
    assert port_is_free(first)

    # Reconfigure starts from them, and its new values are the ones in force.
    result = await entry.start_reconfigure_flow(hass)
    assert form_defaults(result)[CONF_LOCAL_PORT] == second
    result = await hass.config_entries.flow.async_configure(result["flow_id"], settings(third))
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_LOCAL_PORT] == third
    assert entry.options == {CONF_ALLOWED_GUIDS: [GUID]}
    assert await can_say_hello(hass, third)
    assert port_is_free(second)


async def test_migration_of_an_entry_without_options(
    hass: HomeAssistant, entry_data: dict[str, Any]
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, version=1, minor_version=1, data=entry_data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == 2
    assert dict(entry.data) == entry_data
    assert entry.options == {}


async def test_an_entry_from_a_newer_minor_version_loads(
    hass: HomeAssistant, entry_data: dict[str, Any]
) -> None:
    """A minor version only adds: an entry saved by a later release still loads."""
    entry = MockConfigEntry(domain=DOMAIN, version=1, minor_version=3, data=entry_data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == 3


# --- translations ------------------------------------------------------------------


def _error_keys(*names: str) -> set[str]:
    """Every error key the named functions and classes of config_flow.py (all: none named)
    can put on a form."""
    tree = ast.parse((COMPONENT / "config_flow.py").read_text())
    roots: list[ast.AST] = [tree]
    if names:
        roots = [node for node in tree.body if getattr(node, "name", None) in names]
        assert len(roots) == len(names), names
    keys: set[str] = set()
    for node in (node for root in roots for node in ast.walk(root)):
        values: list[ast.AST] = []
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id == "errors"
            for target in node.targets
        ):
            values.append(node.value)
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            values.extend(element for element in node.value.elts if isinstance(element, ast.Dict))
        for value in values:
            keys.update(
                constant.value
                for constant in ast.walk(value)
                if isinstance(constant, ast.Constant) and isinstance(constant.value, str)
            )
    return keys


SHARED = ("_panel_ip", "PointPanelFlow")
CONFIG_FLOW = ("validate_settings", "G90CloudConfigFlow", *SHARED)
OPTIONS_FLOW = ("G90CloudOptionsFlow", *SHARED)


def _abort_reasons() -> set[str]:
    tree = ast.parse((COMPONENT / "config_flow.py").read_text())
    return {
        keyword.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "reason" and isinstance(keyword.value, ast.Constant)
    }


def test_error_keys_are_translated() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    config, options = _error_keys(*CONFIG_FLOW), _error_keys(*OPTIONS_FLOW)
    # The parse must find the keys the flows are known to use, and every key used.
    assert {"invalid_port", "port_in_use", "port_configured", "invalid_panel_ip"} <= config
    assert {"invalid_guid", "invalid_panel_ip"} <= options
    assert config | options == _error_keys()
    # Each flow's keys are translated, and no translation is left unused.
    assert config == set(strings["config"]["error"]), config ^ set(strings["config"]["error"])
    assert options == set(strings["options"]["error"]), options ^ set(strings["options"]["error"])
    reasons = _abort_reasons() | {"reconfigure_successful"}
    assert reasons <= set(strings["config"]["abort"])


def test_every_field_is_described() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    config_steps = [strings["config"]["step"]["user"], strings["config"]["step"]["reconfigure"]]
    options_step = strings["options"]["step"]["init"]
    fields = {CONF_LOCAL_IP, CONF_LOCAL_PORT, CONF_CLOUD_IP, CONF_CLOUD_PORT}
    fields |= {CONF_UPSTREAM_HOST, CONF_UPSTREAM_PORT}
    for step in [*config_steps, options_step]:
        assert set(step["data"]) == set(step["data_description"])
        assert all(text.strip() for text in step["data_description"].values())
    for step in config_steps:
        assert fields <= set(step["data"])
    assert CONF_PANEL_IP in strings["config"]["step"]["user"]["data"]
    # The options hold only what is optional.
    assert set(options_step["data"]) == {CONF_ALLOWED_GUIDS, CONF_PANEL_IP, *CONTROL_OPTIONS}


def test_english_translation_matches_strings() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    english = json.loads((COMPONENT / "translations" / "en.json").read_text())
    assert english == strings


async def test_options_limits(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The listener's limits: shown with their defaults, saved when changed, applied."""
    entry = init_integration
    result = await start_options(hass, entry)
    limits = {
        CONF_MAX_CONNECTIONS: 300.0,  # as the number selector gives them
        CONF_MAX_STRANGERS_PER_ADDRESS: 8.0,  # the default: not saved
        CONF_MAX_PANELS_PER_ADDRESS: 4.0,
        CONF_HELLO_TIMEOUT: 20.0,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LIMITS: limits}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_LIMITS] == {
        CONF_MAX_CONNECTIONS: 300,
        CONF_MAX_PANELS_PER_ADDRESS: 4,
        CONF_HELLO_TIMEOUT: 20,
    }
    config = entry.runtime_data.listener.config
    assert (config.max_connections, config.max_unidentified_per_address) == (300, 8)
    assert (config.max_panels_per_address, config.hello_timeout) == (4, 20.0)
    # Shown again with what was saved; out of range is refused, nothing saved.
    result = await start_options(hass, entry)
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_LIMITS: {**limits, CONF_HELLO_TIMEOUT: 0}}
        )
    assert entry.options[CONF_LIMITS][CONF_HELLO_TIMEOUT] == 20
