"""Pointing a panel at Home Assistant from the config and options flows (UDP on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket

from custom_components.g90_cloud import config_flow, pointing
from custom_components.g90_cloud.const import CONF_LOCAL_PORT, DOMAIN
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel

GUID = "GA00000A0000000"


class FakePanel(asyncio.DatagramProtocol):
    """The panel's local UDP port: records datagrams; may connect to the announced address."""

    def __init__(self, connect_to: int | None) -> None:
        self.datagrams: list[bytes] = []
        self.connect_to = connect_to
        self.panel: SimulatedPanel | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.datagrams.append(data)
        if self.connect_to is not None:
            self.tasks.append(asyncio.get_running_loop().create_task(self._connect()))

    async def _connect(self) -> None:
        assert self.connect_to is not None
        self.panel = SimulatedPanel("127.0.0.1", self.connect_to)
        await self.panel.__aenter__()
        await self.panel.hello()

    async def close(self) -> None:
        for task in self.tasks:
            await task
        if self.panel is not None:
            await self.panel.__aexit__()


@pytest.fixture
async def fake_panel(
    hass: HomeAssistant, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Any]:
    """Start a fake panel UDP port; the flows are made to send to it."""
    made: list[tuple[asyncio.DatagramTransport, FakePanel]] = []

    async def start(connect_to: int | None) -> FakePanel:
        transport, protocol = await hass.loop.create_datagram_endpoint(
            lambda: FakePanel(connect_to), local_addr=("127.0.0.1", 0)
        )
        monkeypatch.setattr(
            config_flow, "PANEL_LOCAL_PORT", transport.get_extra_info("sockname")[1]
        )
        made.append((transport, protocol))
        return protocol

    yield start
    for transport, protocol in made:
        await protocol.close()
        transport.close()


def expected_datagram(port: int) -> bytes:
    text = f'ISTART[0,100,"AT^IWT=1,78=127.0.0.1&127.0.0.1&{port},IWT"]IEND'
    return text.encode() + b"\0"


async def start_user_flow(hass: HomeAssistant, entry_data: dict[str, Any], panel_ip: str) -> Any:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {**entry_data, "panel_ip": panel_ip}
    )


async def test_config_flow_points_the_panel_and_waits_for_it(
    hass: HomeAssistant, entry_data: dict[str, Any], fake_panel: Any
) -> None:
    port = entry_data[CONF_LOCAL_PORT]
    entry_data = {**entry_data, "cloud_port": port}
    panel = await fake_panel(connect_to=port)
    result = await start_user_flow(hass, entry_data, "127.0.0.1")
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["step_id"] == "point_panel"
    assert result["progress_action"] == "wait_for_panel"
    assert result["description_placeholders"]["address"] == f"127.0.0.1:{port}"
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_LOCAL_PORT] == port
    assert "panel_ip" not in result["data"]
    assert panel.datagrams == [expected_datagram(port)]
    assert panel.panel is not None
    assert panel.panel.result.problems == []
    # The temporary listener is gone: the entry's own listener can bind the port.
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_config_flow_timeout_then_finish_without_the_panel(
    hass: HomeAssistant,
    entry_data: dict[str, Any],
    fake_panel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pointing, "PANEL_WAIT", timedelta(seconds=0.3))
    panel = await fake_panel(connect_to=None)
    result = await start_user_flow(hass, entry_data, "127.0.0.1")
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "panel_timeout"
    assert result["menu_options"] == ["point_panel", "finish"]
    assert len(panel.datagrams) == 1

    # Try again: the datagram goes out once more, and again nobody comes.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "point_panel"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["step_id"] == "panel_timeout"
    assert len(panel.datagrams) == 2
    assert hass.config_entries.async_entries(DOMAIN) == []

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "finish"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.fixture
def allow_broadcast_address() -> Iterator[None]:
    """The HA plugin only lets tests connect to 127.0.0.1; this test needs one more address.

    The kernel refuses a datagram to the broadcast address from a socket that did
    not ask for broadcasting (EACCES): nothing leaves the machine.
    """
    pytest_socket.socket_allow_hosts(["127.0.0.1", "255.255.255.255"])
    yield
    pytest_socket.socket_allow_hosts(["127.0.0.1"])


async def test_config_flow_panel_unreachable(
    hass: HomeAssistant,
    entry_data: dict[str, Any],
    socket_enabled: None,
    allow_broadcast_address: None,  # last: after the plugin has set its own list
) -> None:
    # A real send failure: the panel's address is one this host refuses to send to.
    result = await start_user_flow(hass, entry_data, "255.255.255.255")
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "panel_unreachable"
    assert hass.config_entries.async_entries(DOMAIN) == []


@pytest.mark.parametrize("panel_ip", ["not an ip", "::1", "192.168.1"])
async def test_config_flow_rejects_a_bad_panel_ip(
    hass: HomeAssistant, entry_data: dict[str, Any], panel_ip: str
) -> None:
    result = await start_user_flow(hass, entry_data, panel_ip)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"panel_ip": "invalid_panel_ip"}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_options_flow_points_the_panel_at_the_running_listener(
    hass: HomeAssistant, init_integration: MockConfigEntry, fake_panel: Any
) -> None:
    entry = init_integration
    port = entry.data[CONF_LOCAL_PORT]
    panel = await fake_panel(connect_to=port)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"panel_ip": "127.0.0.1", "allowed_guids": [GUID]}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["allowed_guids"] == [GUID]
    assert "panel_ip" not in result["data"]
    assert panel.datagrams == [expected_datagram(entry.data["cloud_port"])]


async def test_options_flow_points_the_panel_while_the_entry_is_not_loaded(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, fake_panel: Any
) -> None:
    """No listener runs: a temporary one on the entry's settings waits for the panel."""
    entry = mock_config_entry
    entry.add_to_hass(hass)
    port = entry.data[CONF_LOCAL_PORT]
    panel = await fake_panel(connect_to=port)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"panel_ip": "127.0.0.1"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["description_placeholders"]["address"] == f"127.0.0.1:{entry.data['cloud_port']}"
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"allowed_guids": []}
    assert panel.datagrams == [expected_datagram(entry.data["cloud_port"])]
    assert panel.panel is not None
    assert panel.panel.result.problems == []
