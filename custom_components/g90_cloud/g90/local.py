"""The panel's local UDP protocol, as far as we use it: telling a panel where its cloud is.

A panel listens on UDP port 12368 on the LAN. One datagram (no reply comes)
sets its server address: system command 1 (set configuration), item 78
(server address), with the address given twice, then the port.
"""

from __future__ import annotations

import ipaddress
from typing import Final

PANEL_LOCAL_PORT: Final = 12368


def server_address_command(ip: str, port: int) -> bytes:
    """The datagram that points a panel at `ip:port` (an IPv4 address)."""
    address = ipaddress.IPv4Address(ip)  # raises ValueError for anything else
    if not 0 < port < 65536:
        raise ValueError(f"port {port} out of range")
    text = f'ISTART[0,100,"AT^IWT=1,78={address}&{address}&{port},IWT"]IEND'
    return text.encode("ascii") + b"\0"
