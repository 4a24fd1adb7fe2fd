"""Photograph the real UI for the user guide; run by scripts/screenshots.

Against a freshly started Home Assistant: onboards it and adds the G90 Cloud
entry over REST, plays the simulator's demo scenario twice, then keeps a
simulated panel connected and armed away while Debian's chromium, driven by
playwright, takes the pictures (logged in with tokens from the REST login put
where the frontend keeps its own). Every picture waits for the content it must
show; a picture that never gets there fails the run, and what the browser
showed then is saved next to the others as NAME.failed.png.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import json
from pathlib import Path
import re
import shutil
import sys
import time
from typing import Any

import aiohttp
from playwright.async_api import Page, async_playwright

from custom_components.g90_cloud.g90.aio.simulator import simulate
from custom_components.g90_cloud.g90.scenarios import SCENARIOS, Notify, PanelState, Pause
from scripts.ha_rest import HomeAssistantRest

PANEL_NAME = "G90 panel GA00000A0000000"
PANEL = "g90_panel_ga00000a0000000"
ALARM = f"alarm_control_panel.{PANEL}"
ZONE = "Front door"  # the zone whose device page is pictured
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
# After the demo: armed away, then silence, so the panel stays connected
# (and the alarm panel shows a state other than the demo's last) until cancelled.
STAY_CONNECTED = [
    PanelState("panel armed away", "armed_away"),
    Notify("notification: armed away", [170, [1, [1]]]),
    Pause(3600),
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
    """The panel's and its zones' devices and entities, as the registries list them.

    Read rather than assumed, so renamed entities still land on the dashboard.
    """

    def __init__(self, panel: str, zones: dict[str, str], rows: list[tuple[str, str, str]]) -> None:
        self.panel = panel  # device id
        self.zones = zones  # device name -> device id
        self.rows = rows  # (device id, entity id, name to show)

    @classmethod
    async def read(cls, ws: Websocket, rest: HomeAssistantRest) -> Inventory:
        panel = await rest.render(f"{{{{ device_id('{ALARM}') }}}}")
        devices = await ws.call("config/device_registry/list")
        entities = await ws.call("config/entity_registry/list")
        states = {state["entity_id"]: state for state in await rest.get("/api/states")}
        zones = {
            device["name_by_user"] or device["name"]: device["id"]
            for device in devices
            if device["via_device_id"] == panel
        }
        names = {device_id: name for name, device_id in zones.items()}
        rows = []
        for entity in entities:
            state = states.get(entity["entity_id"])
            if state is None or state["state"] in ("unknown", "unavailable"):
                continue
            if entity["device_id"] in names and entity["entity_category"] is None:
                rows.append((entity["device_id"], entity["entity_id"], names[entity["device_id"]]))
            elif entity["device_id"] == panel and entity["entity_id"] != ALARM:
                shown = state["attributes"].get("friendly_name", "")
                name = shown.removeprefix(PANEL_NAME).strip() or shown
                rows.append((panel, entity["entity_id"], name))
        return cls(panel, zones, rows)

    def entities(self, *, of_panel: bool) -> list[dict[str, str]]:
        """Rows for an entities card: the panel's own, or its zones' (by zone name)."""
        chosen = [row for row in self.rows if (row[0] == self.panel) == of_panel]
        if not of_panel:
            chosen.sort(key=lambda row: row[2])
        return [{"entity": entity, "name": name} for _, entity, name in chosen]


async def make_dashboard(ws: Websocket, found: Inventory) -> None:
    """A small dashboard: the alarm panel card, the zones, the panel's sensors, its activity."""
    cards = [
        {"type": "alarm-panel", "entity": ALARM, "name": "Alarm"},
        {"type": "entities", "title": "Zones", "entities": found.entities(of_panel=False)},
        {"type": "entities", "title": "Panel", "entities": found.entities(of_panel=True)},
        {"type": "logbook", "target": {"device_id": [found.panel]}, "hours_to_show": 24},
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
    view = {"title": "Alarm", "path": "alarm", "cards": cards}
    await ws.call("lovelace/config/save", url_path=DASHBOARD, config={"views": [view]})


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
    await page.get_by_text("Remote control: SOS", exact=True).click()


async def take(
    page: Page,
    url: str,
    path: str,
    *,
    out: Path,
    name: str,
    ready: Callable[[Page], Awaitable[None]],
) -> None:
    """Open `path`, wait until `ready` passes, save NAME.png in `out`."""
    say(f"{name}.png: {path}")
    try:
        await page.goto(f"{url}{path}")
        await ready(page)
        if await page.locator("ha-authorize").count():
            raise RuntimeError("the browser shows the login page")
        await settle(page)
    except Exception:
        with contextlib.suppress(Exception):  # the error matters more than the picture
            await page.screenshot(path=out / f"{name}.failed.png")
        raise
    await page.screenshot(path=out / f"{name}.png", animations="disabled", caret="hide")


async def photograph(
    url: str,
    tokens: dict[str, Any],
    *,
    out: Path,
    chromium: str,
    scale: float,
    found: Inventory,
    ws: Websocket,
) -> list[str]:
    """Log the browser in and take every picture."""
    stored = {**tokens, "hassUrl": url, "clientId": f"{url}/"}
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

    async def automation_ready(page: Page) -> None:
        await build_sos_trigger(page)
        await visible(page, "Remote control: SOS")
        await page.mouse.move(WIDTH - 1, HEIGHT - 1)  # no hover highlight

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
            shots = [
                ("panel-device", f"/config/devices/device/{found.panel}", panel_ready),
                ("zone-device", f"/config/devices/device/{found.zones[ZONE]}", zone_ready),
                ("alarm-panel-card", f"/{DASHBOARD}/alarm", dashboard_ready),
                ("automation-trigger", "/config/automation/edit/new", automation_ready),
            ]
            for name, path, ready in shots:
                await quiet_the_frontend(ws)  # repairs raised late, too
                await take(page, url, path, out=out, name=name, ready=ready)
            return [name for name, _, _ in shots]
        finally:
            await browser.close()


async def main(url: str, port: int, out: Path, chromium: str, scale: float) -> int:
    rest = HomeAssistantRest(url)
    panel: asyncio.Task[Any] | None = None
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
        await rest.ensure_entry("g90_cloud", settings)
        say("simulated panel: the demo scenario, twice")
        result = await simulate("127.0.0.1", port, SCENARIOS["demo"], repeat=2, speed=5)
        if result.problems:
            raise RuntimeError(f"simulator: {result.problems}")
        panel = asyncio.create_task(simulate("127.0.0.1", port, STAY_CONNECTED))
        await wait_for_state(rest, {ALARM: "armed_away", f"binary_sensor.{PANEL}_connected": "on"})
        await wait_running(rest)
        assert rest.token is not None
        async with Websocket.connect(url, rest.token) as ws:
            found = await Inventory.read(ws, rest)
            await make_dashboard(ws, found)
            await quiet_the_frontend(ws)
            taken = await photograph(
                url, rest.tokens, out=out, chromium=chromium, scale=scale, found=found, ws=ws
            )
    finally:
        if panel is not None:
            panel.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await panel
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
