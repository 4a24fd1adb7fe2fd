"""The live demo of scripts/develop: a simulated panel feeding the running Home Assistant.

On a fresh config/ it onboards Home Assistant (login: dev / g90-develop) and
adds the G90 Cloud entry through the config flow, listening on 127.0.0.1 at
G90_DEVELOP_PORT (15678); then a simulated panel lives a household's days, one
after the other (`household(day)` in the g90 package's scenarios: something
every few seconds, quiet spells, arming, now and then an alarm or a power
cut), saying hello every minute as panels do, and reconnecting whenever the
listener restarts. It has the household's sensors and the demo relays and
alert switches, answers Home Assistant's reads and obeys its commands (one
panel model throughout, so what Home Assistant set survives a reconnection);
with the door-close alert switched off it stops reporting doors closing, as
a real panel does. `--speed N` plays the days N times faster.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from custom_components.g90_cloud.g90 import HEARTBEAT_SECONDS
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.commands import AlertFlags
from custom_components.g90_cloud.g90.events import AlertSource
from custom_components.g90_cloud.g90.panel_model import PanelModel
from custom_components.g90_cloud.g90.scenarios import (
    HOUSEHOLD_SENSORS,
    Activity,
    Pause,
    Step,
    household,
)
from scripts.ha_rest import DEV_PASSWORD, DEV_USERNAME, HomeAssistantRest

HA_URL = "http://127.0.0.1:8123"
PORT = int(os.environ.get("G90_DEVELOP_PORT", "15678"))
SETTINGS = {
    "local_ip": "127.0.0.1",
    "local_port": PORT,
    "cloud_ip": "127.0.0.1",
    "cloud_port": PORT,
    "upstream_port": 5678,
}
RECONNECT_AFTER = 5.0


def say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def reported(step: Step, model: PanelModel) -> bool:
    """Whether the panel sends this step, given its alert switches (door closings need theirs)."""
    closing = isinstance(step, Activity) and step.source == AlertSource.SENSOR and step.state == 0
    return not closing or bool(model.alert_flags & AlertFlags.DOOR_CLOSE)


class Household:
    """One simulated panel living day after day, across reconnections."""

    def __init__(self, speed: float) -> None:
        self.model = PanelModel(sensors=HOUSEHOLD_SENSORS)
        self.speed = speed
        self.day = 0
        self._steps: list[Step] = []

    async def live(self, host: str, port: int) -> None:
        """Connect, and play the days until the connection ends (OSError, TimeoutError)."""
        panel = SimulatedPanel(host, port, model=self.model, speed=self.speed)
        async with panel:
            await panel.hello()
            await panel.discovery()
            await panel.ping()
            problems = 0
            greeted = time.monotonic()
            while True:
                if not self._steps:  # a new day (a reconnection carries on with the day)
                    self._steps = household(self.day)
                    frames = sum(not isinstance(step, Pause) for step in self._steps)
                    pauses = sum(step.seconds for step in self._steps if isinstance(step, Pause))
                    say(f"day {self.day}: {frames} frames in {pauses / self.speed / 60:.0f} min")
                    self.day += 1
                step = self._steps.pop(0)
                if isinstance(step, Pause):
                    greeted = await self._pause(panel, step.seconds / self.speed, greeted)
                elif reported(step, self.model):
                    await panel.play([step])  # the frame, then a ping: it arrived
                if len(panel.result.problems) > problems:
                    say(f"the listener answered wrongly: {panel.result.problems[problems:]}")
                    problems = len(panel.result.problems)

    @staticmethod
    async def _pause(panel: SimulatedPanel, seconds: float, greeted: float) -> float:
        """Wait, saying hello once a minute as panels do; when it last said hello."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            hello_in = greeted + HEARTBEAT_SECONDS - time.monotonic()
            if hello_in <= 0:
                await panel.hello()
                greeted = time.monotonic()
                continue
            await asyncio.sleep(min(left, hello_in))
        return greeted


async def main(speed: float) -> int:
    rest = HomeAssistantRest(HA_URL)
    try:
        await rest.wait_ready()
        await rest.onboard_or_login()
        await rest.keep_http_settings()
        await rest.ensure_entry("g90_cloud", SETTINGS)
    finally:
        await rest.close()
    say(f"Home Assistant ready at {HA_URL} (login {DEV_USERNAME} / {DEV_PASSWORD})")
    say(f"simulated panel living a household's days against 127.0.0.1:{PORT}")
    home = Household(speed)
    while True:
        try:
            await home.live("127.0.0.1", PORT)
        except (OSError, TimeoutError) as err:
            say(f"panel connection ended ({err or type(err).__name__}); reconnecting in 5 s")
        await asyncio.sleep(RECONNECT_AFTER)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speed", type=float, default=1.0, help="play the days N times faster")
    args = parser.parse_args()
    try:
        sys.exit(asyncio.run(main(args.speed)))
    except KeyboardInterrupt:
        sys.exit(0)
