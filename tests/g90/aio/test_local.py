"""Pointing a panel at us over its local UDP protocol."""

from __future__ import annotations

import asyncio

from custom_components.g90_cloud.g90.aio.local import point_panel

from .helpers import LOCAL, WAIT


class Catcher(asyncio.DatagramProtocol):
    """Plays the panel's UDP port: keeps what arrives."""

    def __init__(self) -> None:
        self.datagram: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if not self.datagram.done():
            self.datagram.set_result(data)


async def test_point_panel_sends_the_server_address_datagram() -> None:
    loop = asyncio.get_running_loop()
    transport, catcher = await loop.create_datagram_endpoint(Catcher, local_addr=(LOCAL, 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        sent = await point_panel(LOCAL, "192.168.1.10", 5678, panel_port=port)
        received = await asyncio.wait_for(catcher.datagram, WAIT)
    finally:
        transport.close()
    expected = b'ISTART[0,100,"AT^IWT=1,78=192.168.1.10&192.168.1.10&5678,IWT"]IEND\0'
    assert received == sent == expected
