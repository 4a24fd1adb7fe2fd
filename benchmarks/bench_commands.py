"""Command round trips: down panels' own connections, and over the LAN for reference.

100 simulated panels (`aio/simulator.py`, answering from a `PanelModel` at
once) connect to our listener on 127.0.0.1 and say hello. Then:

* cloud channel, 100 panels at once: rounds in which every panel is asked
  for its host status (100) at the same moment; each round trip is timed from
  the call of `Listener.run` to its typed result (frame built and written, the
  panel's response read, matched by sequence number and decoded);
* cloud channel, one panel at a time: the same, one command in flight in all;
* LAN (UDP 12368) for reference, one panel, one command at a time: our
  `LocalClient` and pyg90alarm 3.1.2's `G90Alarm.get_host_status`, both
  against the same simulated panel's UDP port, in the same run.

Everything runs in this one process and event loop (the panels too), so the
figures include the panels' own work; they are latencies on an idle loop, not
capacity. Nothing leaves 127.0.0.1.

Run: `scripts/bench`, or `scripts/run python -m benchmarks.bench_commands`
after `scripts/setup --bench`. G90_BENCH_QUICK=1: a short smoke run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from importlib.metadata import version
import logging
import os
import platform
import sys
import time

from pyg90alarm import G90Alarm

from custom_components.g90_cloud.g90.aio.local import LocalClient
from custom_components.g90_cloud.g90.aio.server import Listener, ListenerConfig
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.commands import ArmState, get_host_status

QUICK = os.environ.get("G90_BENCH_QUICK") == "1"
HOST = "127.0.0.1"
PANELS = 100
ROUNDS = 5 if QUICK else 50
SERIAL = 100 if QUICK else 1000
LOCAL_CALLS = 50 if QUICK else 300


def guid(index: int) -> str:
    return f"GB{index:013d}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def line(name: str, times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return (
        f"  {name:<44} {len(ms):>6}  p50 {percentile(ms, 0.5):7.3f} ms"
        f"  p99 {percentile(ms, 0.99):7.3f} ms  max {max(ms):7.3f} ms"
    )


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    # Every simulated panel connects from 127.0.0.1: one address may hold them all.
    config = ListenerConfig(host=HOST, port=0, max_panels_per_address=PANELS)
    listener = Listener(config, on_event=lambda _e, _p: None)
    await listener.start()
    async with contextlib.AsyncExitStack() as stack:
        panels = []
        for index in range(PANELS):
            panel = await stack.enter_async_context(
                SimulatedPanel(HOST, listener.port, guid=guid(index))
            )
            await panel.hello()
            panels.append(panel)

        def ask(index: int) -> Callable[[], Awaitable[object]]:
            return lambda: listener.run(guid(index % PANELS), get_host_status())

        parallel: list[float] = []
        for _ in range(ROUNDS):
            parallel.extend(await asyncio.gather(*(timed(ask(i)) for i in range(PANELS))))
        serial = [await timed(ask(i)) for i in range(SERIAL)]
        problems = sum(len(panel.result.problems) for panel in panels)
        commands = sum(len(panel.result.commands) for panel in panels)

        local_port = await panels[0].serve_local(HOST)
        client = LocalClient(bind_host=HOST)
        ours_local = [
            await timed(lambda: client.run(HOST, get_host_status(), port=local_port, timeout=5))
            for _ in range(LOCAL_CALLS)
        ]
        reference = G90Alarm(host=HOST, port=local_port)
        status = await reference.get_host_status()
        theirs_ok = int(status.host_status) == ArmState.DISARMED
        theirs_local = [await timed(reference.get_host_status) for _ in range(LOCAL_CALLS)]
    await listener.close()

    print("G90 commands: round trips to simulated panels on 127.0.0.1, one process and loop")
    print(
        f"  Python {platform.python_version()} ({sys.implementation.name}), {platform.machine()},"
        f" pyg90alarm {version('pyg90alarm')}; {PANELS} panels connected"
    )
    print(f"  commands answered over the panels' connections: {commands}; problems: {problems}")
    print(line(f"cloud channel, {PANELS} panels at once", parallel))
    print(line("cloud channel, one command in flight", serial))
    print(line("LAN (UDP), ours (LocalClient)", ours_local))
    print(line("LAN (UDP), pyg90alarm get_host_status", theirs_local))
    p50_ours = percentile(ours_local, 0.5)
    p50_theirs = percentile(theirs_local, 0.5)
    print(f"  LAN p50 ratio (pyg90alarm / ours): {p50_theirs / p50_ours:.2f}")
    print(f"command round trip p50 ({PANELS} panels): {percentile(parallel, 0.5) * 1000:.3f} ms")
    print(f"command round trip p99 ({PANELS} panels): {percentile(parallel, 0.99) * 1000:.3f} ms")
    return 0 if problems == 0 and theirs_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
