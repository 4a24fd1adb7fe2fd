"""Fixtures shared by the Home Assistant tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import socket
from typing import Any
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.g90_cloud import PLATFORMS
from custom_components.g90_cloud.const import (
    CONF_CLOUD_IP,
    CONF_CLOUD_PORT,
    CONF_LOCAL_IP,
    CONF_LOCAL_PORT,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
    DOMAIN,
)

from .common import HOST, FakeCloud, like_the_vendor


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/g90_cloud in every test."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format, kept in tests/snapshots/."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def free_port(socket_enabled: None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def entry_data(free_port: int) -> dict[str, object]:
    """Settings of a standalone listener on loopback."""
    return {
        CONF_LOCAL_IP: "127.0.0.1",
        CONF_LOCAL_PORT: free_port,
        CONF_CLOUD_IP: "127.0.0.1",
        CONF_CLOUD_PORT: 5678,
        CONF_UPSTREAM_PORT: 5678,
    }


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """The entry's options; a test changes them by parametrizing this."""
    return {}


@pytest.fixture
def mock_config_entry(
    entry_data: dict[str, object], entry_options: dict[str, Any]
) -> MockConfigEntry:
    """The config entry under test."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"G90 Cloud (port {entry_data[CONF_LOCAL_PORT]})",
        data=entry_data,
        options=entry_options,
        entry_id="01JG90CLOUDTESTENTRY000000",
        minor_version=2,
    )


NO_LAN_PANEL = 9
"""UDP "discard": nothing answers there. Tests that serve a panel's LAN port patch their own."""


@pytest.fixture(autouse=True)
def lan_commands() -> Iterator[None]:
    """Commands over the LAN wait milliseconds, not seconds, and reach no panel by default.

    (Panels connect from 127.0.0.1, which is never taken for a LAN address: a
    test that wants the LAN gives the address in the options.)
    """
    with (
        patch("custom_components.g90_cloud.control.LAN_PORT", NO_LAN_PANEL),
        patch("custom_components.g90_cloud.control.LAN_WAITS", (0.05, 0.05)),
    ):
        yield


@pytest.fixture
def platforms() -> list[Platform]:
    """The platforms set up; a test narrows them down by parametrizing this."""
    return PLATFORMS


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, platforms: list[Platform]
) -> MockConfigEntry:
    """The integration set up and listening."""
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.g90_cloud.PLATFORMS", platforms):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def port(init_integration: MockConfigEntry) -> int:
    """The port the set-up integration listens on."""
    return int(init_integration.data[CONF_LOCAL_PORT])


@pytest.fixture
async def fake_cloud(socket_enabled: None) -> AsyncIterator[FakeCloud]:
    """A vendor cloud on loopback for chaining, answering as the real one does."""
    cloud = FakeCloud(like_the_vendor)
    await cloud.start()
    yield cloud
    await cloud.close()


@pytest.fixture
async def chained_entry(
    hass: HomeAssistant, entry_data: dict[str, object], fake_cloud: FakeCloud
) -> MockConfigEntry:
    """The integration set up to pass everything through to the (fake) vendor cloud."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"G90 Cloud (port {entry_data[CONF_LOCAL_PORT]})",
        data=entry_data | {CONF_UPSTREAM_HOST: HOST, CONF_UPSTREAM_PORT: fake_cloud.port},
        entry_id="01JG90CLOUDCHAINEDENTRY000",
        minor_version=2,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
