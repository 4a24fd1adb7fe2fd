"""Constants of the G90 Cloud integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from .g90.wire import ANY_IPV4, HEARTBEAT_SECONDS

DOMAIN: Final = "g90_cloud"

CONF_LOCAL_IP: Final = "local_ip"
CONF_LOCAL_PORT: Final = "local_port"
CONF_CLOUD_IP: Final = "cloud_ip"
CONF_CLOUD_PORT: Final = "cloud_port"
CONF_UPSTREAM_HOST: Final = "upstream_host"
CONF_UPSTREAM_PORT: Final = "upstream_port"
CONNECTION_SETTINGS: Final = (
    CONF_LOCAL_IP,
    CONF_LOCAL_PORT,
    CONF_CLOUD_IP,
    CONF_CLOUD_PORT,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
)
"""The entry's data: set when it is added, changed with Reconfigure."""
CONF_ALLOWED_GUIDS: Final = "allowed_guids"
"""Options: the panels that may connect (empty: any)."""
CONF_PANEL_IP: Final = "panel_ip"
"""Optional, in the flows: a panel to point at Home Assistant over its local UDP protocol."""

DEFAULT_LOCAL_IP: Final = ANY_IPV4

EVENT_G90: Final = "g90_cloud_event"
"""Fired on the bus for every event a panel reports."""

HEARTBEAT: Final = timedelta(seconds=HEARTBEAT_SECONDS)
"""Panels say hello about once a minute."""
CONNECTED_WITHIN: Final = 3 * HEARTBEAT
"""A panel counts as connected while heard from within this long."""
ACTIVITY_CLEARS_AFTER: Final = timedelta(seconds=30)
"""Zones that never report "clear" (motion, sensor activity) turn off after this."""
PACKET_TIME_WRITE_INTERVAL: Final = timedelta(minutes=1)
"""Last-packet sensors are written at most this often, so the recorder is not flooded."""
REPEAT_WINDOW: Final = timedelta(seconds=10)
"""The same arming reported again within this long is marked `repeat`."""
RAW_FRAMES_KEPT: Final = 50
"""Frames per panel kept for diagnostics."""
PANEL_WAIT: Final = timedelta(seconds=120)
"""How long the flows wait for a panel to connect after pointing it here."""
