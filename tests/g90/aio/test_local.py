"""Pointing a panel at us over its local UDP protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import json
import time

import pytest

from custom_components.g90_cloud.g90.aio.local import (
    RETRY_WAITS,
    LocalClient,
    _ReplyCatcher,
    point_panel,
)
from custom_components.g90_cloud.g90.commands import (
    Ack,
    AlertFlags,
    ArmState,
    CommandRefused,
    CommandTimeout,
    DeviceRecord,
    HostStatus,
    InconsistentPage,
    ListChanged,
    MalformedReply,
    WrongReplyCode,
    arm_away,
    arm_home,
    disarm,
    get_alert_flags,
    get_host_config,
    get_host_info,
    get_host_status,
    history_pager,
    raw_command,
    relay_pager,
    sensor_pager,
    set_alert_flags,
    switch_relay,
)
from custom_components.g90_cloud.g90.local import LocalReply, parse_local_reply
from custom_components.g90_cloud.g90.panel_model import (
    DEFAULT_ALERTS,
    DEMO_CONFIG,
    DEMO_INFO,
    DEMO_RELAYS,
    DEMO_SENSORS,
    PanelModel,
    Quirk,
)

from .. import samples
from .helpers import LOCAL, WAIT
from .udp_panel import PLAIN, Trick, UdpPanel

StartPanel = Callable[..., Awaitable[UdpPanel]]


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


# --- the command client, against a fake panel on loopback -------------------------------

FAST = (0.3, 0.3, 0.3)
"""Attempt waits for tests: the default's 7.5 s, 15 s, 30 s, shrunk."""


@pytest.fixture
async def start_panel() -> AsyncIterator[StartPanel]:
    """Start fake UDP panels; all are closed after the test."""
    panels: list[UdpPanel] = []

    async def start(model: PanelModel | None = None) -> UdpPanel:
        panel = await UdpPanel(model).start()
        panels.append(panel)
        return panel

    yield start
    for panel in panels:
        panel.close()


@pytest.fixture
def client() -> LocalClient:
    return LocalClient(waits=FAST, bind_host=LOCAL)


async def test_commands_get_typed_results(client: LocalClient, start_panel: StartPanel) -> None:
    panel = await start_panel(PanelModel(phone="+100"))
    status = await client.run(LOCAL, get_host_status(), port=panel.port)
    assert status == HostStatus(ArmState.DISARMED, "+100", "TSV018-C3SIA", "206", "206")
    assert await client.run(LOCAL, get_host_info(), port=panel.port) == DEMO_INFO
    assert await client.run(LOCAL, get_host_config(), port=panel.port) == DEMO_CONFIG
    assert await client.run(LOCAL, arm_home(), port=panel.port) == Ack(101)
    assert panel.model.state is ArmState.ARMED_HOME
    assert await client.run(LOCAL, switch_relay(10, on=True), port=panel.port) == Ack(137)
    assert panel.model.relay_states == {(10, 0): True}
    flags = await client.run(LOCAL, get_alert_flags(), port=panel.port)
    flags = flags.with_flag(AlertFlags.DOOR_CLOSE, on=False)
    await client.run(LOCAL, set_alert_flags(flags), port=panel.port)
    assert panel.model.alert_flags == flags
    reply = await client.run(LOCAL, raw_command(100), port=panel.port)
    assert isinstance(reply, HostStatus)
    assert len(panel.requests) == 8  # one attempt each


async def test_silence_is_retried_from_a_fresh_socket(start_panel: StartPanel) -> None:
    panel = await start_panel()
    panel.model.quirks.extend([Quirk(silent=True), Quirk(silent=True)])
    client = LocalClient(waits=(0.2, 0.4, 0.8), bind_host=LOCAL)
    assert await client.run(LOCAL, disarm(), port=panel.port) == Ack(101)
    assert panel.requests == [disarm().request] * 3
    assert len(set(panel.sources)) > 1  # a new socket (port) per attempt


async def test_no_reply_at_all_is_a_timeout(client: LocalClient, start_panel: StartPanel) -> None:
    panel = await start_panel()
    panel.model.quirk = Quirk(silent=True)
    with pytest.raises(CommandTimeout) as caught:
        await client.run(LOCAL, get_host_status(), port=panel.port)
    assert caught.value.attempts == 3
    assert caught.value.code == 100
    assert len(panel.requests) == 3


async def test_a_slow_reply_after_its_attempt_is_not_mistaken(start_panel: StartPanel) -> None:
    """The first attempt's late reply reaches a closed socket; the retry's reply counts."""
    panel = await start_panel()
    # the first attempt's reply comes at 0.3 s, while the second attempt waits for its own
    panel.model.quirks.extend([Quirk(delay=0.3, reply_code=117), Quirk(delay=0.6)])
    client = LocalClient(waits=(0.1, WAIT), bind_host=LOCAL)
    status = await client.run(LOCAL, get_host_status(), port=panel.port)
    assert isinstance(status, HostStatus)
    assert len(panel.requests) == 2


async def test_the_first_reply_wins(client: LocalClient, start_panel: StartPanel) -> None:
    panel = await start_panel()
    other = b'ISTART[100,[1,"SECOND","","",""]]IEND\0'
    panel.tricks.append(Trick(twice=other))
    status = await client.run(LOCAL, get_host_status(), port=panel.port)
    assert status.state is ArmState.DISARMED
    assert status.phone == ""
    panel.tricks.append(Trick(twice=samples.LOCAL_EMPTY_REPLY))
    assert await client.run(LOCAL, get_host_status(), port=panel.port) == status
    # the duplicate of the first exchange did not answer the next request
    assert await client.run(LOCAL, get_alert_flags(), port=panel.port) == DEFAULT_ALERTS
    assert len(panel.requests) == 3


async def test_another_commands_code_is_ignored_and_retried(start_panel: StartPanel) -> None:
    panel = await start_panel()
    panel.model.quirks.append(Quirk(reply_code=102))
    client = LocalClient(waits=(WAIT * 2, WAIT * 2), bind_host=LOCAL)
    started = time.monotonic()
    status = await client.run(LOCAL, get_host_status(), port=panel.port)
    assert isinstance(status, HostStatus)
    assert len(panel.requests) == 2
    assert time.monotonic() - started < WAIT  # retried at once, not after the first wait


async def test_only_other_codes_is_a_wrong_code_error(
    client: LocalClient, start_panel: StartPanel
) -> None:
    panel = await start_panel()
    panel.model.quirk = Quirk(reply_code=206)
    with pytest.raises(WrongReplyCode) as caught:
        await client.run(LOCAL, get_host_status(), port=panel.port)
    assert caught.value.reply_code == 206
    assert len(panel.requests) == 3


async def test_a_reply_from_another_port_is_ignored(
    client: LocalClient, start_panel: StartPanel
) -> None:
    panel = await start_panel()
    panel.tricks.append(Trick(other_port=True))
    status = await client.run(LOCAL, get_host_status(), port=panel.port)
    assert isinstance(status, HostStatus)
    assert len(panel.requests) == 2
    panel.trick = Trick(other_port=True)
    with pytest.raises(CommandTimeout):
        await client.run(LOCAL, get_host_status(), port=panel.port)


async def test_the_callers_budget_is_honoured(start_panel: StartPanel) -> None:
    panel = await start_panel()
    panel.model.quirk = Quirk(silent=True)
    client = LocalClient(waits=(0.2,) * 20, bind_host=LOCAL)
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        await client.run(LOCAL, get_host_status(), port=panel.port, timeout=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 0.5 + WAIT
    assert 1 <= caught.value.attempts <= 3
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_the_budget_counts_waiting_for_the_panel(start_panel: StartPanel) -> None:
    """A request queued behind a slow one times out on its own budget."""
    panel = await start_panel()
    panel.model.quirks.append(Quirk(delay=1.0))
    client = LocalClient(waits=(3.0,), bind_host=LOCAL)
    slow = asyncio.create_task(client.run(LOCAL, get_host_status(), port=panel.port))
    await panel.received(1)
    with pytest.raises(CommandTimeout) as caught:
        await client.run(LOCAL, get_host_info(), port=panel.port, timeout=0.2)
    assert caught.value.attempts == 0
    assert isinstance(await slow, HostStatus)
    assert len(panel.requests) == 1


async def test_a_refusal_is_not_retried(client: LocalClient, start_panel: StartPanel) -> None:
    panel = await start_panel()
    panel.model.quirk = Quirk(refuse=True)
    with pytest.raises(CommandRefused):
        await client.run(LOCAL, arm_away(), port=panel.port)
    panel.tricks.append(Trick(raw=b"ISTARTerror 3IEND\0"))
    with pytest.raises(CommandRefused) as caught:
        await client.run(LOCAL, arm_away(), port=panel.port)
    assert caught.value.raw == "error 3"
    assert len(panel.requests) == 2


@pytest.mark.parametrize(
    ("datagram", "reason"),
    [
        (b"garbage", "not an ISTART...IEND datagram"),
        (b"ISTART[100,[3IEND\0", "not JSON"),
        (b"ISTARTIEND\0", "no data"),
        (b'ISTART[100,[3,"P"]]IEND\0', "host status has 2 fields"),
    ],
)
async def test_a_malformed_reply_is_a_typed_error(
    client: LocalClient, start_panel: StartPanel, datagram: bytes, reason: str
) -> None:
    panel = await start_panel()
    panel.tricks.append(Trick(raw=datagram))
    with pytest.raises(MalformedReply) as caught:
        await client.run(LOCAL, get_host_status(), port=panel.port)
    assert reason in caught.value.reason
    assert len(panel.requests) == 1


async def test_invalid_utf8_is_replaced(client: LocalClient, start_panel: StartPanel) -> None:
    panel = await start_panel(PanelModel(phone="+100"))
    panel.tricks.append(Trick(garble=True))
    status = await client.run(LOCAL, get_host_status(), port=panel.port)
    assert status.phone == "\ufffd\ufffd+100"


async def test_every_page_is_fetched(client: LocalClient, start_panel: StartPanel) -> None:
    sensors = [DeviceRecord(f"Zone {i}", i, peripheral_type=1, user_flags=1) for i in range(1, 26)]
    panel = await start_panel(PanelModel(sensors=sensors))
    assert await client.fetch(LOCAL, sensor_pager(), port=panel.port) == tuple(sensors)
    assert [request.params for request in panel.requests] == [(1, 10), (11, 20), (21, 30)]
    assert await client.fetch(LOCAL, relay_pager(), port=panel.port) == DEMO_RELAYS
    await client.run(LOCAL, arm_away(), port=panel.port)
    history = await client.fetch(LOCAL, history_pager(), port=panel.port)
    assert [(record.kind, record.event_id) for record in history] == [(2, 4)]


async def test_an_inconsistent_page_is_asked_again(
    client: LocalClient, start_panel: StartPanel
) -> None:
    sensors = [DeviceRecord(f"Zone {i}", i) for i in range(1, 13)]
    panel = await start_panel(PanelModel(sensors=sensors))
    record = json.dumps(sensors[0].values())
    # the second page first claims two records and holds one
    panel.tricks.extend([PLAIN, Trick(raw=f"ISTART[102,[[12,11,2],{record}]]IEND\0".encode())])
    assert await client.fetch(LOCAL, sensor_pager(), port=panel.port) == tuple(sensors)
    assert [request.params for request in panel.requests] == [(1, 10), (11, 20), (11, 20)]


async def test_a_page_inconsistent_every_time_is_an_error(
    client: LocalClient, start_panel: StartPanel
) -> None:
    panel = await start_panel()
    record = json.dumps(DEMO_SENSORS[0].values())
    panel.trick = Trick(raw=f"ISTART[102,[[2,1,3],{record},{record},{record}]]IEND\0".encode())
    with pytest.raises(InconsistentPage, match="more records than the total of 2"):
        await client.fetch(LOCAL, sensor_pager(), port=panel.port)
    assert len(panel.requests) == 3


async def test_a_list_that_changes_size_is_not_retried(
    client: LocalClient, start_panel: StartPanel
) -> None:
    sensors = [DeviceRecord(f"Zone {i}", i) for i in range(1, 13)]
    panel = await start_panel(PanelModel(sensors=sensors))
    record = json.dumps(sensors[10].values())
    panel.tricks.extend([PLAIN, Trick(raw=f"ISTART[102,[[13,11,1],{record}]]IEND\0".encode())])
    with pytest.raises(ListChanged):
        await client.fetch(LOCAL, sensor_pager(), port=panel.port)
    assert len(panel.requests) == 2


async def test_the_budget_covers_every_page(start_panel: StartPanel) -> None:
    sensors = [DeviceRecord(f"Zone {i}", i) for i in range(1, 41)]
    panel = await start_panel(PanelModel(sensors=sensors))
    panel.model.quirk = Quirk(delay=0.15)
    client = LocalClient(waits=(1.0,), bind_host=LOCAL)
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        await client.fetch(LOCAL, sensor_pager(), port=panel.port, timeout=0.4)
    assert time.monotonic() - started < 0.4 + WAIT
    assert caught.value.code == 102
    assert 1 <= len(panel.requests) < 4


async def test_one_request_at_a_time_per_panel(
    client: LocalClient, start_panel: StartPanel
) -> None:
    panel = await start_panel()
    panel.model.quirk = Quirk(delay=0.1)
    results = await asyncio.gather(
        client.run(LOCAL, get_host_status(), port=panel.port),
        client.run(LOCAL, get_host_info(), port=panel.port),
        client.run(LOCAL, get_alert_flags(), port=panel.port),
    )
    assert results[1] == DEMO_INFO
    assert results[2] == DEFAULT_ALERTS
    # each request reached the panel only after the one before was answered
    assert [kind for kind, _ in panel.log] == ["received", "sent"] * 3


async def test_two_panels_are_asked_in_parallel(start_panel: StartPanel) -> None:
    client = LocalClient(waits=(WAIT,), bind_host=LOCAL)
    first = await start_panel()
    second = await start_panel()
    log: list[tuple[str, int]] = []
    first.log = second.log = log  # one timeline for both
    first.model.quirk = second.model.quirk = Quirk(delay=0.5)
    await asyncio.gather(
        client.run(LOCAL, get_host_status(), port=first.port),
        client.run(LOCAL, get_host_info(), port=second.port),
    )
    # both requests arrived before either panel answered
    assert [kind for kind, _ in log] == ["received", "received", "sent", "sent"]


@pytest.mark.parametrize(("host", "port"), [("panel.local", 12368), (LOCAL, 0), (LOCAL, 65536)])
async def test_the_panel_address_must_be_ipv4(client: LocalClient, host: str, port: int) -> None:
    with pytest.raises(ValueError, match=r"octets|out of range"):
        await client.run(host, get_host_status(), port=port)
    with pytest.raises(ValueError, match=r"octets|out of range"):
        await client.fetch(host, sensor_pager(), port=port)


@pytest.mark.parametrize("waits", [(), (1.0, 0.0)])
def test_waits_must_be_positive(waits: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="waits"):
        LocalClient(waits=waits)


def test_the_default_waits_grow() -> None:
    assert RETRY_WAITS == (7.5, 15.0, 30.0)


async def test_an_attempts_socket_keeps_the_first_reply_only() -> None:
    """Directly, as the socket closes too soon after the first reply to see a second."""
    reply: asyncio.Future[LocalReply] = asyncio.get_running_loop().create_future()
    catcher = _ReplyCatcher((LOCAL, 12368), reply)
    catcher.datagram_received(samples.LOCAL_EMPTY_REPLY, (LOCAL, 12369))
    assert not reply.done()
    catcher.datagram_received(samples.LOCAL_HOST_STATUS_REPLY, (LOCAL, 12368))
    catcher.datagram_received(samples.LOCAL_EMPTY_REPLY, (LOCAL, 12368))
    catcher.error_received(ConnectionRefusedError())
    assert reply.result() == parse_local_reply(samples.LOCAL_HOST_STATUS_REPLY)
