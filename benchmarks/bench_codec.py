"""Panel-to-cloud decoding throughput: our sans-I/O Session against pyg90alarm 3.1.2.

One synthetic panel stream is built from the captured sample frames (status
changes and notifications dominate, hello and ping arrive periodically) and cut
into TCP-sized reads. Each implementation decodes the whole stream, frames,
messages, events and cloud replies included, several times in one process;
the best run counts.

Fairness rules:

* pyg90alarm keeps nothing between reads, so a frame split across two reads
  is lost to it. It is therefore fed reads that end on frame boundaries (whole
  frames grouped to the same size distribution), while our Session gets reads
  cut at arbitrary byte offsets, with frames straddling reads. Ours is also
  timed on the aligned reads, for reference.
* Debug logging is off for both (their loggers at WARNING).
* Both are timed per read, around the one call that takes it (receive,
  data_received); what the caller then does with the result is outside.
  The calls do not end at the same point: data_received also writes its
  replies (to a transport that only counts them) and creates one asyncio task
  per event for its callbacks, which run outside the timed region; receive
  returns replies and events for its caller to write and deliver. That leans
  our way by a few percent of their time per frame.

Run: `scripts/bench`, or `scripts/run python -m benchmarks.bench_codec` after
`scripts/setup --bench`. G90_BENCH_QUICK=1 makes a short smoke run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
import gc
from importlib.metadata import version
import logging
import os
import platform
import random
import sys
import time
from typing import Any

from pyg90alarm.cloud.notifications import G90CloudNotifications

from benchmarks.reference import CountingProtocol
from custom_components.g90_cloud.g90.session import Session
from tests.g90 import samples

QUICK = os.environ.get("G90_BENCH_QUICK") == "1"
FRAME_COUNT = 10_000 if QUICK else 100_000
REPEATS = 2 if QUICK else 5
SEED = 0x6790
CHUNK_MIN = 1024
CHUNK_MAX = 4096

CLOUD_IP = "192.0.2.10"
CLOUD_PORT = 5678
FIXED_NOW = 1_737_794_080.0
PEER = ("127.0.0.1", 12345)

# Between keep-alives, what a busy panel reports, by relative weight.
EVENT_MIX: tuple[tuple[str, bytes, int], ...] = (
    ("status door open", samples.STATUS_DOOR_OPEN, 45),
    ("status disarmed", samples.STATUS_DISARMED, 15),
    ("notification", samples.NOTIFICATION_ACTIVITY, 35),
    ("command response", samples.COMMAND_RESPONSE, 5),
)
HELLO_EVERY = 10  # a hello at positions 5, 15, 25...
PING_EVERY = 10  # a ping at positions 10, 20, 30...
DISCOVERY_EVERY = 5_000  # a (re)connection: discovery at 0, 5000...


# --- the stream ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workload:
    """The frames, their kinds, and the two ways of cutting them into reads."""

    frames: list[bytes]
    kinds: Counter[str]
    arbitrary: list[bytes]
    """Reads cut at arbitrary offsets (ours)."""
    aligned: list[bytes]
    """Reads of whole frames (pyg90alarm; ours too, for reference)."""

    @property
    def size(self) -> int:
        """Bytes in the stream."""
        return sum(len(frame) for frame in self.frames)


def build_frames(count: int, rng: random.Random) -> tuple[list[bytes], Counter[str]]:
    """`count` panel frames: periodic discovery, hello and ping, events in between."""
    names = [name for name, _, _ in EVENT_MIX]
    frames_by_name = {name: frame for name, frame, _ in EVENT_MIX}
    weights = [weight for _, _, weight in EVENT_MIX]
    frames: list[bytes] = []
    kinds: Counter[str] = Counter()
    for position in range(count):
        if position % DISCOVERY_EVERY == 0:
            name, frame = "hello discovery", samples.HELLO_DISCOVERY
        elif position % HELLO_EVERY == HELLO_EVERY // 2:
            name, frame = "hello", samples.HELLO
        elif position % PING_EVERY == 0:
            name, frame = "ping", samples.PING
        else:
            name = rng.choices(names, weights)[0]
            frame = frames_by_name[name]
        frames.append(frame)
        kinds[name] += 1
    return frames, kinds


def cut_anywhere(stream: bytes, rng: random.Random) -> list[bytes]:
    """Reads of CHUNK_MIN..CHUNK_MAX bytes ending wherever they happen to end."""
    chunks: list[bytes] = []
    position = 0
    while position < len(stream):
        stop = position + rng.randint(CHUNK_MIN, CHUNK_MAX)
        chunks.append(stream[position:stop])
        position = stop
    return chunks


def cut_on_frames(frames: Sequence[bytes], rng: random.Random) -> list[bytes]:
    """Whole frames grouped until a read reaches a size drawn like cut_anywhere's."""
    chunks: list[bytes] = []
    pending: list[bytes] = []
    pending_size = 0
    target = rng.randint(CHUNK_MIN, CHUNK_MAX)
    for frame in frames:
        pending.append(frame)
        pending_size += len(frame)
        if pending_size >= target:
            chunks.append(b"".join(pending))
            pending.clear()
            pending_size = 0
            target = rng.randint(CHUNK_MIN, CHUNK_MAX)
    if pending:
        chunks.append(b"".join(pending))
    return chunks


def straddling(frames: Sequence[bytes], chunks: Sequence[bytes]) -> int:
    """How many frames begin in one read and end in a later one.

    Frames are far shorter than reads, so each cut that misses a frame
    boundary splits exactly one frame.
    """
    boundaries: set[int] = set()
    offset = 0
    for frame in frames:
        offset += len(frame)
        boundaries.add(offset)
    cuts = 0
    offset = 0
    for chunk in chunks[:-1]:
        offset += len(chunk)
        cuts += offset not in boundaries
    return cuts


def build_workload(count: int) -> Workload:
    """The stream and both chunkings, reproducibly."""
    rng = random.Random(SEED)
    frames, kinds = build_frames(count, rng)
    stream = b"".join(frames)
    return Workload(frames, kinds, cut_anywhere(stream, rng), cut_on_frames(frames, rng))


# --- our codec ----------------------------------------------------------------------


@dataclass(slots=True)
class OurTally:
    """What one pass of our Session produced."""

    frames: int = 0
    events: int = 0
    replies: int = 0
    reply_bytes: int = 0


def new_session() -> Session:
    """A session as the listener makes one per panel connection."""
    return Session(cloud_ip=CLOUD_IP, cloud_port=CLOUD_PORT, clock=lambda: FIXED_NOW)


def run_ours(chunks: Sequence[bytes]) -> tuple[float, OurTally]:
    """Seconds spent in receive() over every read, and what came out.

    Timed per read as pyg90alarm's data_received is; counting the results
    happens outside the timed region (see the module notes).
    """
    session = new_session()
    receive = session.receive
    clock = time.perf_counter
    tally = OurTally()
    elapsed = 0.0
    for chunk in chunks:
        started = clock()
        decoded = receive(chunk)
        elapsed += clock() - started
        for _, _, events, reply in decoded:
            tally.frames += 1
            tally.events += len(events)
            if reply:
                tally.replies += 1
                tally.reply_bytes += len(reply)
    if session.error is not None or session.buffered:
        raise RuntimeError(f"stream not fully decoded: {session.error}, {session.buffered} left")
    return elapsed, tally


def our_event_types(chunks: Sequence[bytes]) -> Counter[str]:
    """Event types one untimed pass produces (to show what the work was)."""
    session = new_session()
    types: Counter[str] = Counter()
    for chunk in chunks:
        for _, _, events, _ in session.receive(chunk):
            types.update(event.type.value for event in events)
    return types


# --- pyg90alarm ---------------------------------------------------------------------


class CountingTransport(asyncio.Transport):
    """Stands in for the panel's socket: writes are counted, nothing is sent."""

    def __init__(self) -> None:
        super().__init__({"peername": PEER})
        self.writes = 0
        self.written = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes += 1
        self.written += len(data)

    def close(self) -> None:
        pass


class LogCounter(logging.Handler):
    """Counts what pyg90alarm logs at WARNING and above (errors mean lost frames)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()[:300]


@dataclass(slots=True)
class TheirTally:
    """What one pass of pyg90alarm produced."""

    calls: Counter[str]
    writes: int
    written: int


async def _drain() -> None:
    # One turn runs the callback tasks, the next their done-callbacks.
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def run_theirs(chunks: Sequence[bytes]) -> tuple[float, TheirTally]:
    """Seconds spent in data_received over every read, and what came out."""
    calls: Counter[str] = Counter()
    notifications = G90CloudNotifications(
        lambda: CountingProtocol(calls),
        local_ip="127.0.0.1",  # never bound: no listen() here
        # The hello info reply carries the local port: the same as ours announces.
        local_port=CLOUD_PORT,
        cloud_ip=CLOUD_IP,
        cloud_port=CLOUD_PORT,
    )
    transport = CountingTransport()
    notifications.connection_made(transport)
    data_received = notifications.data_received
    clock = time.perf_counter
    elapsed = 0.0
    for chunk in chunks:
        started = clock()
        data_received(chunk)
        elapsed += clock() - started
        await _drain()
    await _drain()
    return elapsed, TheirTally(calls, transport.writes, transport.written)


# --- measuring ----------------------------------------------------------------------


def best_of(runs: list[float]) -> float:
    """The fastest run (least disturbed by the rest of the machine)."""
    return min(runs)


def rate(frames: int, seconds: float) -> str:
    """Frames per second, and microseconds per frame."""
    return f"{frames / seconds:>12,.0f} frames/s  ({seconds / frames * 1e6:6.2f} µs/frame)"


def silence_logging() -> LogCounter:
    """Both at WARNING (no debug formatting); pyg90alarm's warnings counted, not printed."""
    logging.getLogger("custom_components").setLevel(logging.WARNING)
    theirs = logging.getLogger("pyg90alarm")
    theirs.setLevel(logging.WARNING)
    theirs.propagate = False
    counter = LogCounter()
    theirs.addHandler(counter)
    return counter


def timed(step: Callable[[], tuple[float, Any]], runs: list[float]) -> Any:
    """Run one measurement after a collection; keep its time, return its tally."""
    gc.collect()
    seconds, tally = step()
    runs.append(seconds)
    return tally


async def measure(work: Workload, log_counter: LogCounter) -> bool:
    """Time both implementations, interleaved, print the comparison; False if a check failed."""
    frames = len(work.frames)
    ours_arbitrary: list[float] = []
    ours_aligned: list[float] = []
    theirs: list[float] = []
    our_tally = OurTally()
    their_tally = TheirTally(Counter(), 0, 0)
    for _ in range(REPEATS):
        our_tally = timed(lambda: run_ours(work.arbitrary), ours_arbitrary)
        timed(lambda: run_ours(work.aligned), ours_aligned)
        gc.collect()
        seconds, their_tally = await run_theirs(work.aligned)
        theirs.append(seconds)

    ours_best = best_of(ours_arbitrary)
    theirs_best = best_of(theirs)
    print()
    print(f"best of {REPEATS} runs:")
    print(f"  ours, arbitrary reads:        {rate(frames, ours_best)}")
    print(f"  ours, frame-aligned reads:    {rate(frames, best_of(ours_aligned))}")
    print(f"  pyg90alarm, frame-aligned:    {rate(frames, theirs_best)}")

    kinds = work.kinds
    types = our_event_types(work.arbitrary)
    print()
    print("work done (last run of each):")
    print(
        f"  ours:       {our_tally.frames:,} frames, {our_tally.events:,} events, "
        f"{our_tally.replies:,} replies ({our_tally.reply_bytes:,} bytes)"
    )
    print("              events: " + ", ".join(f"{k} {v:,}" for k, v in sorted(types.items())))
    calls = their_tally.calls
    print(
        f"  pyg90alarm: {sum(calls.values()):,} callbacks, {their_tally.writes:,} reply "
        f"writes ({their_tally.written:,} bytes), {log_counter.count} warnings/errors logged"
    )
    print("              callbacks: " + ", ".join(f"{k} {v:,}" for k, v in sorted(calls.items())))

    expected_calls = Counter(
        on_armdisarm=kinds["status disarmed"],
        on_door_open_close=kinds["status door open"],
        on_sensor_activity=kinds["notification"],
    )
    expected_writes = 3 * kinds["hello"] + kinds["hello discovery"] + kinds["ping"]
    problems: list[str] = []
    if our_tally.frames != frames:
        problems.append(f"ours decoded {our_tally.frames} of {frames} frames")
    if (
        our_tally.events
        != kinds["status disarmed"] + kinds["status door open"] + kinds["notification"]
    ):
        problems.append("ours produced an unexpected number of events")
    if calls != expected_calls:
        problems.append(f"pyg90alarm callbacks {dict(calls)}, expected {dict(expected_calls)}")
    if their_tally.writes != expected_writes or their_tally.written != our_tally.reply_bytes:
        problems.append("pyg90alarm's replies differ from ours")
    if log_counter.count:
        problems.append(f"pyg90alarm logged {log_counter.count} problems: {log_counter.first}")
    if problems:
        print("  CHECK FAILED: " + "; ".join(problems))
    else:
        print("  check: both decoded every frame, raised every event and sent the same reply bytes")

    ratio = (frames / ours_best) / (frames / theirs_best)
    print()
    print(f"codec ratio vs pyg90alarm: {ratio:.1f}")
    return not problems


def header(work: Workload) -> None:
    """What is measured, on what."""
    print(
        f"G90 cloud codec: panel-to-cloud decoding, ours vs pyg90alarm {version('pyg90alarm')}"
        f"{'  [quick]' if QUICK else ''}"
    )
    print(f"  Python {platform.python_version()} ({sys.implementation.name}), {platform.machine()}")
    mix = ", ".join(f"{name} {count:,}" for name, count in work.kinds.most_common())
    print(f"  stream: {len(work.frames):,} frames, {work.size:,} bytes: {mix}")
    print(
        f"  ours: {len(work.arbitrary):,} reads of {CHUNK_MIN}-{CHUNK_MAX} bytes cut at arbitrary "
        f"offsets ({straddling(work.frames, work.arbitrary):,} frames straddle two reads); "
        "a fresh Session per run: framing, decoding, events, replies"
    )
    print(
        f"  pyg90alarm: {len(work.aligned):,} reads of whole frames grouped to the same sizes "
        "(it keeps no buffer between reads, so a split frame would be lost to it); "
        "G90CloudNotifications standalone (no upstream), data_received per read"
    )
    print(
        "  debug logging off for both (loggers at WARNING); pyg90alarm's callback tasks "
        "are created inside the timed region and run outside it"
    )


def main() -> None:
    """Build the workload, measure, report."""
    log_counter = silence_logging()
    work = build_workload(FRAME_COUNT)
    header(work)
    if not asyncio.run(measure(work, log_counter)):
        sys.exit(1)


if __name__ == "__main__":
    main()
