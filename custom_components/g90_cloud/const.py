"""Constants of the G90 Cloud integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
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
CONF_CODE: Final = "code"
"""Options: the code arming and disarming from Home Assistant ask for (empty: none)."""
CONF_CODE_ARM_REQUIRED: Final = "code_arm_required"
"""Options: arming asks for the code too, not only disarming (when a code is set)."""
CONF_CONTROL_CHANNEL: Final = "control_channel"
"""Options: how commands reach the panels (see ControlChannel)."""
CONF_PANEL_LAN_ADDRESS: Final = "panel_lan_address"
CONF_LIMITS: Final = "limits"
"""Options, in their own section: the listener's limits against a hostile network."""
CONF_MAX_CONNECTIONS: Final = "max_connections"
CONF_MAX_STRANGERS_PER_ADDRESS: Final = "max_strangers_per_address"
CONF_MAX_PANELS_PER_ADDRESS: Final = "max_panels_per_address"
CONF_HELLO_TIMEOUT: Final = "hello_timeout"
"""Options: the panel's LAN address for commands over UDP, when its connection does not tell."""


class ControlChannel(StrEnum):
    """How Home Assistant sends commands to a panel."""

    AUTOMATIC = "automatic"
    """Down the panel's own connection; over its LAN when that fails."""
    CONNECTION = "connection"
    """Down the panel's own connection only."""
    LAN = "lan"
    """Over the panel's LAN (UDP) only."""
    OFF = "off"
    """No commands at all: Home Assistant only listens."""


DEFAULT_LOCAL_IP: Final = ANY_IPV4

EVENT_G90: Final = "g90_cloud_event"
"""Fired on the bus for every event a panel reports."""

HEARTBEAT: Final = timedelta(seconds=HEARTBEAT_SECONDS)
"""Panels say hello about once a minute."""
CONNECTED_WITHIN: Final = 3 * HEARTBEAT
"""A panel counts as connected while heard from within this long."""
ACTIVITY_CLEARS_AFTER: Final = timedelta(seconds=30)
"""Zones that never report "clear" (motion, sensor activity) turn off after this."""
DOOR_CLEARS_AFTER: Final = timedelta(seconds=3)
"""A door closes after this when the panel does not report closings (door-close alerts off)."""
PACKET_TIME_WRITE_INTERVAL: Final = timedelta(minutes=1)
"""Last-packet sensors are written at most this often, so the recorder is not flooded."""
REPEAT_WINDOW: Final = timedelta(seconds=10)
"""The same arming reported again within this long is marked `repeat`."""
RAW_FRAMES_KEPT: Final = 50
"""Frames per panel kept for diagnostics."""
COMMANDS_KEPT: Final = 50
"""Commands per panel kept for diagnostics."""
REFRESH_INTERVAL: Final = timedelta(minutes=10)
"""How often a connected panel's picture (state, info, sensors, relays, alerts) is read again.

Five reads, one at a time, every ten minutes: nothing a panel notices, and
renames or new sensors show within minutes even when the panel does not say.
"""
COMMAND_TIMEOUT: Final = timedelta(seconds=30)
"""How long a panel has to answer a command, over either channel: an arm or disarm, a
relay, an alert switch, each read of the refresh (a whole list for the lists)."""
ARM_REPORT_WAIT: Final = timedelta(seconds=10)
"""After a panel accepted an arm or disarm, how long its own report of the new state may
take before Home Assistant asks it for its state instead."""
PANEL_WAIT: Final = timedelta(seconds=120)
"""How long the flows wait for a panel to connect after pointing it here."""
