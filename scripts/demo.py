"""The live demo of scripts/develop: a simulated panel feeding the running Home Assistant.

On a fresh config/ it onboards Home Assistant (login: dev / g90-develop) and
adds the G90 Cloud entry through the config flow, listening on 127.0.0.1 at
G90_DEVELOP_PORT (15678); then a simulated panel plays the demo scenario,
again and again, reconnecting whenever the listener restarts.
"""

from __future__ import annotations

import asyncio
import os
import sys

from custom_components.g90_cloud.g90.aio.simulator import simulate
from custom_components.g90_cloud.g90.scenarios import SCENARIOS
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


def say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


async def main() -> int:
    rest = HomeAssistantRest(HA_URL)
    try:
        await rest.wait_ready()
        await rest.onboard_or_login()
        await rest.keep_http_settings()
        await rest.ensure_entry("g90_cloud", SETTINGS)
    finally:
        await rest.close()
    say(f"Home Assistant ready at {HA_URL} (login {DEV_USERNAME} / {DEV_PASSWORD})")
    say(f"simulated panel playing the demo scenario against 127.0.0.1:{PORT}")
    while True:
        try:
            result = await simulate("127.0.0.1", PORT, SCENARIOS["demo"], repeat=0)
            say(f"simulator stopped: {result.problems}")
        except (OSError, TimeoutError) as err:
            say(f"panel connection ended ({err}); reconnecting in 5 s")
        await asyncio.sleep(5)


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(0)
