"""Sending the panel's local UDP commands."""

from __future__ import annotations

import asyncio

from ..local import PANEL_LOCAL_PORT, server_address_command


async def point_panel(
    panel_ip: str, ip: str, port: int, *, panel_port: int = PANEL_LOCAL_PORT
) -> bytes:
    """Tell the panel at `panel_ip` to use `ip:port` as its cloud; returns what was sent.

    UDP, so nothing confirms delivery: the panel connecting is the confirmation.
    Raises ValueError for a bad address and OSError when the datagram cannot be sent.
    """
    datagram = server_address_command(ip, port)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=(panel_ip, panel_port)
    )
    try:
        transport.sendto(datagram)
    finally:
        transport.close()
    return datagram
