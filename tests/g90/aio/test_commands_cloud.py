"""Commands down the panel's own connection: sent, matched, timed out, kept from the cloud.

The panel is the simulator (it answers from a PanelModel, as a real panel
would) or, where the test needs to misbehave byte by byte, a raw client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import json
import struct
import time

import pytest

from custom_components.g90_cloud.g90.aio.channel import (
    FIRST_SEQUENCE,
    PanelDisconnected,
    PanelNotConnected,
)
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.commands import (
    Ack,
    ArmState,
    CommandRefused,
    CommandTimeout,
    DeviceRecord,
    HostStatus,
    arm_away,
    get_host_config,
    get_host_status,
    history_pager,
    sensor_pager,
    switch_relay,
)
from custom_components.g90_cloud.g90.events import EventType
from custom_components.g90_cloud.g90.panel_model import PanelModel, Quirk

from ..samples import CLOUD_COMMAND, COMMAND_RESPONSE, GUID, HELLO
from .conftest import ConnectPanel, StartCloud, StartListener
from .helpers import (
    FAKE_PING_REPLY,
    LOCAL,
    PING,
    WAIT,
    answering,
    basic,
    eventually,
    triple,
    versioned,
)

OpenPanel = Callable[..., Awaitable[SimulatedPanel]]


def command_frame(sequence: int, code: int, body: bytes = b"") -> bytes:
    """A command as the notes describe it, packed here independently of the code."""
    return versioned(
        0x29, 0x50, 0x10, struct.pack("<HHHi", 2, code, code, 5) + body + b"\0", sequence=sequence
    )


def response_frame(sequence: int, code: int, text: str) -> bytes:
    """A panel's command response, packed from the notes."""
    head = struct.pack("<HiHiHH", 1, sequence, 0, sequence, code, code)
    return basic(0x01, 0x00, 0x20, head + text.encode() + b"\0")


@pytest.fixture
async def open_panel() -> AsyncIterator[OpenPanel]:
    """Simulated panels, connected and past hello; all closed after the test."""
    stack = contextlib.AsyncExitStack()

    async def open_one(
        port: int, *, guid: str = GUID, model: PanelModel | None = None
    ) -> SimulatedPanel:
        panel = await stack.enter_async_context(SimulatedPanel(LOCAL, port, guid=guid, model=model))
        await panel.hello()
        assert panel.result.problems == []
        return panel

    async with stack:
        yield open_one


async def test_status_is_asked_with_the_notes_frame_and_read(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, _rec = await start_listener()
    panel = await open_panel(listener.port)
    status = await listener.run(GUID, get_host_status())
    assert status == HostStatus(ArmState.DISARMED, "", "TSV018-C3SIA", "206", "206")
    (command,) = panel.result.commands
    assert command.encode() == command_frame(FIRST_SEQUENCE, 100)
    # The second command takes the next sequence number.
    await listener.run(GUID, get_host_config())
    assert panel.result.commands[1].encode() == command_frame(FIRST_SEQUENCE + 1, 106)


async def test_arming_changes_the_panel_which_then_reports_it(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, rec = await start_listener()
    panel = await open_panel(listener.port)
    assert await listener.run(GUID, arm_away()) == Ack(101)
    assert panel.result.commands[0].encode() == command_frame(FIRST_SEQUENCE, 101, b"[101,[1]]")
    assert panel.model.state is ArmState.ARMED_AWAY
    await rec.wait_events(2)  # the status change and the notification, as real panels send
    assert [event.type for event, _ in rec.events] == [EventType.ARMED_AWAY] * 2
    assert (await listener.run(GUID, get_host_status())).state is ArmState.ARMED_AWAY


async def test_a_list_is_fetched_page_by_page(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    sensors = [
        DeviceRecord(f"Zone {index}", index, peripheral_type=1, user_flags=1, node_count=1)
        for index in range(1, 24)
    ]
    listener, _rec = await start_listener()
    panel = await open_panel(listener.port, model=PanelModel(sensors=sensors))
    assert await listener.fetch(GUID, sensor_pager()) == tuple(sensors)
    assert [command.body for command in panel.result.commands] == [
        b"[102,[1,10]]\0",
        b"[102,[11,20]]\0",
        b"[102,[21,30]]\0",
    ]


async def test_a_silent_panel_times_out(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, _rec = await start_listener()
    panel = await open_panel(listener.port)
    panel.model.quirk = Quirk(silent=True)
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        await listener.run(GUID, get_host_status(), timeout=0.3)
    assert 0.25 <= time.monotonic() - started < WAIT
    panel.model.quirk = Quirk()
    assert (await listener.run(GUID, get_host_status())).state is ArmState.DISARMED


async def test_a_refusal_is_a_typed_error(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, _rec = await start_listener()
    panel = await open_panel(listener.port)
    panel.model.quirk = Quirk(refuse=True)
    with pytest.raises(CommandRefused) as refused:
        await listener.run(GUID, switch_relay(10, on=True))
    assert refused.value.raw == "fail"


async def test_a_panel_that_is_not_connected(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, _rec = await start_listener()
    await open_panel(listener.port)
    with pytest.raises(PanelNotConnected) as missing:
        await listener.run("GB00000000000", get_host_status())
    assert missing.value.code == 100


async def test_a_closing_connection_fails_the_waiting_command_at_once(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, _rec = await start_listener()
    panel = await open_panel(listener.port)
    panel.model.quirk = Quirk(silent=True)
    waiting = asyncio.create_task(listener.run(GUID, get_host_status(), timeout=30))
    await eventually(lambda: len(panel.result.commands) == 1, "the command sent")
    started = time.monotonic()
    await panel.__aexit__(None, None, None)
    with pytest.raises(PanelDisconnected):
        await waiting
    assert time.monotonic() - started < 1.0


async def test_commands_to_one_panel_go_one_at_a_time(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, _rec = await start_listener()
    panel = await open_panel(listener.port)
    panel.model.quirk = Quirk(delay=0.2)
    first = asyncio.create_task(listener.run(GUID, get_host_status()))
    second = asyncio.create_task(listener.run(GUID, get_host_config()))
    await eventually(lambda: len(panel.result.commands) == 1, "the first command sent")
    await asyncio.sleep(0.1)
    assert len(panel.result.commands) == 1  # the second waits for the first's response
    await asyncio.gather(first, second)
    assert [command.code for command in panel.result.commands] == [100, 106]


async def test_many_panels_answer_at_once(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, _rec = await start_listener()
    guids = [f"GC{index:013d}" for index in range(20)]
    panels = [await open_panel(listener.port, guid=guid) for guid in guids]
    for panel in panels:
        panel.model.quirk = Quirk(delay=0.2)
    started = time.monotonic()
    statuses = await asyncio.gather(*(listener.run(guid, get_host_status()) for guid in guids))
    assert time.monotonic() - started < 2.0  # in parallel, not 20 x 0.2 s
    assert all(status.state is ArmState.DISARMED for status in statuses)
    assert [len(panel.result.commands) for panel in panels] == [1] * 20


async def test_a_response_with_another_sequence_is_matched_by_its_code(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    listener, _rec = await start_listener()
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.read(42)
    asking = asyncio.create_task(listener.run(GUID, get_host_status()))
    await panel.expect(command_frame(FIRST_SEQUENCE, 100))
    await panel.send(response_frame(3, 100, '[100,[1,"","P","1","2"]]'))
    assert await asking == HostStatus(ArmState.ARMED_AWAY, "", "P", "1", "2")


async def test_our_responses_never_reach_the_cloud_its_own_do_in_order(
    start_listener: StartListener, start_cloud: StartCloud, open_panel: OpenPanel
) -> None:
    """Chaining: the cloud's command and the panel's response to it pass through untouched;
    our command's response, late duplicates included, goes no further than us."""
    cloud = await start_cloud(answering)
    listener, _rec = await start_listener(upstream_host=LOCAL, upstream_port=cloud.port)
    panel = await open_panel(listener.port)
    link = await cloud.frames(0, 1)  # the hello
    assert (await listener.run(GUID, get_host_status())).state is ArmState.DISARMED
    link.send(CLOUD_COMMAND)  # the cloud asks for the host status, sequence 6
    await eventually(lambda: len(panel.result.commands) == 2, "the cloud's command reached it")
    assert panel.result.commands[1].encode() == CLOUD_COMMAND
    await cloud.frames(0, 2)
    # A late repeat of the response to ours, and a response of the panel's own accord.
    await panel.send("late repeat", response_frame(FIRST_SEQUENCE, 100, '[100,[3,"","P","1","2"]]'))
    await panel.send("unsolicited", COMMAND_RESPONSE)
    await cloud.frames(0, 3)
    await asyncio.sleep(0.1)
    kinds = [triple(frame) for frame in link.frames]
    assert kinds == [(0x01, 0x10, 0x20), (0x01, 0x00, 0x20), (0x01, 0x00, 0x20)]
    answer_to_cloud = link.frames[1]
    assert struct.unpack_from("<HiHiHH", answer_to_cloud, 8)[1] == 6  # the cloud's own sequence
    assert link.frames[2] == COMMAND_RESPONSE


async def test_a_response_too_late_is_dropped_and_the_next_command_is_not_confused(
    start_listener: StartListener, open_panel: OpenPanel
) -> None:
    listener, _rec = await start_listener()
    panel = await open_panel(listener.port)
    panel.model.quirks.append(Quirk(delay=0.4))
    with pytest.raises(CommandTimeout):
        await listener.run(GUID, get_host_status(), timeout=0.1)
    panel.model.state = ArmState.ARMED_HOME
    await asyncio.sleep(0.4)  # the late response (disarmed) arrives meanwhile
    assert (await listener.run(GUID, get_host_status())).state is ArmState.ARMED_HOME


async def test_a_repeated_answer_never_stands_in_for_the_next_page(
    start_listener: StartListener, connect: ConnectPanel
) -> None:
    """A panel answering page 1 twice: the repeat is dropped, not taken for page 2."""
    history = [[4, z, 1, 1, f"Zone {z}", 1000 + z, ""] for z in range(25, 0, -1)]

    def page(first: int, last: int) -> str:
        records = history[first - 1 : last]
        return json.dumps([200, [[25, first, len(records)], *records]], separators=(",", ":"))

    listener, _rec = await start_listener()
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.read(42)
    fetching = asyncio.create_task(listener.fetch(GUID, history_pager()))
    await panel.expect(command_frame(FIRST_SEQUENCE, 200, b"[200,[1,10]]"))
    first_answer = response_frame(FIRST_SEQUENCE, 200, page(1, 10))
    await panel.send(first_answer)
    await panel.expect(command_frame(FIRST_SEQUENCE + 1, 200, b"[200,[11,20]]"))
    await panel.send(first_answer, response_frame(FIRST_SEQUENCE + 1, 200, page(11, 20)))
    await panel.expect(command_frame(FIRST_SEQUENCE + 2, 200, b"[200,[21,30]]"))
    await panel.send(response_frame(FIRST_SEQUENCE + 2, 200, page(21, 25)))
    records = await fetching
    assert [record.event_id for record in records] == list(range(25, 0, -1))


async def test_an_oversized_frame_never_reaches_the_cloud(
    start_listener: StartListener, start_cloud: StartCloud, connect: ConnectPanel
) -> None:
    """Skipped as it arrives, only its header is left: it must not break the cloud's stream."""
    cloud = await start_cloud(answering)
    listener, rec = await start_listener(upstream_host=LOCAL, upstream_port=cloud.port)
    panel = await connect(listener.port)
    await panel.send(HELLO)
    await panel.read(42)
    big = versioned(0x22, 0x10, 0x20, b"x" * 9000)
    await panel.send(big, PING)
    await panel.expect(FAKE_PING_REPLY)  # the cloud's echo: it saw the ping whole
    link = await cloud.frames(0, 2)
    assert link.frames == [HELLO, PING]
    await rec.wait_events(1)
    assert rec.events[0][0].type == "unknown"
