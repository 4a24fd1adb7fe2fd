"""The command line: `monitor` and `simulate`, as subprocesses and in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import datetime
import io
import json
import logging
from pathlib import Path
import signal
import socket
import sys
import time
from typing import Any

import pytest

from custom_components.g90_cloud.g90.__main__ import (
    host_port,
    main,
    parser,
    run_monitor,
)
from custom_components.g90_cloud.g90.aio.simulator import simulate
from custom_components.g90_cloud.g90.scenarios import SCENARIOS, Pause

from ..samples import GUID
from .conftest import StartCloud, StartListener
from .helpers import (
    LOCAL,
    ClosedPort,
    CloudLink,
    discovery_reply,
    eventually,
    hello_reply,
    triple,
    versioned,
)

REPO = Path(__file__).resolve().parents[3]
MODULE = "custom_components.g90_cloud.g90"
STARTUP = 20.0
"""Bound for a fresh interpreter to import everything and bind (slow CI machines)."""

# What each step of the demo scenario must be reported as (from the protocol notes).
DEMO_EVENTS = {
    "front door opens": "door_open",
    "front door closes": "door_close",
    "hall motion": "motion",
    "keyfob: arm away": "remote_button",
    "panel armed away": "armed_away",
    "notification: armed away": "armed_away",
    "front door opens while armed": "door_open",
    "alarm: front door": "alarm",
    "notification: alarm triggered": "alarm_triggered",
    "keyfob: SOS": "remote_button",
    "alarm: SOS from the keyfob": "sos",
    "RFID card 1": "rfid",
    "keypad: disarm": "rfid",
    "panel disarmed": "disarmed",
    "notification: disarmed": "disarmed",
    "AC power failure": "ac_power_failure",
    "AC power restored": "ac_power_restored",
}
HANDSHAKE = ["hello", "hello (discovery)", "ping"]


def free_port() -> int:
    """A loopback port free right now (the CLI does not take port 0)."""
    with socket.socket() as probe:
        probe.bind((LOCAL, 0))
        port: int = probe.getsockname()[1]
    return port


class Process:
    """A CLI subprocess whose stderr is collected line by line in the background."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stderr: list[str] = []
        self._reader = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.stderr.append(line.decode())

    async def stderr_line(self, text: str) -> None:
        await eventually(lambda: any(text in line for line in self.stderr), repr(text), STARTUP)

    async def stdout_lines(self, count: int) -> list[str]:
        assert self.proc.stdout is not None
        lines = []
        async with asyncio.timeout(STARTUP):
            for _ in range(count):
                lines.append((await self.proc.stdout.readline()).decode())
        return lines

    async def finish(self) -> int:
        """Wait for the exit code (bounded), then for the rest of stderr."""
        try:
            code = await asyncio.wait_for(self.proc.wait(), STARTUP)
        except TimeoutError:
            pytest.fail(f"no exit within {STARTUP} s; stderr so far: {''.join(self.stderr)}")
        await asyncio.wait_for(self._reader, STARTUP)
        return code


@contextlib.asynccontextmanager
async def cli(*args: str) -> AsyncIterator[Process]:
    """Run the CLI with ARGS as a subprocess; killed if the test leaves it running."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        MODULE,
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    process = Process(proc)
    try:
        yield process
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        process._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await process._reader


def check_lines(lines: list[dict[str, Any]], sent: list[tuple[str, bytes]]) -> None:
    """One line per message the simulator sent, in order, with the right fields."""
    assert len(lines) == len(sent)
    peer = lines[0]["peer"]
    assert peer.startswith("127.0.0.1:")
    scenario = [step for step in SCENARIOS["demo"] if not isinstance(step, Pause)]
    for line, (label, frame) in zip(lines, sent, strict=True):
        assert datetime.fromisoformat(line["time"]).utcoffset() is not None
        assert line["peer"] == peer
        assert line["guid"] == GUID
        assert line["origin"] == "panel"
        assert line["raw"] == frame.hex()
        if label in DEMO_EVENTS:
            assert line["event"] == DEMO_EVENTS[label], label
        else:
            assert label in {*HANDSHAKE, "ping"}
            assert line["event"] is None
    assert [line["message"] for line in lines[:3]] == ["hello", "hello_discovery", "ping"]
    assert lines[-1]["message"] == "ping"
    for line, step in zip(lines[3:-1], scenario, strict=True):
        zone = getattr(step, "zone", None)
        if zone is not None:
            assert (line["zone_index"], line["zone_name"]) == (zone, getattr(step, "name", None))
            assert line["message"] == "status_change"
        else:
            assert "zone_index" not in line


async def test_monitor_and_simulate_as_processes() -> None:
    port = free_port()
    async with cli("monitor", "--listen", f"{LOCAL}:{port}", "--cloud-ip", "10.1.2.3") as monitor:
        await monitor.stderr_line("Monitoring on")
        report: list[str] = []
        result = await simulate(
            LOCAL, port, SCENARIOS["demo"], speed=200, expect_port=5678, report=report.append
        )
        assert result.problems == []
        assert result.announced_ip == "10.1.2.3"
        assert result.announced_port == 5678
        assert len(result.sent) == len(HANDSHAKE) + len(DEMO_EVENTS) + 1 + 1  # two door closes

        raw_lines = await monitor.stdout_lines(len(result.sent))
        check_lines([json.loads(line) for line in raw_lines], result.sent)

        started = time.monotonic()
        monitor.proc.send_signal(signal.SIGTERM)
        assert await monitor.finish() == 0
        assert time.monotonic() - started < 5.0
        assert monitor.proc.stdout is not None
        assert await monitor.proc.stdout.read() == b""  # nothing beyond one line per message


def wrong_hello_reply(link: CloudLink, frame: bytes) -> None:
    """A cloud that gets hello wrong (ack value 2), and everything else right."""
    match triple(frame):
        case (0x01, 0x10, 0x20):
            link.send(versioned(0x41, 0x20, 0x10, b"\x02", sequence=1) + hello_reply(5678)[13:])
        case (0x01, 0x30, 0x20):
            link.send(discovery_reply("10.1.2.3", 5678, int(time.time())))
        case (0x01, 0x10, 0x00):
            link.send(frame)


async def test_simulate_process_fails_on_a_wrong_hello_reply(start_cloud: StartCloud) -> None:
    cloud = await start_cloud(wrong_hello_reply)
    async with cli("simulate", "--connect", f"{LOCAL}:{cloud.port}", "--scenario", "hello") as sim:
        assert await sim.finish() == 1
        assert sim.proc.stdout is not None
        output = (await sim.proc.stdout.read()).decode()
    assert "PROBLEM   hello reply differs" in output
    assert "FAILED    1 problem(s)" in output
    # It got through the whole handshake: the failure is the hello check alone.
    assert len(cloud.links[0].frames) == 4


async def test_simulate_process_fails_when_nothing_listens() -> None:
    closed = ClosedPort()
    try:
        async with cli("simulate", "--connect", f"{LOCAL}:{closed.port}") as sim:
            assert await sim.finish() == 1
            assert sim.proc.stdout is not None
            output = (await sim.proc.stdout.read()).decode()
    finally:
        closed.release()
    assert "FAILED" in output
    assert "ConnectionRefusedError" in output


# --- in-process, for what the subprocesses do not measure --------------------------------


async def test_run_monitor_in_process(
    start_listener: StartListener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "custom_components.g90_cloud.g90")
    port = free_port()
    args = parser().parse_args(
        ["monitor", "--listen", f"{LOCAL}:{port}", "--cloud-ip", "10.1.2.3", "--allow-guid", GUID]
    )
    out = io.StringIO()
    loop = asyncio.get_running_loop()
    monitor = asyncio.create_task(run_monitor(args, out))
    try:
        await eventually(lambda: "Monitoring on" in caplog.text, "the monitor listening")
        result = await simulate(LOCAL, port, SCENARIOS["quick"], speed=100)
        assert result.problems == []
        await eventually(
            lambda: out.getvalue().count("\n") == len(result.sent), "one line per message"
        )
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [line["raw"] for line in lines] == [frame.hex() for _label, frame in result.sent]
        assert [line["event"] for line in lines[3:-1]] == ["armed_home", "door_open", "disarmed"]
        assert (lines[4]["zone_index"], lines[4]["zone_name"]) == (1, "Front door")
        signal.raise_signal(signal.SIGTERM)
        assert await asyncio.wait_for(monitor, 5) == 0
    finally:
        monitor.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    # A port in use: a clear error and exit code 2.
    busy, _rec = await start_listener()
    args = parser().parse_args(["monitor", "--listen", f"{LOCAL}:{busy.port}", "--cloud-ip", "x"])
    assert await run_monitor(args, io.StringIO()) == 2
    assert "already in use" in caplog.text

    # A port panels cannot be told to use: refused before binding (the busy port is not tried).
    args = parser().parse_args(
        ["monitor", "--listen", f"{LOCAL}:{busy.port}", "--cloud-ip", "x", "--cloud-port", "70000"]
    )
    assert await run_monitor(args, io.StringIO()) == 2
    assert "cannot announce port 70000: ports are 1-65535" in caplog.text


async def test_main_simulate_in_process(
    start_listener: StartListener, start_cloud: StartCloud
) -> None:
    listener, _rec = await start_listener(cloud_port=7777)
    out = io.StringIO()
    argv = ["simulate", "--connect", f"{LOCAL}:{listener.port}", "--scenario", "quick"]
    code = await asyncio.to_thread(main, [*argv, "--speed", "100", "--expect-port", "7777"], out)
    assert code == 0, out.getvalue()
    assert "OK        sent 7 frames, received 6" in out.getvalue()

    out = io.StringIO()
    code = await asyncio.to_thread(main, [*argv, "--expect-port", "5678", "--repeat", "2"], out)
    assert code == 1
    assert "expected 5678" in out.getvalue()

    wrong = await start_cloud(wrong_hello_reply)
    out = io.StringIO()
    argv = ["-v", "simulate", "--connect", f"{LOCAL}:{wrong.port}", "--scenario", "hello"]
    assert await asyncio.to_thread(main, argv, out) == 1
    assert "FAILED    1 problem(s)" in out.getvalue()

    closed = ClosedPort()
    out = io.StringIO()
    try:
        argv = ["simulate", "--connect", f"{LOCAL}:{closed.port}"]
        assert await asyncio.to_thread(main, argv, out) == 1
    finally:
        closed.release()
    assert "FAILED    ConnectionRefusedError" in out.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:5678", ("127.0.0.1", 5678)), ("[::1]:80", ("::1", 80)), ("h:65535", ("h", 65535))],
)
def test_host_port(text: str, expected: tuple[str, int]) -> None:
    assert host_port(text) == expected


@pytest.mark.parametrize("text", ["5678", ":5678", "host:", "host:0", "host:65536", "host:x"])
def test_host_port_rejects(text: str) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["simulate", "--connect", text])
