"""Commands from the command line: `monitor` reading them on stdin, and `local` over UDP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import io
import json
import os
import signal
import sys
from typing import Any

import pytest

from custom_components.g90_cloud.g90.__main__ import main, panel_address, parser, run_monitor
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.command_line import (
    CommandLineError,
    answer_line,
    jsonable,
    parse_command,
    parse_target_line,
)
from custom_components.g90_cloud.g90.commands import ArmState, HostStatus
from custom_components.g90_cloud.g90.panel_model import PanelModel, Quirk

from ..samples import GUID
from .helpers import LOCAL, eventually
from .test_cli import MODULE, REPO, STARTUP, Process, free_port

OTHER = "GD00000000000001"[:15]


@contextlib.asynccontextmanager
async def monitor_process(port: int) -> AsyncIterator[Process]:
    """`monitor` as a subprocess, its stdin a pipe the test writes commands to."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        MODULE,
        "monitor",
        "--listen",
        f"{LOCAL}:{port}",
        "--cloud-ip",
        "10.1.2.3",
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    process = Process(proc)
    try:
        await process.stderr_line("Monitoring on")
        yield process
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        process._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await process._reader


async def answers(process: Process, count: int) -> list[dict[str, Any]]:
    """The next `count` answer lines (those with "ok"), skipping the message lines."""
    assert process.proc.stdout is not None
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(STARTUP):
        while len(found) < count:
            line = json.loads(await process.proc.stdout.readline())
            if "ok" in line:
                found.append(line)
    return found


async def command(process: Process, line: str) -> None:
    assert process.proc.stdin is not None
    process.proc.stdin.write(line.encode() + b"\n")
    await process.proc.stdin.drain()


async def test_monitor_obeys_commands_on_stdin_and_outlives_its_end() -> None:
    port = free_port()
    async with monitor_process(port) as monitor:
        panel = SimulatedPanel(LOCAL, port, guid=GUID, model=PanelModel())
        async with panel:
            await panel.hello()
            await command(monitor, f"{GUID} status")
            (status,) = await answers(monitor, 1)
            assert status == {
                "guid": GUID,
                "command": 100,
                "ok": True,
                "data": {
                    "state": 3,
                    "phone": "",
                    "product_name": "TSV018-C3SIA",
                    "mcu_version": "206",
                    "wifi_version": "206",
                },
                "error": None,
            }
            await command(monitor, "* arm_home")
            (armed,) = await answers(monitor, 1)
            assert (armed["guid"], armed["command"], armed["ok"], armed["data"]) == (
                GUID,
                101,
                True,
                None,
            )
            assert panel.model.state is ArmState.ARMED_HOME
            await command(monitor, f"{GUID} 106")
            await command(monitor, f"{GUID} frobnicate")
            await command(monitor, f"{OTHER} status")
            # Each line runs as soon as it is read: answers come as they are ready.
            found = await answers(monitor, 3)
            (config,) = [line for line in found if line["command"] == 106]
            (unknown,) = [line for line in found if line["command"] is None]
            (absent,) = [line for line in found if line["command"] == 100]
            assert config["ok"]
            assert config["command"] == 106
            assert config["data"]["siren_duration"]
            assert not unknown["ok"]
            assert "frobnicate" in unknown["error"]
            assert not absent["ok"]
            assert absent["command"] == 100
            assert "not connected" in absent["error"]
            panel.model.quirk = Quirk(refuse=True)
            await command(monitor, f"{GUID} relay_on 10")
            (refused,) = await answers(monitor, 1)
            assert not refused["ok"]
            assert refused["command"] == 137
            assert "CommandRefused" in refused["error"]

            # The end of stdin does not end the monitor: it still prints and answers nothing more.
            assert monitor.proc.stdin is not None
            monitor.proc.stdin.close()
            await panel.ping()
            assert monitor.proc.returncode is None
        monitor.proc.send_signal(signal.SIGTERM)
        assert await monitor.finish() == 0


async def test_local_command_over_udp() -> None:
    port = free_port()
    panel = SimulatedPanel(LOCAL, port)  # never connected: only its UDP port is used
    local_port = await panel.serve_local(LOCAL)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", MODULE, "local", "--panel", f"{LOCAL}:{local_port}",
            "relays", cwd=REPO, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), STARTUP)
        assert proc.returncode == 0
        line = json.loads(out)
        assert (line["guid"], line["command"], line["ok"], line["error"]) == (None, 138, True, None)
        assert [relay["name"] for relay in line["data"]] == ["Socket", "Switch"]

        panel.model.quirk = Quirk(silent=True)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", MODULE, "local", "--panel", f"{LOCAL}:{local_port}",
            "status", "--timeout", "0.5", cwd=REPO, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), STARTUP)
        assert proc.returncode == 1
        line = json.loads(out)
        assert (line["command"], line["ok"], line["data"]) == (100, False, None)
        assert "CommandTimeout" in line["error"]
    finally:
        await panel.__aexit__(None, None, None)


@pytest.mark.parametrize(
    ("text", "code", "body"),
    [
        ("status", 100, b""),
        ("info", 206, b""),
        ("arm_away", 101, b"[101,[1]]"),
        ("arm_home", 101, b"[101,[2]]"),
        ("disarm", 101, b"[101,[3]]"),
        ("relay_on 10", 137, b"[137,[10,0,0]]"),
        ("relay_off 10 1", 137, b"[137,[10,1,1]]"),
        ("alerts", 117, b""),
        ("set_alerts 9", 116, b"[116,[9]]"),
        ("config", 106, b""),
        ("200 [1,10]", 200, b"[200,[1,10]]"),
        ("160", 160, b""),
    ],
)
def test_commands_by_name_and_by_number(text: str, code: int, body: bytes) -> None:
    job = parse_command(text)
    assert not hasattr(job, "next_request")
    request = job.request  # type: ignore[union-attr]
    assert (request.code, request.body()) == (code, body)


@pytest.mark.parametrize(("text", "code"), [("sensors", 102), ("relays", 138), ("history", 200)])
def test_lists_are_fetched_page_by_page(text: str, code: int) -> None:
    pager = parse_command(text)
    request = pager.next_request()  # type: ignore[union-attr]
    assert (request.code, request.body()) == (code, f"[{code},[1,10]]".encode())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "frobnicate",
        "status now",
        "relay_on",
        "relay_on x",
        "relay_on 1 2 3",
        "set_alerts",
        "100 {",
        "100 {}",
        "70000",
    ],
)
def test_bad_commands_are_refused_clearly(text: str) -> None:
    with pytest.raises(CommandLineError):
        parse_command(text)


def test_target_lines() -> None:
    assert parse_target_line(f"{GUID} status")[0] == GUID
    assert parse_target_line("* disarm")[0] == "*"
    for line in ("", GUID, "   "):
        with pytest.raises(CommandLineError):
            parse_target_line(line)


def test_answer_lines_are_json() -> None:
    status = HostStatus(ArmState.ALARM, "+1", "P", "1", "2")
    assert answer_line(GUID, 100, data=status) == {
        "guid": GUID,
        "command": 100,
        "ok": True,
        "data": {
            "state": 4,
            "phone": "+1",
            "product_name": "P",
            "mcu_version": "1",
            "wifi_version": "2",
        },
        "error": None,
    }
    failed = answer_line("*", None, error=CommandLineError("no panel is connected"))
    assert failed["error"] == "CommandLineError: no panel is connected"
    assert jsonable({1: (b"\x01", None)}) == {"1": ["01", None]}


async def test_monitor_in_process_obeys_every_panel_and_reports_problems() -> None:
    """In-process (so coverage sees it): `*` reaches each panel; bad lines get an answer too."""
    port = free_port()
    args = parser().parse_args(["monitor", "--listen", f"{LOCAL}:{port}", "--cloud-ip", "10.1.2.3"])
    read_end, write_end = os.pipe()
    commands = os.fdopen(read_end, "r")
    writer = os.fdopen(write_end, "w")
    out = io.StringIO()
    loop = asyncio.get_running_loop()
    monitor = asyncio.create_task(run_monitor(args, out, commands))

    def answer_lines() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        return [line for line in lines if "ok" in line]

    def send(line: str) -> None:
        writer.write(line + "\n")
        writer.flush()

    try:
        send("* status")  # before any panel: one line saying so
        await eventually(lambda: len(answer_lines()) == 1, "the answer to *")
        assert answer_lines()[0]["guid"] == "*"
        assert "no panel is connected" in answer_lines()[0]["error"]
        async with (
            SimulatedPanel(LOCAL, port, guid=GUID) as first,
            SimulatedPanel(LOCAL, port, guid=OTHER) as second,
        ):
            await first.hello()
            await second.hello()
            send("* sensors")
            send("lonely")
            await eventually(lambda: len(answer_lines()) == 4, "three more answers")
            answers = answer_lines()[1:]
            fetched = sorted(line["guid"] for line in answers if line["command"] == 102)
            assert fetched == sorted([GUID, OTHER])
            assert all(len(line["data"]) == 5 for line in answers if line["command"] == 102)
            (bad,) = [line for line in answers if line["command"] is None]
            assert bad["guid"] is None
            assert "expected TARGET COMMAND" in bad["error"]
        writer.close()  # the end of the commands: the monitor goes on
        await asyncio.sleep(0.1)
        assert not monitor.done()
        signal.raise_signal(signal.SIGTERM)
        assert await asyncio.wait_for(monitor, 5) == 0
    finally:
        monitor.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        with contextlib.suppress(OSError):
            writer.close()


async def test_local_in_process() -> None:
    panel = SimulatedPanel(LOCAL, free_port())
    local_port = await panel.serve_local(LOCAL)
    try:
        out = io.StringIO()
        code = await asyncio.to_thread(
            main, ["local", "--panel", f"{LOCAL}:{local_port}", "set_alerts", "9"], out
        )
        assert code == 0
        assert json.loads(out.getvalue())["command"] == 116
        assert panel.model.alert_flags == 9
        out = io.StringIO()
        code = await asyncio.to_thread(main, ["local", "--panel", LOCAL, "launch"], out)
        assert code == 1
        assert "unknown command 'launch'" in json.loads(out.getvalue())["error"]
    finally:
        await panel.__aexit__(None, None, None)


def test_panel_address() -> None:
    assert panel_address("192.168.1.20") == ("192.168.1.20", 12368)
    assert panel_address("192.168.1.20:1234") == ("192.168.1.20", 1234)
