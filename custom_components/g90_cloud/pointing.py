"""Pointing a panel at Home Assistant from the flows, over the panel's local UDP protocol.

The panel is sent its new server address (one datagram, no reply), then we
wait for it to connect: to a temporary listener while the entry does not
exist yet, to the running one from the options flow.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
import logging
from typing import Any

from homeassistant.core import HomeAssistant

from .const import CONF_CLOUD_IP, CONF_CLOUD_PORT, PANEL_WAIT
from .g90.aio.local import point_panel
from .g90.aio.server import Listener, ListenerBindError
from .g90.local import PANEL_LOCAL_PORT
from .hub import G90Hub, listener_config

_LOGGER = logging.getLogger(__name__)


class Outcome(StrEnum):
    """How pointing a panel ended; the flows' next step."""

    CONNECTED = "panel_connected"
    TIMEOUT = "panel_timeout"
    UNREACHABLE = "panel_unreachable"


async def point_and_wait(
    hass: HomeAssistant,
    settings: dict[str, Any],
    panel_ip: str,
    hub: G90Hub | None,
    *,
    panel_port: int = PANEL_LOCAL_PORT,
) -> tuple[Outcome, str | None]:
    """Send the panel our address; wait for a panel to say hello. (outcome, its GUID)."""
    connected: asyncio.Future[str]
    listener: Listener | None = None
    if hub is not None:
        connected = hub.async_next_connection()
    else:
        connected = hass.loop.create_future()

        def on_panel(status: Any) -> None:
            if status.connected and not connected.done():
                connected.set_result(status.guid)

        listener = Listener(
            listener_config(settings), on_event=lambda _event, _panel: None, on_panel=on_panel
        )
        try:
            await listener.start()
        except ListenerBindError as err:
            _LOGGER.warning("Cannot wait for the panel: %s", err.strerror)
            return Outcome.UNREACHABLE, None
    try:
        await point_panel(
            panel_ip, settings[CONF_CLOUD_IP], int(settings[CONF_CLOUD_PORT]), panel_port=panel_port
        )
        _LOGGER.info(
            "Told the panel at %s to use %s:%s as its cloud; waiting for it",
            panel_ip,
            settings[CONF_CLOUD_IP],
            settings[CONF_CLOUD_PORT],
        )
        async with asyncio.timeout(PANEL_WAIT.total_seconds()):
            guid = await connected
    except TimeoutError:  # before OSError, of which it is a subclass
        return Outcome.TIMEOUT, None
    except OSError as err:
        _LOGGER.warning("Cannot send the panel at %s its new address: %s", panel_ip, err)
        return Outcome.UNREACHABLE, None
    finally:
        connected.cancel()
        if listener is not None:
            await listener.close()
    return Outcome.CONNECTED, guid
