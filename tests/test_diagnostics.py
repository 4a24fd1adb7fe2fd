"""Diagnostics download, after a panel talked through the listener to a (fake) vendor cloud."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
import json
import re

from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.g90_cloud.const import (
    CONF_ALLOWED_GUIDS,
    CONF_CLOUD_IP,
    CONF_CLOUD_PORT,
    CONF_LOCAL_IP,
    CONF_LOCAL_PORT,
    CONF_PANEL_LAN_ADDRESS,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
    RAW_FRAMES_KEPT,
)
from custom_components.g90_cloud.g90.aio.simulator import simulate
from custom_components.g90_cloud.g90.panel_model import DEFAULT_ALERTS, Quirk
from custom_components.g90_cloud.g90.scenarios import SCENARIOS

from .common import (
    GUID,
    GUID_HEX,
    HOST,
    LISTEN_ONLY,
    FakeCloud,
    activity,
    connected_panel,
    send,
    wait_for,
)
from .g90.frames import PING

VARIES = props(
    # Free ports picked for the test.
    CONF_LOCAL_PORT,
    CONF_UPSTREAM_PORT,
    "port",
    # Times of the run, and the frames that carry them.
    "last_device_packet",
    "last_upstream_packet",
    "time",
    "hex",
    # Round trips of commands.
    "seconds",
    # The panel's clock against ours (the demo's frames carry the time they are sent),
    # and the panel time of its last event.
    "clock_offset",
    "watermark",
    # How many frames the vendor cloud sent, and how many we answered ourselves,
    # follow the relay's handling of the first hello (its link may come up after
    # it); the relay's own tests pin that down.
    "replies",
    "upstream_frames",
)
"""What changes from one run to the next: left out of the snapshots (checked apart)."""

HEX = re.compile(r"^([0-9a-f]{2}|\*\*REDACTED\*\*)( ([0-9a-f]{2}|\*\*REDACTED\*\*))*$")


async def full_download(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> str:
    """The whole diagnostics file, as the user downloads it."""
    assert await async_setup_component(hass, "diagnostics", {})
    client = await hass_client()
    response = await client.get(f"/api/diagnostics/config_entry/{entry.entry_id}")
    assert response.status == HTTPStatus.OK
    return await response.text()


async def test_diagnostics_after_demo_through_the_cloud(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    chained_entry: MockConfigEntry,
    fake_cloud: FakeCloud,
    snapshot: SnapshotAssertion,
) -> None:
    port = chained_entry.data[CONF_LOCAL_PORT]
    result = await simulate(HOST, port, SCENARIOS["demo"], speed=1000, repeat=3)
    assert result.problems == []
    hub = chained_entry.runtime_data
    await wait_for(hass, lambda: not hub.listener.connections)
    assert fake_cloud.received  # chaining was live

    data = await get_diagnostics_for_config_entry(hass, hass_client, chained_entry)
    assert data == snapshot(exclude=VARIES)

    assert data["settings"] == {
        CONF_LOCAL_IP: REDACTED,
        CONF_LOCAL_PORT: port,
        CONF_CLOUD_IP: REDACTED,
        CONF_CLOUD_PORT: 5678,
        CONF_UPSTREAM_HOST: REDACTED,
        CONF_UPSTREAM_PORT: fake_cloud.port,
    }
    assert data["listener"] == {
        "port": port,
        "open_connections": 0,
        "refused_connections": 0,
        "unidentified_connections": {
            "frames": 0,
            "replies": 0,
            "events": 0,
            "unknown": 0,
            "errors": 0,
            "upstream_frames": 0,
            "upstream_reconnects": 0,
        },
        "unattributed_events": 0,
    }
    (panel,) = data["panels"]
    assert panel["guid"] == REDACTED
    assert panel["peer"] == REDACTED
    assert panel["firmware"] == "207"
    assert panel["connected"] is False
    assert panel["upstream_connected"] is False
    assert panel["alarm_state"] == "disarmed"
    assert panel["ac_power"] is True
    assert datetime.fromisoformat(panel["last_device_packet"])
    assert datetime.fromisoformat(panel["last_upstream_packet"])
    # The demo's frames carry the time they are sent: the panel's clock is right.
    assert abs(panel["catch_up"]["clock_offset"]) <= 2
    assert datetime.fromisoformat(panel["catch_up"]["watermark"])
    counters = panel["counters"]
    assert counters["events"] == 3 * 18
    assert counters["frames"] > RAW_FRAMES_KEPT
    assert counters["upstream_frames"] > 0
    assert counters["errors"] == 0
    assert counters["unknown"] == 0
    # The demo's zones, and the wired one only the panel's sensor list tells of.
    assert sorted(zone["index"] for zone in panel["zones"]) == [1, 2, 10, 11, 12]
    front_door = next(zone for zone in panel["zones"] if zone["index"] == 1)
    assert front_door == {
        "index": 1,
        "name": "Front door",
        "kind": "door",
        "on": False,
        "latched": False,
        "tamper": False,
        "low_battery": False,
        "open": False,
        "listed": True,
        "enabled": True,
    }
    # The panel was read down its own connection, the vendor cloud none the wiser.
    assert [(c["command"], c["channel"], c["outcome"]) for c in panel["commands"]] == [
        (code, "connection", "ok") for code in (100, 206, 102, 138, 117)
    ]

    frames = panel["frames"]
    assert len(frames) == RAW_FRAMES_KEPT
    for frame in frames:
        assert set(frame) == {"time", "direction", "message", "hex"}
        assert frame["direction"] in {"from panel", "from cloud"}
        assert datetime.fromisoformat(frame["time"]).tzinfo is not None
        assert HEX.match(frame["hex"]), frame["hex"]
    assert {frame["direction"] for frame in frames} == {"from panel", "from cloud"}
    hellos = [frame for frame in frames if frame["message"] == "hello"]
    assert hellos
    assert all(REDACTED in frame["hex"] for frame in hellos)
    times = [frame["time"] for frame in frames]
    assert times == sorted(times)  # the most recent, in order

    text = await full_download(hass, hass_client, chained_entry)
    for secret in (GUID, GUID_HEX, "47 41 30 30", GUID.lower()):
        assert secret not in text, secret
    assert HOST not in json.dumps(data)


@pytest.mark.parametrize("entry_options", [LISTEN_ONLY])  # frames of reports alone
async def test_diagnostics_without_chaining(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    port: int,
) -> None:
    async with (
        connected_panel(hass, port) as panel,
        connected_panel(hass, port, guid="GB00000B0000000") as other,
    ):
        await send(hass, panel)
        await other.ping()
        await other.ping()
        await send(hass, other)  # hello and three pings
        data = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    status, other_status = data["panels"]
    assert other_status["counters"]["frames"] == 4  # each panel counts its own
    assert status["connected"] is True
    assert status["upstream_connected"] is None
    assert status["last_upstream_packet"] is None
    assert data["listener"]["open_connections"] == 2
    # Frames of the open connection count too.
    assert status["counters"]["frames"] == 2  # hello and ping
    assert status["counters"]["replies"] == 2
    assert [frame["message"] for frame in status["frames"]] == ["hello", "ping"]
    assert {frame["direction"] for frame in status["frames"]} == {"from panel"}
    assert CONF_UPSTREAM_HOST not in data["settings"]
    text = json.dumps(data)
    assert GUID not in text
    assert GUID_HEX not in text


async def test_diagnostics_keep_the_last_frames_of_a_burst(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    port: int,
) -> None:
    """Sixty frames in one write reach Home Assistant in one read or a few: the
    latest RAW_FRAMES_KEPT are kept, in order, whatever the reads held."""
    burst = [activity(1 + index % 4, f"Zone {index}") for index in range(60)]
    async with connected_panel(hass, port) as panel:
        await panel.send("burst", b"".join(burst))
        await send(hass, panel)
        data = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    (status,) = data["panels"]
    kept = [frame["hex"] for frame in status["frames"]]
    assert len(kept) == RAW_FRAMES_KEPT
    # Home Assistant may have read something from the panel since (its answers come last).
    through_ping = len(kept) - kept[::-1].index(PING.hex(" "))
    assert through_ping >= RAW_FRAMES_KEPT - 5
    assert kept[:through_ping] == [f.hex(" ") for f in [*burst, PING][-through_ping:]]
    assert status["counters"]["events"] == 60


async def test_diagnostics_hide_the_allow_list(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry_data: dict[str, object]
) -> None:
    entry = MockConfigEntry(
        domain="g90_cloud", data=entry_data, options={CONF_ALLOWED_GUIDS: [GUID]}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    async with connected_panel(hass, int(entry_data[CONF_LOCAL_PORT])) as panel:
        await send(hass, panel)
    text = await full_download(hass, hass_client, entry)
    data = json.loads(text)["data"]
    assert data["options"][CONF_ALLOWED_GUIDS] == REDACTED
    assert GUID not in text
    assert GUID_HEX not in text


@pytest.mark.parametrize("entry_options", [{CONF_PANEL_LAN_ADDRESS: HOST}])
async def test_diagnostics_show_the_commands(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last commands per panel, over both channels, and what the panel told of itself."""
    monkeypatch.setattr("custom_components.g90_cloud.control.CONNECTION_SHARE", 0.2)
    async with connected_panel(hass, port) as panel:
        lan_port = await panel.serve_local(HOST)
        monkeypatch.setattr("custom_components.g90_cloud.control.LAN_PORT", lan_port)
        panel.model.quirks.append(Quirk(silent=True))  # the settings (106): not down the connection
        data = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    (status,) = data["panels"]
    commands = [
        (command["command"], command["channel"], command["outcome"])
        for command in status["commands"]
    ]
    assert commands == [
        (100, "connection", "ok"),
        (206, "connection", "ok"),
        (102, "connection", "ok"),
        (138, "connection", "ok"),
        (117, "connection", "ok"),
        (106, "connection", "CommandTimeout"),
        (106, "lan", "ok"),
    ]
    for command in status["commands"]:
        assert set(command) == {"time", "command", "channel", "seconds", "outcome", "reply"}
        assert command["seconds"] >= 0
    replies = [command["reply"] for command in status["commands"]]
    assert replies[1].startswith(f'[206,["{REDACTED}","TSV018-C3SIA"')
    assert replies[2] == "5 records"
    assert replies[-1] == "[106,[900,0,0,1,2,2,60,2,0,180,2]]"
    assert status["host_status"] == {
        "state": 3,
        "phone": "",  # redacted when there is one
        "product_name": "TSV018-C3SIA",
        "mcu_version": "206",
        "wifi_version": "206",
    }
    assert status["host_info"]["guid"] == REDACTED
    assert status["host_info"]["battery_voltage"] == "4242"
    assert status["host_config"]["siren_duration"] == 900
    assert status["host_config"]["ring_volume"] == 2
    assert status["alert_flags"] == int(DEFAULT_ALERTS)
    assert status["lan_address"] is None  # a panel on loopback: only the options give one
    assert data["options"][CONF_PANEL_LAN_ADDRESS] == REDACTED
    text = json.dumps(data)
    for secret in (GUID, GUID_HEX, HOST):
        assert secret not in text, secret
