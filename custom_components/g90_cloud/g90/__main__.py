"""Command line: `monitor` a real panel, or `simulate` one.

    python -m custom_components.g90_cloud.g90 monitor --listen 0.0.0.0:5678 \
        --cloud-ip 192.168.1.10 --cloud-port 5678 [--upstream 47.88.7.61:5678]
    python -m custom_components.g90_cloud.g90 simulate --connect 127.0.0.1:5678

`monitor` writes one JSON object per line per decoded message to stdout (logs
go to stderr); `simulate` plays a panel and exits 1 if any reply was wrong.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
import json
import logging
import signal
import sys
from typing import Any, TextIO

from .aio.server import Listener, ListenerBindError, ListenerConfig
from .aio.simulator import simulate
from .scenarios import SCENARIOS
from .status import MessageRecord


def host_port(text: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT`."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


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


async def run_monitor(args: argparse.Namespace, out: TextIO) -> int:
    """Listen until SIGINT/SIGTERM, printing every message."""
    host, port = args.listen
    upstream_host, upstream_port = args.upstream or (None, 5678)
    config = ListenerConfig(
        host=host,
        port=port,
        cloud_ip=args.cloud_ip,
        cloud_port=args.cloud_port,
        upstream_host=upstream_host,
        upstream_port=upstream_port,
        allowed_guids=frozenset(args.allow_guid) if args.allow_guid else None,
    )

    def print_record(record: MessageRecord) -> None:
        for line in record_lines(record):
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()

    listener = Listener(config, on_event=lambda _event, _panel: None, on_message=print_record)
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
    logging.getLogger(__name__).info("Monitoring on %s:%s; Ctrl-C stops", host, listener.port)
    await stop.wait()
    await listener.close()
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

    sim = commands.add_parser("simulate", help="play a panel against a listener")
    sim.add_argument("--connect", type=host_port, required=True, metavar="HOST:PORT")
    sim.add_argument("--guid", default="GA00000A0000000")
    sim.add_argument("--scenario", choices=sorted(SCENARIOS), default="demo")
    sim.add_argument("--expect-port", type=int, help="check the port announced in hello info")
    sim.add_argument("--repeat", type=int, default=1, help="rounds to play (0: forever)")
    sim.add_argument("--speed", type=float, default=1.0, help="shorten pauses by this factor")
    return main


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    runner = run_monitor if args.command == "monitor" else run_simulate
    return asyncio.run(runner(args, out))


if __name__ == "__main__":
    sys.exit(main())
