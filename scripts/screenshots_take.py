"""Photograph the real UI for the user guide; run by scripts/screenshots.

Against a freshly started Home Assistant: onboards it, adds the G90 Cloud
entry over REST and sets a code in its options (so the alarm panel card shows
its keypad), connects a simulated panel that plays the simulator's demo
scenario twice and then stays connected (saying hello each minute) and armed
away, while Debian's chromium, driven by playwright, takes the pictures
(logged in with tokens from the REST login put where the frontend keeps its
own). Between pictures Home Assistant controls the panel as a user would: a
relay switched on, the panel disarmed with the code. Every picture waits for
the content it must show; a picture that never gets there fails the run, and
what the browser showed then is saved next to the others as NAME.failed.png.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import json
from pathlib import Path
import re
import shutil
import sys
import time
from typing import Any

import aiohttp
from playwright.async_api import FloatRect, Page, async_playwright

from custom_components.g90_cloud.g90 import HEARTBEAT_SECONDS
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.scenarios import SCENARIOS, Notify, PanelState
from scripts.ha_rest import HomeAssistantRest

PANEL_NAME = "G90 panel GA00000A0000000"
PANEL = "g90_panel_ga00000a0000000"
ALARM = f"alarm_control_panel.{PANEL}"
ZONE = "Front door"  # the zone whose device page is pictured
RELAY = "switch.socket"  # the relay switched on before the switches are pictured
CODE = "1234"  # the options' code: the alarm panel card shows a keypad for it
DASHBOARD = "g90-cloud"
WIDTH, HEIGHT = 1280, 800
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 60_000  # for any one thing to appear; generous, machines may be busy
RELOAD_STARTS_WITHIN = 5.0  # seconds after saving options
MARGIN = 8  # CSS pixels kept around the cards a picture is cut to
DEMO_ROUNDS, DEMO_SPEED = 2, 5
# After the demo: armed away (a state other than the demo's last), and the
# panel stays connected until the pictures are taken.
ARM_AWAY = [
    PanelState("panel armed away", "armed_away"),
    Notify("notification: armed away", [170, [1, [1]]]),
]


def say(text: str) -> None:
    print(f"[screenshots] {text}", flush=True)


class Websocket:
    """A logged-in websocket API connection, one command at a time."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._id = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, token: str) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{url}/api/websocket") as ws,
        ):
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": token})
            reply = await ws.receive_json()
            if reply.get("type") != "auth_ok":
                raise RuntimeError(f"websocket login refused: {reply}")
            yield cls(ws)

    async def call(self, kind: str, **fields: Any) -> Any:
        """Send one command, return its result (raises on an error reply)."""
        self._id += 1
        await self._ws.send_json({"id": self._id, "type": kind, **fields})
        while True:
            reply = await self._ws.receive_json()
            if reply.get("id") == self._id and reply.get("type") == "result":
                break
        if not reply["success"]:
            raise RuntimeError(f"{kind}: {reply['error']}")
        return reply.get("result")


async def wait_for_state(rest: HomeAssistantRest, expected: dict[str, str]) -> None:
    """Until every entity of `expected` has its state."""
    async with asyncio.timeout(WAIT_MS / 1000):
        while True:
            states = {s["entity_id"]: s["state"] for s in await rest.get("/api/states")}
            if all(states.get(entity) == state for entity, state in expected.items()):
                return
            await asyncio.sleep(0.2)


async def wait_running(rest: HomeAssistantRest) -> None:
    """Until Home Assistant has started (it raises some repairs only then)."""
    async with asyncio.timeout(WAIT_MS / 1000):
        while True:
            if (await rest.get("/api/config"))["state"] == "RUNNING":
                return
            await asyncio.sleep(0.5)


async def quiet_the_frontend(ws: Websocket) -> None:
    """No pop-ups or badges that are about this throwaway instance, not the integration."""
    # The instance's HTTP settings come from YAML; unconfirmed, the frontend
    # asks to confirm them (and Home Assistant reverts them after 5 minutes).
    with contextlib.suppress(RuntimeError):  # nothing pending: fine
        await ws.call("http/config/promote")
    for issue in (await ws.call("repairs/list_issues"))["issues"]:
        if not issue["ignored"]:
            await ws.call(
                "repairs/ignore_issue",
                domain=issue["domain"],
                issue_id=issue["issue_id"],
                ignore=True,
            )


class Inventory:
    """The panel's, its zones' and its relays' devices and entities, as the registries list them.

    Read rather than assumed, so renamed entities still land on the dashboard.
    """

    def __init__(
        self,
        panel: str,
        zones: dict[str, str],
        rows: list[tuple[str, str, str]],
        relays: list[str],
        alerts: list[dict[str, str]],
    ) -> None:
        self.panel = panel  # device id
        self.zones = zones  # device name -> device id
        self.rows = rows  # (device id, entity id, name to show): the dashboard's zones and panel
        self.relays = relays  # the relays' switches
        self.alerts = alerts  # the panel's alert switches, as entities card rows

    @classmethod
    async def read(cls, ws: Websocket, rest: HomeAssistantRest) -> Inventory:
        panel = await rest.render(f"{{{{ device_id('{ALARM}') }}}}")
        devices = await ws.call("config/device_registry/list")
        entities = await ws.call("config/entity_registry/list")
        states = {state["entity_id"]: state for state in await rest.get("/api/states")}
        linked = [device for device in devices if device["via_device_id"] == panel]
        relay_devices = {
            device["id"]
            for device in linked
            if any("_relay_" in identifier for _, identifier in device["identifiers"])
        }
        zones = {
            device["name_by_user"] or device["name"]: device["id"]
            for device in linked
            if device["id"] not in relay_devices
        }
        names = {device_id: name for name, device_id in zones.items()}
        rows: list[tuple[str, str, str]] = []
        relays: list[str] = []
        alerts: list[dict[str, str]] = []
        for entity in entities:
            entity_id, device = entity["entity_id"], entity["device_id"]
            category, state = entity["entity_category"], states.get(entity_id)
            if device in relay_devices:
                relays.append(entity_id)
            if state is None:
                continue
            shown = state["attributes"].get("friendly_name", "")
            name = shown.removeprefix(PANEL_NAME).strip() or shown  # the panel's: without its name
            if device == panel and category == "config":
                alerts.append({"entity": entity_id, "name": name})
            if state["state"] in ("unknown", "unavailable"):
                continue
            if device in names and category is None:
                rows.append((device, entity_id, names[device]))
            elif device == panel and entity_id != ALARM and category != "config":
                rows.append((panel, entity_id, name))  # diagnostic ones too: Connected...
        return cls(panel, zones, rows, sorted(relays), alerts)

    def entities(self, *, of_panel: bool) -> list[dict[str, str]]:
        """Rows for an entities card: the panel's own, or its zones' (by zone name)."""
        chosen = [row for row in self.rows if (row[0] == self.panel) == of_panel]
        if not of_panel:
            chosen.sort(key=lambda row: row[2])
        return [{"entity": entity, "name": name} for _, entity, name in chosen]


async def make_dashboard(ws: Websocket, found: Inventory) -> None:
    """A small dashboard: the alarm panel, zones, panel, activity; and a view to control it."""
    alarm_card = {"type": "alarm-panel", "entity": ALARM, "name": "Alarm"}
    overview = [
        alarm_card,
        {"type": "entities", "title": "Zones", "entities": found.entities(of_panel=False)},
        {"type": "entities", "title": "Panel", "entities": found.entities(of_panel=True)},
        {"type": "logbook", "target": {"device_id": [found.panel]}, "hours_to_show": 24},
    ]
    control = [
        alarm_card,
        # No header toggles: one click would switch every relay, or every alert.
        {
            "type": "entities",
            "title": "Relays",
            "entities": found.relays,
            "show_header_toggle": False,
        },
        {
            "type": "entities",
            "title": "Alert switches",
            "entities": found.alerts,
            "show_header_toggle": False,
        },
    ]
    dashboards = await ws.call("lovelace/dashboards/list")
    if not any(board["url_path"] == DASHBOARD for board in dashboards):
        await ws.call(
            "lovelace/dashboards/create",
            url_path=DASHBOARD,
            title="Alarm",
            icon="mdi:shield-home",
            mode="storage",
            show_in_sidebar=True,
            require_admin=False,
        )
    views = [
        {"title": "Alarm", "path": "alarm", "cards": overview},
        {"title": "Control", "path": "control", "cards": control},
    ]
    await ws.call("lovelace/config/save", url_path=DASHBOARD, config={"views": views})


async def visible(page: Page, *texts: str | re.Pattern[str]) -> None:
    """Until each text is shown somewhere on the page (shadow DOM included)."""
    for text in texts:
        await page.get_by_text(text, exact=True).first.wait_for(state="visible")


async def settle(page: Page) -> None:
    """Until the network is quiet and no spinner is left, then one more frame or two."""
    await page.wait_for_load_state("networkidle")
    spinners = page.locator("ha-spinner:visible, ha-circular-progress:visible")
    deadline = time.monotonic() + WAIT_MS / 1000
    while await spinners.count() and time.monotonic() < deadline:
        await page.wait_for_timeout(100)
    await page.wait_for_timeout(500)  # fonts and icons, after their requests ended


async def build_sos_trigger(page: Page) -> None:
    """Add trigger > Device > the panel > 'Remote control: SOS', as a user would."""
    await page.get_by_text("Add trigger", exact=True).first.click()
    await page.get_by_placeholder("Search").fill("Device")
    await page.get_by_text("Triggers when something happens to a device").click()
    await page.get_by_text("Select a device").click()
    # Zones show the panel's name as their second line: pick the first line's.
    headline = page.locator('ha-combo-box-item [slot="headline"]')
    await headline.filter(has_text=re.compile(f"^{re.escape(PANEL_NAME)}$")).click()
    await page.get_by_label("Trigger", exact=True).click()
    # A long list (the alarm panel's own triggers too): narrowed down when it can be.
    search = page.get_by_placeholder("Search")
    if await search.count():
        await search.last.fill("SOS")
    await page.get_by_text("Remote control: SOS", exact=True).click()


@dataclass(frozen=True, slots=True)
class Shot:
    """One picture: where, what it must show, what Home Assistant does first, what to keep."""

    name: str
    path: str
    ready: Callable[[Page], Awaitable[None]]
    before: Callable[[], Awaitable[None]] | None = None
    clip: tuple[str, ...] = ()
    """Selectors: the picture is the region around these elements; none: the whole window."""


async def region(page: Page, selectors: tuple[str, ...]) -> FloatRect:
    """The box around the elements `selectors` find, with a margin, inside the page."""
    boxes = []
    for selector in selectors:
        box = await page.locator(selector).first.bounding_box()
        if box is None:
            raise RuntimeError(f"{selector} is not shown")
        boxes.append(box)
    left = max(min(box["x"] for box in boxes) - MARGIN, 0)
    top = max(min(box["y"] for box in boxes) - MARGIN, 0)
    right = min(max(box["x"] + box["width"] for box in boxes) + MARGIN, WIDTH)
    bottom = min(max(box["y"] + box["height"] for box in boxes) + MARGIN, HEIGHT)
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


async def take(page: Page, url: str, shot: Shot, *, out: Path) -> None:
    """Open the shot's path, wait until it is ready, save NAME.png in `out`."""
    say(f"{shot.name}.png: {shot.path}")
    try:
        await page.goto(f"{url}{shot.path}")
        await shot.ready(page)
        if await page.locator("ha-authorize").count():
            raise RuntimeError("the browser shows the login page")
        await settle(page)
        clip = await region(page, shot.clip) if shot.clip else None
    except Exception:
        with contextlib.suppress(Exception):  # the error matters more than the picture
            await page.screenshot(path=out / f"{shot.name}.failed.png")
        raise
    await page.screenshot(
        path=out / f"{shot.name}.png", animations="disabled", caret="hide", clip=clip
    )


async def photograph(
    url: str,
    rest: HomeAssistantRest,
    *,
    out: Path,
    chromium: str,
    scale: float,
    found: Inventory,
    ws: Websocket,
) -> list[str]:
    """Log the browser in and take every picture."""
    stored = {**rest.tokens, "hassUrl": url, "clientId": f"{url}/"}
    # The frontend's own token storage, filled before its first page runs.
    login = f"""
        if (!localStorage.getItem("hassTokens")) {{
            const tokens = {json.dumps(stored)};
            tokens.expires = Date.now() + tokens.expires_in * 1000;
            localStorage.setItem("hassTokens", JSON.stringify(tokens));
        }}
        localStorage.setItem("dockedSidebar", JSON.stringify("docked"));
    """
    today = re.compile(r"\bToday\b")  # the activity (logbook) list has rendered its entries

    async def panel_ready(page: Page) -> None:
        await visible(page, PANEL_NAME, "Device info", "Armed away", "AC power", today)

    async def zone_ready(page: Page) -> None:
        await visible(page, ZONE, "Door/window sensor", "Tamper", today)

    async def dashboard_ready(page: Page) -> None:
        card = page.locator("hui-alarm-panel-card")
        await card.get_by_text("Armed away", exact=True).wait_for()
        await visible(page, "Zones", ZONE, "Connected", today)

    async def relay_on() -> None:
        await rest.call_service("switch", "turn_on", entity_id=RELAY)
        await wait_for_state(rest, {RELAY: "on"})

    async def switches_ready(page: Page) -> None:
        await visible(page, "Relays", "Socket", "Alert switches", "Door close alert")

    async def disarm() -> None:
        await rest.call_service("alarm_control_panel", "alarm_disarm", entity_id=ALARM, code=CODE)
        await wait_for_state(rest, {ALARM: "disarmed"})

    async def arming_ready(page: Page) -> None:
        card = page.locator("hui-alarm-panel-card")
        for text in ("Disarmed", "Arm home", "Arm away"):
            await card.get_by_text(text, exact=True).first.wait_for()
        await card.get_by_text("9", exact=True).first.wait_for()  # the keypad

    async def automation_ready(page: Page) -> None:
        await build_sos_trigger(page)
        await visible(page, "Remote control: SOS")
        await page.mouse.move(WIDTH - 1, HEIGHT - 1)  # no hover highlight

    control = f"/{DASHBOARD}/control"
    shots = [
        Shot("panel-device", f"/config/devices/device/{found.panel}", panel_ready),
        Shot("zone-device", f"/config/devices/device/{found.zones[ZONE]}", zone_ready),
        Shot("alarm-panel-card", f"/{DASHBOARD}/alarm", dashboard_ready),
        Shot(
            "relay-and-alert-switches",
            control,
            switches_ready,
            before=relay_on,
            clip=("hui-entities-card", "hui-entities-card >> nth=1"),
        ),
        Shot("alarm-arming", control, arming_ready, before=disarm, clip=("hui-alarm-panel-card",)),
        Shot("automation-trigger", "/config/automation/edit/new", automation_ready),
    ]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT},
                device_scale_factor=scale,
                locale="en-US",
                timezone_id="UTC",
                color_scheme="light",
            )
            context.set_default_timeout(WAIT_MS)
            await context.add_init_script(login)
            page = await context.new_page()
            for shot in shots:
                if shot.before is not None:
                    await shot.before()
                await quiet_the_frontend(ws)  # repairs raised late, too
                await take(page, url, shot, out=out)
            return [shot.name for shot in shots]
        finally:
            await browser.close()


async def play_demo(panel: SimulatedPanel) -> None:
    """Say hello as a panel does, play the demo scenario, end armed away."""
    await panel.hello()
    await panel.discovery()
    await panel.ping()
    for round_ in range(DEMO_ROUNDS):
        if round_:
            await panel.hello()
        await panel.play(SCENARIOS["demo"])
    await panel.play(ARM_AWAY)
    if panel.result.problems:
        raise RuntimeError(f"simulator: {panel.result.problems}")


async def keep_saying_hello(panel: SimulatedPanel) -> None:
    """Stay connected as a panel does: hello once a minute."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        await panel.hello()


async def set_code(rest: HomeAssistantRest, entry_id: str) -> None:
    """The code in the entry's options; until the entry has reloaded with it."""
    await rest.set_options(entry_id, {"code": CODE})
    # Saving reloads the entry soon after: wait for that, then for it to be loaded.
    reloaded, surely_by = False, time.monotonic() + RELOAD_STARTS_WITHIN
    async with asyncio.timeout(WAIT_MS / 1000):
        while True:
            entries = await rest.get("/api/config/config_entries/entry")
            state = next(entry["state"] for entry in entries if entry["entry_id"] == entry_id)
            reloaded = reloaded or state != "loaded" or time.monotonic() > surely_by
            if reloaded and state == "loaded":
                return
            await asyncio.sleep(0.2)


async def main(url: str, port: int, out: Path, chromium: str, scale: float) -> int:
    rest = HomeAssistantRest(url)
    try:
        await rest.wait_ready()
        await rest.onboard_or_login()
        settings = {
            "local_ip": "127.0.0.1",
            "local_port": port,
            "cloud_ip": "127.0.0.1",
            "cloud_port": port,
            "upstream_port": 5678,
        }
        entry_id = await rest.ensure_entry("g90_cloud", settings)
        await set_code(rest, entry_id)
        say(f"simulated panel: the demo scenario, {DEMO_ROUNDS} times, then armed away")
        async with SimulatedPanel("127.0.0.1", port, speed=DEMO_SPEED) as panel:
            await play_demo(panel)
            heartbeat = asyncio.create_task(keep_saying_hello(panel))
            try:
                await wait_for_state(
                    rest, {ALARM: "armed_away", f"binary_sensor.{PANEL}_connected": "on"}
                )
                await wait_running(rest)
                assert rest.token is not None
                async with Websocket.connect(url, rest.token) as ws:
                    found = await Inventory.read(ws, rest)
                    await make_dashboard(ws, found)
                    await quiet_the_frontend(ws)
                    taken = await photograph(
                        url, rest, out=out, chromium=chromium, scale=scale, found=found, ws=ws
                    )
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await heartbeat
    finally:
        await rest.close()
    say(f"done: {', '.join(f'{name}.png' for name in taken)}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("url", help="Home Assistant's base URL")
    parser.add_argument("port", type=int, help="a free TCP port for the G90 Cloud listener")
    parser.add_argument("out", type=Path, help="where to write the PNG files")
    parser.add_argument("--scale", type=float, default=1, help="device pixels per CSS pixel")
    parser.add_argument(
        "--chromium", default=shutil.which("chromium") or "/usr/bin/chromium", help="the browser"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(args.url, args.port, args.out, args.chromium, args.scale)))
