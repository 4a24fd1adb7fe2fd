"""Command line: `monitor` real panels and command them, `local` one, or `simulate` one.

    python -m custom_components.g90_cloud.g90 monitor --listen 0.0.0.0:5678 \
        --cloud-ip 192.168.1.10 --cloud-port 5678 [--upstream 47.88.7.61:5678]
    python -m custom_components.g90_cloud.g90 local --panel 192.168.1.20 status
    python -m custom_components.g90_cloud.g90 simulate --connect 127.0.0.1:5678

`monitor` writes one JSON object per line per decoded message to stdout (logs
go to stderr), and takes commands on stdin, one a line: `TARGET COMMAND
[PARAMS]`, TARGET a panel GUID or `*`; each answer is one more JSON line with
"guid", "command", "ok", "data" and "error". `local` sends one command over
the panel's LAN protocol and prints that line; it exits 1 when the command
failed. `simulate` plays a panel and exits 1 if any reply was wrong.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
import contextlib
from datetime import UTC, datetime
import json
import logging
import signal
import sys
import threading
from typing import Any, TextIO

from .aio.local import LocalClient
from .aio.server import Listener, ListenerBindError, ListenerConfig
from .aio.simulator import simulate
from .command_line import (
    CommandLineError,
    Job,
    answer_line,
    job_code,
    parse_command,
    parse_target_line,
)
from .commands import Command, CommandError
from .local import PANEL_LOCAL_PORT
from .scenarios import SCENARIOS
from .status import MessageRecord, Traffic
from .wire import DEFAULT_PORT


def host_port(text: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT`."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def panel_address(text: str) -> tuple[str, int]:
    """`HOST` or `HOST:PORT` of a panel's local protocol (port 12368 by default)."""
    if ":" not in text:
        return text, PANEL_LOCAL_PORT
    return host_port(text)


def json_line(value: dict[str, Any]) -> str:
    """One line of JSON, always valid UTF-8 (lone surrogates and all escaped)."""
    return json.dumps(value, ensure_ascii=True) + "\n"


def record_lines(record: MessageRecord) -> list[dict[str, Any]]:
    """The JSON objects `monitor` prints for one message: one per event, at least one."""
    base: dict[str, Any] = {
        "time": record.time.isoformat(),
        "peer": record.peer,
        "guid": record.guid,
        "origin": record.origin,
        "message": record.message.NAME,
    }
    if not record.events:
        return [{**base, "event": None, "raw": record.frame.hex()}]
    lines = []
    for event in record.events:
        fields = event.fields()
        event_type = fields.pop("type")
        fields.pop("raw", None)
        guid = fields.pop("guid", None)
        lines.append(
            {
                **base,
                "guid": record.guid or guid,
                "event": event_type,
                **fields,
                "raw": record.frame.hex(),
            }
        )
    return lines


async def run_monitor(args: argparse.Namespace, out: TextIO, commands: TextIO | None = None) -> int:
    """Listen until SIGINT/SIGTERM, printing every message; obey `commands`, one a line."""
    host, port = args.listen
    upstream_host, upstream_port = args.upstream or (None, DEFAULT_PORT)
    config = ListenerConfig(
        host=host,
        port=port,
        cloud_ip=args.cloud_ip,
        cloud_port=args.cloud_port,
        upstream_host=upstream_host,
        upstream_port=upstream_port,
        allowed_guids=frozenset(args.allow_guid) if args.allow_guid else None,
        max_connections=args.max_connections,
        max_unidentified_per_address=args.max_strangers_per_address,
        max_panels_per_address=args.max_panels_per_address,
        hello_timeout=args.hello_timeout,
        idle_timeout=args.idle_timeout,
    )
    allowed = config.allowed_guids

    def write(line: dict[str, Any]) -> None:
        out.write(json_line(line))
        out.flush()

    def print_traffic(traffic: Traffic) -> None:
        if allowed is not None and traffic.guid not in allowed:
            return  # only listed panels are shown, as only they may report
        for record in traffic.records():
            for line in record_lines(record):
                write(line)

    listener = Listener(config, on_event=lambda _event, _panel: None, on_traffic=print_traffic)
    try:
        await listener.start()
    except ListenerBindError as err:
        logging.getLogger(__name__).error("%s", err.strerror)
        return 2
    except ValueError as err:  # an address panels cannot be told to use
        logging.getLogger(__name__).error("%s", err)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    obeying = set[asyncio.Task[None]]()
    if commands is not None:
        lines = read_lines(commands)

        async def obey_lines() -> None:
            while (line := await lines.get()) is not None:
                if line.strip():
                    task = asyncio.create_task(obey(listener, line, write))
                    obeying.add(task)
                    task.add_done_callback(obeying.discard)

        obeying.add(asyncio.create_task(obey_lines()))
    logging.getLogger(__name__).info("Monitoring on %s:%s; Ctrl-C stops", host, listener.port)
    await stop.wait()
    for task in list(obeying):
        task.cancel()
    await listener.close()
    return 0


def read_lines(source: TextIO) -> asyncio.Queue[str | None]:
    """Lines of `source`, read by a daemon thread (so a blocked read never holds up exit).

    None marks the end of the input; the monitor goes on without commands.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        try:
            for line in source:
                loop.call_soon_threadsafe(lines.put_nowait, line)
        except (OSError, ValueError, UnicodeDecodeError) as err:
            logging.getLogger(__name__).warning("Cannot read commands any more: %s", err)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop has ended
                loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="g90 command reader", daemon=True).start()
    return lines


async def obey(listener: Listener, line: str, write: Callable[[dict[str, Any]], None]) -> None:
    """Send one `TARGET COMMAND [PARAMS]` line's command; write each answer."""
    try:
        target, job = parse_target_line(line)
    except CommandLineError as err:
        write(answer_line(None, None, error=err))
        return
    if target != "*":
        write(await _answer(listener, target, job))
        return
    guids = sorted({c.guid for c in listener.connections if c.panel is not None and c.guid})
    if not guids:
        write(answer_line("*", job_code(job), error=CommandLineError("no panel is connected")))
        return
    # A job of its own for each panel: a list's pager keeps its pages.
    jobs = [(guid, parse_target_line(line)[1]) for guid in guids]
    for answer in await asyncio.gather(*(_answer(listener, guid, job) for guid, job in jobs)):
        write(answer)


async def _answer(listener: Listener, guid: str, job: Job) -> dict[str, Any]:
    code = job_code(job)
    try:
        if isinstance(job, Command):
            data = await listener.run(guid, job)
        else:
            data = await listener.fetch(guid, job)
    except CommandError as err:
        return answer_line(guid, code, error=err)
    return answer_line(guid, code, data=data)


async def run_local(args: argparse.Namespace, out: TextIO) -> int:
    """One command over the panel's LAN protocol; 0 when it succeeded."""
    host, port = args.panel
    try:
        job = parse_command(" ".join(args.words))
    except CommandLineError as err:
        out.write(json_line(answer_line(None, None, error=err)))
        return 1
    code = job_code(job)
    client = LocalClient()
    try:
        if isinstance(job, Command):
            data = await client.run(host, job, port=port, timeout=args.timeout)
        else:
            data = await client.fetch(host, job, port=port, timeout=args.timeout)
    except (CommandError, OSError, ValueError) as err:
        out.write(json_line(answer_line(None, code, error=err)))
        return 1
    out.write(json_line(answer_line(None, code, data=data)))
    return 0


async def run_simulate(args: argparse.Namespace, out: TextIO) -> int:
    """Play a panel; 0 when every reply was right."""
    host, port = args.connect

    def report(line: str) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        out.write(f"{stamp} {line}\n")
        out.flush()

    try:
        result = await simulate(
            host,
            port,
            SCENARIOS[args.scenario],
            guid=args.guid,
            expect_port=args.expect_port,
            repeat=args.repeat,
            speed=args.speed,
            report=report,
        )
    except (OSError, TimeoutError) as err:
        report(f"FAILED    {type(err).__name__}: {err}")
        return 1
    sent, received = len(result.sent), len(result.received)
    if result.problems:
        report(f"FAILED    {len(result.problems)} problem(s); sent {sent}, received {received}")
        return 1
    report(f"OK        sent {sent} frames, received {received}, every reply as the cloud's")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
    main = argparse.ArgumentParser(
        prog="python -m custom_components.g90_cloud.g90",
        description="Talk G90 cloud protocol: monitor real panels or simulate one.",
    )
    main.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    commands = main.add_subparsers(dest="command", required=True)

    monitor = commands.add_parser("monitor", help="listen for panels and print every message")
    monitor.add_argument("--listen", type=host_port, default=("0.0.0.0", 5678), metavar="HOST:PORT")
    monitor.add_argument("--cloud-ip", required=True, help="address announced to panels")
    monitor.add_argument("--cloud-port", type=int, default=5678, help="port announced to panels")
    monitor.add_argument("--upstream", type=host_port, metavar="HOST:PORT", help="real cloud")
    monitor.add_argument(
        "--allow-guid", action="append", metavar="GUID", help="accept only this panel (repeatable)"
    )
    defaults = ListenerConfig()
    limits = monitor.add_argument_group("limits (against a hostile network)")
    limits.add_argument(
        "--max-connections",
        type=int,
        default=defaults.max_connections,
        metavar="N",
        help=f"open connections at most (default {defaults.max_connections})",
    )
    limits.add_argument(
        "--max-strangers-per-address",
        type=int,
        metavar="N",
        default=defaults.max_unidentified_per_address,
        help="connections per address that have not said hello "
        f"(default {defaults.max_unidentified_per_address})",
    )
    limits.add_argument(
        "--max-panels-per-address",
        type=int,
        default=defaults.max_panels_per_address,
        metavar="N",
        help=f"panels per address (default {defaults.max_panels_per_address})",
    )
    limits.add_argument(
        "--hello-timeout",
        type=float,
        default=defaults.hello_timeout,
        metavar="SECONDS",
        help=f"time to say hello (default {defaults.hello_timeout:g})",
    )
    limits.add_argument(
        "--idle-timeout", type=float, default=defaults.idle_timeout, metavar="SECONDS",
        help=f"silence before a connection is closed (default {defaults.idle_timeout:g})",
    )  # fmt: skip

    local = commands.add_parser(
        "local", help="send one command to a panel over its LAN protocol (UDP 12368)"
    )
    local.add_argument(
        "--panel", type=panel_address, required=True, metavar="HOST[:PORT]", help="the panel"
    )
    local.add_argument(
        "--timeout", type=float, default=60.0, help="seconds for the whole command (default 60)"
    )
    local.add_argument(
        "words", nargs="+", metavar="COMMAND [PARAMS]", help="e.g. status, relay_on 3, 102 [1,10]"
    )

    sim = commands.add_parser("simulate", help="play a panel against a listener")
    sim.add_argument("--connect", type=host_port, required=True, metavar="HOST:PORT")
    sim.add_argument("--guid", default="GA00000A0000000")
    sim.add_argument("--scenario", choices=sorted(SCENARIOS), default="demo")
    sim.add_argument("--expect-port", type=int, help="check the port announced in hello info")
    sim.add_argument("--repeat", type=int, default=1, help="rounds to play (0: forever)")
    sim.add_argument("--speed", type=float, default=1.0, help="shorten pauses by this factor")
    return main


def main(
    argv: Sequence[str] | None = None, out: TextIO = sys.stdout, commands: TextIO | None = None
) -> int:
    """Entry point; the monitor takes its commands from `commands` (standard input if None)."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "monitor":
        return asyncio.run(run_monitor(args, out, sys.stdin if commands is None else commands))
    if args.command == "local":
        return asyncio.run(run_local(args, out))
    return asyncio.run(run_simulate(args, out))


if __name__ == "__main__":
    sys.exit(main())
