"""The end-to-end check scripts/e2e runs against a real, freshly started Home Assistant.

Onboards it, creates the G90 Cloud entry through the REST config flow, plays
the demo scenario with the simulated panel, and checks over the REST API and
the websocket that the panel device, alarm panel state, zone states and fired
events are right; then arms, switches a relay and disarms through the
actions; and that neither HTTP nor the integration raised a repair issue.
Prints the version of the Home Assistant it talks to ("Home Assistant X"), one
line per check and a closing "N passed, N failed".
"""

from __future__ import annotations

import asyncio
from importlib import metadata
import json
import sys
from typing import Any

import aiohttp

from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel, simulate
from custom_components.g90_cloud.g90.scenarios import SCENARIOS
from scripts.ha_rest import HomeAssistantRest

GUID = "GA00000A0000000"
PANEL = "g90_panel_ga00000a0000000"


class Checks:
    """Named checks, printed as they run."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def expect(self, name: str, actual: Any, expected: Any) -> None:
        if actual == expected:
            self.passed += 1
            print(f"ok      {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAILED  {name}: got {actual!r}, expected {expected!r}", flush=True)


async def collect_events(
    url: str, token: str, into: list[dict[str, Any]], ready: asyncio.Event
) -> None:
    """Subscribe to g90_cloud_event over the websocket and keep what arrives."""
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{url}/api/websocket") as ws:
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        await ws.receive_json()  # auth_ok
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "g90_cloud_event"})
        await ws.receive_json()  # result
        ready.set()
        async for message in ws:
            data = json.loads(message.data)
            if data.get("type") == "event":
                into.append(data["event"]["data"])


async def check_version(rest: HomeAssistantRest, checks: Checks) -> None:
    """Print the running Home Assistant's version; it must be the venv's own."""
    version = (await rest.get("/api/config"))["version"]
    print(f"Home Assistant {version}", flush=True)
    # This check runs in the same venv as Home Assistant (scripts/e2e --ha).
    checks.expect("Home Assistant is the venv's", version, metadata.version("homeassistant"))


async def create_entry(rest: HomeAssistantRest, checks: Checks, port: int) -> None:
    """The G90 Cloud entry, made through the REST config flow; it must load."""
    settings = {
        "local_ip": "127.0.0.1",
        "local_port": port,
        "cloud_ip": "127.0.0.1",
        "cloud_port": port,
        "upstream_port": 5678,
    }
    entry_id = await rest.ensure_entry("g90_cloud", settings)
    entries = await rest.get("/api/config/config_entries/entry")
    state = next(entry["state"] for entry in entries if entry["entry_id"] == entry_id)
    checks.expect("config entry created through the REST flow is loaded", state, "loaded")


async def check_offline(rest: HomeAssistantRest, checks: Checks) -> None:
    """Onboarding set up nothing that reaches beyond 127.0.0.1 (weather, radio, TTS)."""
    entries = await rest.get("/api/config/config_entries/entry")
    online = {"met", "radio_browser", "google_translate", "shopping_list"}
    checks.expect(
        "no integration that reaches the internet",
        sorted({entry["domain"] for entry in entries} & online),
        [],
    )


async def check_repairs(rest: HomeAssistantRest, checks: Checks) -> None:
    """No repair issue about HTTP or the integration (e.g. http.deprecated_yaml)."""
    issues = (await rest.ws_call("repairs/list_issues"))["issues"]
    raised = [
        f"{issue['domain']}.{issue['issue_id']}"
        for issue in issues
        if issue["domain"] in {"http", "g90_cloud"}
    ]
    checks.expect("no repair issue from http or g90_cloud", raised, [])


async def control(rest: HomeAssistantRest, port: int, checks: Checks) -> None:
    """Home Assistant arms the panel, switches a relay, and disarms, through its actions."""
    panel = SimulatedPanel("127.0.0.1", port, guid=GUID)
    async with panel:
        await panel.hello()
        # A panel Home Assistant knows (from the scenario): its history is read first, then
        # its picture.
        for _ in range(300):  # a slow machine: up to 30 s
            if {100, 206, 102, 138, 117, 200} <= {r.code for r in panel.model.requests}:
                break
            await asyncio.sleep(0.1)
        # Its history and its picture (the order is the unit tests' business: a refresh
        # left over from the scenario's own connection may interleave its last reads).
        checks.expect(
            "the panel is read when it connects",
            sorted({request.code for request in panel.model.requests}),
            [100, 102, 117, 138, 200, 206],
        )
        alarm = f"alarm_control_panel.{PANEL}"
        await rest.call_service("alarm_control_panel", "alarm_arm_away", entity_id=alarm)
        state = (await rest.get(f"/api/states/{alarm}"))["state"]
        checks.expect("armed away from Home Assistant", state, "armed_away")
        await rest.call_service("switch", "turn_on", entity_id="switch.socket")
        checks.expect("relay switched on", panel.model.relay_states, {(10, 0): True})
        await rest.call_service("alarm_control_panel", "alarm_disarm", entity_id=alarm)
        state = (await rest.get(f"/api/states/{alarm}"))["state"]
        checks.expect("disarmed from Home Assistant", state, "disarmed")
        sent = [request.params for request in panel.model.requests if request.code == 101]
        checks.expect("the panel was sent 101 [1] then [3]", sent, [(1,), (3,)])


async def main(url: str, port: int) -> int:
    checks = Checks()
    rest = HomeAssistantRest(url)
    try:
        await rest.wait_ready()
        await rest.onboard_or_login()
        await check_version(rest, checks)
        await create_entry(rest, checks, port)

        assert rest.token is not None
        events: list[dict[str, Any]] = []
        ready = asyncio.Event()
        listener = asyncio.create_task(collect_events(url, rest.token, events, ready))
        await asyncio.wait_for(ready.wait(), 10)
        result = await simulate("127.0.0.1", port, SCENARIOS["demo"], speed=20)
        checks.expect("simulator: every reply byte-exact", result.problems, [])
        await asyncio.sleep(1)  # let the last bus events reach the websocket
        listener.cancel()

        alarm = await rest.get(f"/api/states/alarm_control_panel.{PANEL}")
        checks.expect("alarm panel state after the scenario", alarm["state"], "disarmed")
        door = await rest.get("/api/states/binary_sensor.front_door")
        checks.expect("front door zone closed at the end", door["state"], "off")
        checks.expect("front door device class", door["attributes"].get("device_class"), "door")
        motion = await rest.get("/api/states/binary_sensor.hall_motion")
        motion_class = motion["attributes"].get("device_class")
        checks.expect("hall motion device class", motion_class, "motion")
        power = await rest.get(f"/api/states/binary_sensor.{PANEL}_ac_power")
        checks.expect("AC power restored", power["state"], "on")
        keyfob = await rest.get("/api/states/event.keyfob_buttons")
        checks.expect("keyfob's last button", keyfob["attributes"].get("event_type"), "sos")
        keypad = await rest.get("/api/states/event.keypad_actions")
        checks.expect("keypad's last action", keypad["attributes"].get("event_type"), "disarm")
        panel_device = f"device_id('alarm_control_panel.{PANEL}')"
        firmware = await rest.render(f"{{{{ device_attr({panel_device}, 'sw_version') }}}}")
        checks.expect("panel device firmware", firmware, "207")
        zones = await rest.render(
            "{{ device_entities(device_id('binary_sensor.front_door')) | length > 0 }}"
        )
        checks.expect("zone device has entities", zones, "True")

        types = [event["type"] for event in events]
        expected = [
            "door_open", "door_close", "motion", "remote_button", "armed_away", "armed_away",
            "door_open", "alarm", "alarm_triggered", "remote_button", "sos", "rfid", "rfid",
            "disarmed", "disarmed", "ac_power_failure", "ac_power_restored", "door_close",
        ]  # fmt: skip
        checks.expect("g90_cloud_event types, in order", types, expected)
        checks.expect(
            "every event names the panel",
            {event.get("guid") for event in events},
            {GUID},
        )
        sos = [e for e in events if e["type"] == "remote_button" and e.get("button") == "sos"]
        names = [event.get("zone_name") for event in sos]
        checks.expect("remote SOS carries its zone name", names, ["Keyfob"])
        await control(rest, port, checks)
        await check_repairs(rest, checks)
        await check_offline(rest, checks)
    finally:
        await rest.close()
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
